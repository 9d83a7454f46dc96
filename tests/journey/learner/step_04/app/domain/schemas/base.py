"""Building blocks shared by every schema."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class BaseSchema(BaseModel):
    """Parent of all API schemas.

    `from_attributes` lets a schema be built straight from an ORM object, and
    surrounding whitespace is trimmed from every string.
    """

    model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)


class IDSchema(BaseSchema):
    """Mixin: the resource's UUID."""

    id: UUID


class TimestampSchema(BaseSchema):
    """Mixin: when the resource was created and last changed."""

    created_at: datetime
    updated_at: datetime

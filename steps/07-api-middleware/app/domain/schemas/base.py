"""Building blocks shared by every schema."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class BaseSchema(BaseModel):
    """Base of all API schemas: reads ORM objects and trims stray whitespace."""

    model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)


class IDSchema(BaseSchema):
    """Adds the resource id."""

    id: uuid.UUID


class TimestampSchema(BaseSchema):
    """Adds the audit timestamps."""

    created_at: datetime
    updated_at: datetime

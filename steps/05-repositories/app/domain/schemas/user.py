"""Request and response schemas of the user resource.

Each request schema forbids unknown fields, so a client cannot slip in a field
such as `role` or `is_active` that the endpoint does not mean to accept.
"""

from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from app.domain.models.user import UserRole, normalize_email
from app.domain.schemas.base import BaseSchema, IDSchema, TimestampSchema


def _normalize_text(value: object) -> object:
    """`normalize_email` for text; anything else goes on to EmailStr, which refuses it."""
    return normalize_email(value) if isinstance(value, str) else value


# Normalised before EmailStr validates, so that what is validated is what is stored:
# NFKC turns a full-width at sign (U+FF20), which email-validator accepts before the
# @, into a second "@". And again after, because email-validator rewrites the domain
# (a Punycode domain comes back in Unicode): the stored form is normalize_email's.
Email = Annotated[EmailStr, BeforeValidator(_normalize_text), AfterValidator(normalize_email)]
FullName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# Passwords are never trimmed: "secret " and "secret" are different passwords.
Password = Annotated[str, StringConstraints(min_length=8, max_length=128, strip_whitespace=False)]


class UserRegister(BaseSchema):
    """Self-registration: always creates a plain `user`."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName


class UserCreate(UserRegister):
    """Creation by an admin, who may choose the role."""

    role: UserRole = UserRole.USER


class UserUpdate(BaseSchema):
    """Partial update by an admin; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None
    role: UserRole | None = None
    is_active: bool | None = None


class UserSelfUpdate(BaseSchema):
    """What users may change about themselves.

    A new `password` needs `current_password`: a stolen access token alone must
    not be enough to take the account over.
    """

    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None
    password: Password | None = None
    current_password: Annotated[str, StringConstraints(max_length=128)] | None = None

    @model_validator(mode="after")
    def _current_password_with_a_new_one(self) -> Self:
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to set a new password")
        return self


class UserResponse(IDSchema, TimestampSchema):
    """A user as the API shows it: never the password hash."""

    email: str
    full_name: str
    role: UserRole
    is_active: bool


class UserListResponse(BaseSchema):
    """One page of users."""

    items: list[UserResponse]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    limit: int = Field(ge=1)
    total_pages: int = Field(ge=0)

"""Request and response schemas of the user resource.

Request schemas refuse fields they do not know: a registration carrying
`"role": "admin"` is a 422, not a silent privilege escalation.
"""

from typing import Annotated

from pydantic import (
    ConfigDict,
    EmailStr,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.domain.models.user import UserRole, normalize_email
from app.domain.schemas.base import BaseSchema, IDSchema, TimestampSchema

# Whitespace is part of a password, so it is never stripped (BaseSchema strips
# every other string).
PasswordStr = Annotated[
    str, StringConstraints(min_length=8, max_length=128, strip_whitespace=False)
]
FullNameStr = Annotated[str, StringConstraints(min_length=1, max_length=100)]

STRICT_INPUT = ConfigDict(extra="forbid")


class UserRegister(BaseSchema):
    """Body of a self-registration; the new account is always a plain user."""

    model_config = STRICT_INPUT

    email: EmailStr
    password: PasswordStr
    full_name: FullNameStr

    @field_validator("email", mode="before")
    @classmethod
    def _fold_before_checking(cls, email: object) -> object:
        # NFKC turns a full-width at sign into a real one: fold first, so that
        # EmailStr checks the address that will be stored.
        return normalize_email(email) if isinstance(email, str) else email

    @field_validator("email")
    @classmethod
    def _lowercase_email(cls, email: str) -> str:
        # EmailStr leaves full-width letters before the @ alone; fold them too.
        return normalize_email(email)


class UserCreate(UserRegister):
    """Body of an admin creating a user, who may pick the role."""

    role: UserRole = UserRole.USER


class UserUpdate(BaseSchema):
    """Admin's partial update: only the fields sent are changed."""

    model_config = STRICT_INPUT

    full_name: FullNameStr | None = None
    role: UserRole | None = None
    is_active: bool | None = None


class UserSelfUpdate(BaseSchema):
    """What users may change on their own account."""

    model_config = STRICT_INPUT

    full_name: FullNameStr | None = None
    password: PasswordStr | None = None
    current_password: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _needs_current_password(self) -> "UserSelfUpdate":
        # Proof of knowing the old password: a leaked token is not enough.
        if self.password is not None and not self.current_password:
            raise ValueError("give current_password to set a new password")
        return self


class UserResponse(IDSchema, TimestampSchema):
    """A user as the API returns it. There is deliberately no password field."""

    email: str
    full_name: str
    role: UserRole
    is_active: bool


class UserListResponse(BaseSchema):
    """One page of a user listing."""

    items: list[UserResponse] = Field(default_factory=list)
    total: NonNegativeInt
    page: PositiveInt
    limit: PositiveInt
    total_pages: NonNegativeInt

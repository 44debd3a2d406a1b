"""API shapes for organisations, users, memberships and sign-in; inputs refuse unknown fields."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, model_validator

from exohub.web.fields import CountryCode, Email, Name, Password, ShortName
from exohub.web.tenancy import OrganisationKind, Role


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganisationCreate(Input):
    name: Name
    kind: OrganisationKind
    country_code: CountryCode
    city: ShortName | None = None


class OrganisationUpdate(Input):
    name: Name | None = None
    city: ShortName | None = None


class OrganisationRead(Output):
    id: int
    name: str
    kind: OrganisationKind
    country_code: str
    city: str | None
    created_at: datetime


class MembershipRead(Output):
    id: int
    organisation_id: int
    organisation_name: str
    role: Role


class UserRead(Output):
    id: int
    email: str
    full_name: str
    is_active: bool
    is_superuser: bool
    created_at: datetime


class UserMe(UserRead):
    memberships: list[MembershipRead]


class UserUpdate(Input):
    full_name: Name | None = None
    is_active: bool | None = None


class MemberCreate(Input):
    """Give a person a role in the organisation; a new account needs an initial password."""

    email: Email
    role: Role
    full_name: Name | None = None
    password: Password | None = None


class MemberRead(Output):
    id: int
    user_id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime


class UserCreate(Input):
    email: Email
    full_name: Name
    password: Password
    is_superuser: bool = False


class PasswordChange(Input):
    current_password: Password
    new_password: Password

    @model_validator(mode="after")
    def _differs(self) -> "PasswordChange":
        if self.current_password == self.new_password:
            raise ValueError("new_password must differ from current_password")
        return self


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int

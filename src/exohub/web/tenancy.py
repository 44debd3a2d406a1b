"""Roles, permissions and the tenant scope: the one mechanism that keeps a clinic's data inside the clinic.

A caller is a :class:`Principal`: a user with roles in organisations. Each role grants permissions
(:data:`ROLE_PERMISSIONS`, the single table to extend when a domain adds one). A route asks for a
permission and receives a :class:`TenantScope`: the organisations in which the caller holds it. Every
query for tenant-owned rows goes through :meth:`TenantScope.where`, and every single object through
:meth:`TenantScope.check` (or :meth:`TenantScope.referenced`, for an id a request's body names), which
answers *not found* for another organisation's object, so its existence never leaks.
"""

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from exohub.web.errors import NotFoundError, PermissionDeniedError
from exohub.web.roles import OrganisationKind, Permission, Role

__all__ = [
    "ROLE_PERMISSIONS",
    "SUPERUSER_PERMISSIONS",
    "SYSTEM",
    "OrganisationKind",
    "Permission",
    "Principal",
    "Role",
    "TenantScope",
]


class Owned(Protocol):
    """An object that one organisation owns (a patient, a device unit, a therapy session...)."""

    @property
    def organisation_id(self) -> int: ...


OwnedT = TypeVar("OwnedT", bound=Owned)


_EVERY_ROLE = frozenset({Permission.MEMBERS_READ})

# Gait models: everyone who decides about them reads the registry; the people who run devices or
# evaluate models download the ONNX files; researchers publish (admins manage people, not models).
_MODEL_USER = frozenset({Permission.MODEL_READ, Permission.MODEL_DOWNLOAD})

# Patients and their sessions: the people who treat them. Admins manage the clinic's devices and people but
# never read identifiable patient data.
_TREATING = frozenset({Permission.PATIENT_READ, Permission.PATIENT_WRITE, Permission.DEVICE_READ})
_DEVICE_OWNER = frozenset({Permission.DEVICE_READ, Permission.DEVICE_MANAGE})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _EVERY_ROLE
    | _DEVICE_OWNER
    | {Permission.ORGANISATION_MANAGE, Permission.AUDIT_READ, Permission.MODEL_READ},
    Role.THERAPIST: _EVERY_ROLE | _MODEL_USER | _TREATING,
    Role.CLINICIAN: _EVERY_ROLE | _MODEL_USER | _TREATING,
    Role.RESEARCHER: _EVERY_ROLE | _MODEL_USER | {Permission.MODEL_PUBLISH},
    Role.FLEET_MANAGER: _EVERY_ROLE | _MODEL_USER | _DEVICE_OWNER,
    Role.PROGRAMME_MANAGER: _EVERY_ROLE | {Permission.ALLIANCE_MANAGE},
    Role.INSTRUCTOR: _EVERY_ROLE,
    Role.AUDITOR: _EVERY_ROLE | {Permission.AUDIT_READ, Permission.MODEL_READ},
}
"""What each role may do inside the organisations where the user holds it."""

SUPERUSER_PERMISSIONS = frozenset({Permission.ORGANISATION_MANAGE, Permission.MEMBERS_READ, Permission.ALLIANCE_MANAGE})
"""What the platform operator may do in every organisation. Never identifiable patient data."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who they are and which roles they hold where."""

    user_id: int
    email: str
    full_name: str
    is_superuser: bool
    roles: frozenset[tuple[int, Role]]

    @property
    def organisation_ids(self) -> frozenset[int]:
        """The organisations the caller is a member of, with any role."""
        return frozenset(organisation_id for organisation_id, _ in self.roles)

    def roles_in(self, organisation_id: int) -> frozenset[Role]:
        """The caller's roles in one organisation."""
        return frozenset(role for org_id, role in self.roles if org_id == organisation_id)

    def has_role(self, role: Role) -> bool:
        """Whether the caller holds ``role`` in any organisation."""
        return any(held == role for _, held in self.roles)

    def can(self, permission: Permission, organisation_id: int) -> bool:
        """Whether the caller holds ``permission`` in ``organisation_id``."""
        if self.is_superuser and permission in SUPERUSER_PERMISSIONS:
            return True
        return any(permission in ROLE_PERMISSIONS[role] for role in self.roles_in(organisation_id))

    def scope_everywhere(self) -> "TenantScope":
        """The platform operator's scope for managing any organisation's members."""
        if not self.is_superuser:
            raise PermissionDeniedError("Only the platform operator acts in every organisation.")
        return self.scope(Permission.ORGANISATION_MANAGE)

    def scope(self, permission: Permission) -> "TenantScope":
        """The organisations in which the caller holds ``permission``."""
        return TenantScope(
            principal=self,
            permission=permission,
            organisation_ids=frozenset(org_id for org_id, _ in self.roles if self.can(permission, org_id)),
            everywhere=self.is_superuser and permission in SUPERUSER_PERMISSIONS,
        )


@dataclass(frozen=True)
class TenantScope:
    """The organisations a caller may act in for one permission."""

    principal: Principal
    permission: Permission
    organisation_ids: frozenset[int]
    everywhere: bool = False

    def where(self, organisation_column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        """A filter that keeps only rows owned by organisations in scope."""
        if self.everywhere:
            return organisation_column.is_not(None)
        return organisation_column.in_(sorted(self.organisation_ids))

    def allows(self, organisation_id: int) -> bool:
        """Whether an object owned by ``organisation_id`` is in scope."""
        return self.everywhere or organisation_id in self.organisation_ids

    def check(self, organisation_id: int | None, *, what: str) -> None:
        """Raise unless an object owned by ``organisation_id`` is in scope.

        Another organisation's object (or a missing one, ``None``) is *not found*; an object of the
        caller's own organisation that their role may not touch is *permission denied*.
        """
        if organisation_id is not None and self.allows(organisation_id):
            return
        if organisation_id is not None and organisation_id in self.principal.organisation_ids:
            raise PermissionDeniedError(
                f"Your role in this organisation does not allow {self.permission.value!r} on {what}."
            )
        raise NotFoundError(f"{what} not found.")

    def referenced(self, obj: OwnedT | None, *, what: str, field: str) -> OwnedT:
        """Return ``obj``, an object a request's body refers to by id, or raise NotFoundError naming ``field``.

        An id of another organisation's object, or of none, answers 404 as it would in a path, with the same
        message either way: the caller learns nothing of what other clinics hold.
        """
        if obj is None or not self.allows(obj.organisation_id):
            raise NotFoundError(f"{what} not found.", field=field)
        return obj


SYSTEM = Principal(user_id=0, email="system", full_name="exohub command line", is_superuser=True, roles=frozenset())
"""The command line and the demo seeder: trusted local actors with the platform operator's rights."""

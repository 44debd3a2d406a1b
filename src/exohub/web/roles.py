"""The consortium's vocabulary: kinds of organisation, roles in them, and the permissions roles grant.

Plain enums with no web or database import, so the command line can offer them without loading the service;
:mod:`exohub.web.tenancy` maps roles to permissions and scopes queries with them.
"""

from enum import StrEnum


class OrganisationKind(StrEnum):
    CLINIC = "clinic"
    HOSPITAL = "hospital"
    MANUFACTURER = "manufacturer"
    UNIVERSITY = "university"
    GOVERNMENT_AGENCY = "government_agency"
    NGO = "ngo"
    ACADEMY = "academy"


class Role(StrEnum):
    ADMIN = "admin"
    THERAPIST = "therapist"
    CLINICIAN = "clinician"
    RESEARCHER = "researcher"
    FLEET_MANAGER = "fleet_manager"
    PROGRAMME_MANAGER = "programme_manager"
    INSTRUCTOR = "instructor"
    AUDITOR = "auditor"


class Permission(StrEnum):
    ORGANISATION_MANAGE = "organisation:manage"
    MEMBERS_READ = "members:read"
    AUDIT_READ = "audit:read"
    PATIENT_READ = "patient:read"
    PATIENT_WRITE = "patient:write"
    ALLIANCE_MANAGE = "alliance:manage"
    MODEL_READ = "model:read"
    MODEL_DOWNLOAD = "model:download"
    MODEL_PUBLISH = "model:publish"
    DEVICE_READ = "device:read"
    DEVICE_MANAGE = "device:manage"

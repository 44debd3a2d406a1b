"""Diagnoses an exoskeleton clinic sees, and the spinal-cord-injury classification (ISNCSCI) it records.

Pure data and checkers: nothing here touches the database or the web framework, so the same rules serve
forms, the API, imports and reports.

The catalogue uses WHO ICD-10 codes with their WHO (2019 edition) titles. Codes from national
modifications such as ICD-10-CM (``S34.10``, ``Z96.64``) pass :func:`check_icd10_code` and are grouped and
labelled by their three-character category, which WHO ICD-10 shares.
"""

import re
from dataclasses import dataclass
from typing import Final, Literal

from exohub.web.errors import InvalidInputError

ConditionGroup = Literal[
    "stroke",
    "spinal_cord_injury",
    "multiple_sclerosis",
    "cerebral_palsy",
    "parkinsons",
    "brain_injury",
    "other",
]
CONDITION_GROUPS: Final[tuple[ConditionGroup, ...]] = (
    "stroke",
    "spinal_cord_injury",
    "multiple_sclerosis",
    "cerebral_palsy",
    "parkinsons",
    "brain_injury",
    "other",
)


@dataclass(frozen=True, slots=True)
class Condition:
    """One ICD-10 code (category or subcategory), its WHO title and the clinic's grouping."""

    code: str
    label: str
    group: ConditionGroup


CONDITIONS: Final[tuple[Condition, ...]] = (
    # Stroke (I60-I64) and its sequelae (I69).
    Condition("I60", "Subarachnoid haemorrhage", "stroke"),
    Condition("I60.9", "Subarachnoid haemorrhage, unspecified", "stroke"),
    Condition("I61", "Intracerebral haemorrhage", "stroke"),
    Condition("I61.0", "Intracerebral haemorrhage in hemisphere, subcortical", "stroke"),
    Condition("I61.1", "Intracerebral haemorrhage in hemisphere, cortical", "stroke"),
    Condition("I61.9", "Intracerebral haemorrhage, unspecified", "stroke"),
    Condition("I63", "Cerebral infarction", "stroke"),
    Condition("I63.3", "Cerebral infarction due to thrombosis of cerebral arteries", "stroke"),
    Condition("I63.4", "Cerebral infarction due to embolism of cerebral arteries", "stroke"),
    Condition("I63.5", "Cerebral infarction due to unspecified occlusion or stenosis of cerebral arteries", "stroke"),
    Condition("I63.9", "Cerebral infarction, unspecified", "stroke"),
    Condition("I64", "Stroke, not specified as haemorrhage or infarction", "stroke"),
    Condition("I69", "Sequelae of cerebrovascular disease", "stroke"),
    Condition("I69.0", "Sequelae of subarachnoid haemorrhage", "stroke"),
    Condition("I69.1", "Sequelae of intracerebral haemorrhage", "stroke"),
    Condition("I69.3", "Sequelae of cerebral infarction", "stroke"),
    Condition("I69.4", "Sequelae of stroke, not specified as haemorrhage or infarction", "stroke"),
    # Spinal cord injury: traumatic (S14.1, S24.1, S34.0-S34.1, T91.3), its paralysis (G82) and
    # non-traumatic myelopathy (G95), which clinics treat in the same programme.
    Condition("S14.1", "Other and unspecified injuries of cervical spinal cord", "spinal_cord_injury"),
    Condition("S24.1", "Other and unspecified injuries of thoracic spinal cord", "spinal_cord_injury"),
    Condition("S34.0", "Concussion and oedema of lumbar spinal cord", "spinal_cord_injury"),
    Condition("S34.1", "Other injury of lumbar spinal cord", "spinal_cord_injury"),
    Condition("T91.3", "Sequelae of injury of spinal cord", "spinal_cord_injury"),
    Condition("G82", "Paraplegia and tetraplegia", "spinal_cord_injury"),
    Condition("G82.0", "Flaccid paraplegia", "spinal_cord_injury"),
    Condition("G82.1", "Spastic paraplegia", "spinal_cord_injury"),
    Condition("G82.2", "Paraplegia, unspecified", "spinal_cord_injury"),
    Condition("G82.3", "Flaccid tetraplegia", "spinal_cord_injury"),
    Condition("G82.4", "Spastic tetraplegia", "spinal_cord_injury"),
    Condition("G82.5", "Tetraplegia, unspecified", "spinal_cord_injury"),
    Condition("G95", "Other diseases of spinal cord", "spinal_cord_injury"),
    Condition("G95.8", "Other specified diseases of spinal cord", "spinal_cord_injury"),
    Condition("G95.9", "Disease of spinal cord, unspecified", "spinal_cord_injury"),
    # Multiple sclerosis.
    Condition("G35", "Multiple sclerosis", "multiple_sclerosis"),
    # Cerebral palsy.
    Condition("G80", "Cerebral palsy", "cerebral_palsy"),
    Condition("G80.0", "Spastic quadriplegic cerebral palsy", "cerebral_palsy"),
    Condition("G80.1", "Spastic diplegic cerebral palsy", "cerebral_palsy"),
    Condition("G80.2", "Spastic hemiplegic cerebral palsy", "cerebral_palsy"),
    Condition("G80.3", "Dyskinetic cerebral palsy", "cerebral_palsy"),
    Condition("G80.4", "Ataxic cerebral palsy", "cerebral_palsy"),
    Condition("G80.8", "Other cerebral palsy", "cerebral_palsy"),
    Condition("G80.9", "Cerebral palsy, unspecified", "cerebral_palsy"),
    # Parkinson disease.
    Condition("G20", "Parkinson disease", "parkinsons"),
    # Traumatic brain injury and its sequelae.
    Condition("S06", "Intracranial injury", "brain_injury"),
    Condition("S06.2", "Diffuse brain injury", "brain_injury"),
    Condition("S06.3", "Focal brain injury", "brain_injury"),
    Condition("S06.9", "Intracranial injury, unspecified", "brain_injury"),
    Condition("T90.5", "Sequelae of intracranial injury", "brain_injury"),
    # Other neuromuscular and orthopaedic indications.
    Condition("G61.0", "Guillain-Barré syndrome", "other"),
    Condition("G71.0", "Muscular dystrophy", "other"),
    Condition("G81", "Hemiplegia", "other"),
    Condition("G81.9", "Hemiplegia, unspecified", "other"),
    # WHO ICD-10 stops at Z96.6; ICD-10-CM splits it (Z96.64 hip, Z96.65 knee), which the checker accepts.
    Condition("Z96", "Presence of other functional implants", "other"),
    Condition("Z96.6", "Presence of orthopaedic joint implants", "other"),
)

_BY_CODE: Final[dict[str, Condition]] = {condition.code: condition for condition in CONDITIONS}
# Every code of a category is in one group, so the category decides (G61.0 -> G61 -> other).
_GROUP_BY_CATEGORY: Final[dict[str, ConditionGroup]] = {condition.code[:3]: condition.group for condition in CONDITIONS}

# Letter, two digits, then optionally a dot and 1-4 alphanumerics (WHO uses one; ICD-10-CM up to four).
_ICD10_PATTERN: Final = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?")


def check_icd10_code(code: str) -> str:
    """Return ``code`` stripped and upper-cased if it has the ICD-10 shape, else raise.

    Accepts a category (``G35``) or a subcategory with a dot and 1-4 characters (``I63.9``, ``S34.10``).
    """
    normalised = code.strip().upper()
    if not _ICD10_PATTERN.fullmatch(normalised):
        raise InvalidInputError(
            f"condition_code must be an ICD-10 code: a letter, two digits, then optionally '.' and 1-4 letters "
            f"or digits (e.g. I63.9, G35, S14.1); got {code!r}.",
            field="condition_code",
        )
    return normalised


def _category(normalised_code: str) -> str:
    return normalised_code[:3]


def condition_label(code: str) -> str | None:
    """The catalogue title of ``code``, else of its three-character category, else ``None``."""
    normalised = check_icd10_code(code)
    condition = _BY_CODE.get(normalised) or _BY_CODE.get(_category(normalised))
    return condition.label if condition else None


def condition_group(code: str) -> ConditionGroup:
    """The clinic group of ``code``'s three-character category; ``"other"`` when the category is unknown."""
    return _GROUP_BY_CATEGORY.get(_category(check_icd10_code(code)), "other")


# ASIA Impairment Scale, from the International Standards for Neurological Classification of SCI (ISNCSCI).
AIS_GRADES: Final[dict[str, str]] = {
    "A": "Complete: no sensory or motor function preserved in the sacral segments S4-S5.",
    "B": "Sensory incomplete: sensory but no motor function preserved below the neurological level, "
    "including the sacral segments S4-S5.",
    "C": "Motor incomplete: motor function preserved below the neurological level; fewer than half of the "
    "key muscles below the single neurological level have a muscle grade of 3 or more.",
    "D": "Motor incomplete: motor function preserved below the neurological level; at least half of the "
    "key muscles below the neurological level have a muscle grade of 3 or more.",
    "E": "Normal: sensory and motor function graded normal in all segments, in a person who had prior deficits.",
}

NEUROLOGICAL_LEVELS: Final[tuple[str, ...]] = (
    *(f"C{i}" for i in range(1, 9)),
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 6)),
    *(f"S{i}" for i in range(1, 6)),
)


def check_ais_grade(grade: str) -> str:
    """Return the ASIA Impairment Scale grade (A-E) upper-cased, else raise."""
    normalised = grade.strip().upper()
    if normalised not in AIS_GRADES:
        raise InvalidInputError(
            f"ais_grade must be one of A, B, C, D, E (ASIA Impairment Scale); got {grade!r}.", field="ais_grade"
        )
    return normalised


def check_neurological_level(level: str) -> str:
    """Return the neurological level of injury (C1-C8, T1-T12, L1-L5, S1-S5) upper-cased, else raise."""
    normalised = level.strip().upper()
    if normalised not in NEUROLOGICAL_LEVELS:
        raise InvalidInputError(
            f"neurological_level must be a spinal segment C1-C8, T1-T12, L1-L5 or S1-S5; got {level!r}.",
            field="neurological_level",
        )
    return normalised

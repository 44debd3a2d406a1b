"""Standard outcome measures of gait rehabilitation: definitions, plausible ranges, checks and codes.

Pure data and checkers: nothing here touches the database or the web framework.

Each measure carries a coding for FHIR ``Observation.code``: LOINC where a LOINC term exists and was checked
(Timed Up and Go 89423-8, six-minute walk 64098-7), otherwise the project code system with the
:class:`MeasureCode` value. No LOINC term was found for the 10-metre walk, the Berg Balance Scale total or the
Functional Ambulation Category, so none is claimed.

:mod:`exohub.web.clinic.mcid` holds the published minimal clinically important differences (MCID) and minimal
detectable changes (MDC) of these measures, and turns a change between two assessments into one sentence.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from exohub.web.errors import InvalidInputError

PROJECT_CODE_SYSTEM: Final = "https://exohub.org/fhir/CodeSystem/outcome-measure"
LOINC_SYSTEM: Final = "http://loinc.org"


class MeasureCode(StrEnum):
    TEN_METRE_WALK_COMFORTABLE = "10mwt_comfortable"
    TEN_METRE_WALK_FAST = "10mwt_fast"
    SIX_MINUTE_WALK = "6mwt"
    TIMED_UP_AND_GO = "tug"
    BERG_BALANCE = "berg"
    FUNCTIONAL_AMBULATION_CATEGORY = "fac"


@dataclass(frozen=True, slots=True)
class Coding:
    """A FHIR Coding: code system URI, code and human-readable display."""

    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class MeasureDefinition:
    """One outcome measure: how it is recorded (UCUM unit, bounds, precision) and how it is coded.

    ``minimum`` and ``maximum`` are inclusive. ``items`` lists the sub-items scored 0-4 whose sum is the total
    (Berg only); ``levels`` lists the description of each ordinal level, index = score (FAC only).
    """

    code: MeasureCode
    name: str
    short_name: str
    unit: str
    minimum: float
    maximum: float
    integer: bool
    decimals: int
    higher_is_better: bool
    coding: Coding
    items: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    @property
    def unit_label(self) -> str:
        """The unit as a therapist reads it (``{score}`` is UCUM's annotation for a dimensionless score)."""
        if self.levels:
            return ""  # an ordinal category (FAC 0-5): a level, not a sum of points
        return "points" if self.unit == "{score}" else self.unit


def _project_coding(code: MeasureCode, display: str) -> Coding:
    return Coding(system=PROJECT_CODE_SYSTEM, code=code.value, display=display)


# Berg Balance Scale items in the published order (Berg et al. 1989, Physiother Can 41:304-311).
BERG_ITEMS: Final[tuple[str, ...]] = (
    "Sitting to standing",
    "Standing unsupported",
    "Sitting with back unsupported but feet supported on floor or on a stool",
    "Standing to sitting",
    "Transfers",
    "Standing unsupported with eyes closed",
    "Standing unsupported with feet together",
    "Reaching forward with outstretched arm while standing",
    "Retrieving object from floor from a standing position",
    "Turning to look behind over left and right shoulders while standing",
    "Turning 360 degrees",
    "Placing alternate foot on step or stool while standing unsupported",
    "Standing unsupported one foot in front",
    "Standing on one leg",
)
BERG_ITEM_MAXIMUM: Final = 4

# Functional Ambulation Category levels 0-5 (Holden et al. 1984, Phys Ther 64(1):35-40).
FAC_LEVELS: Final[tuple[str, ...]] = (
    "Non-functional: cannot walk, or walks only in parallel bars or with the help of more than one person.",
    "Dependent, level II: needs continuous manual contact of one person to bear weight and keep balance.",
    "Dependent, level I: needs intermittent or light continuous touch of one person for balance or coordination.",
    "Dependent, supervision: walks on level ground without manual contact but needs a person standing by.",
    "Independent, level surfaces only: walks alone on level ground but needs help on stairs, slopes or "
    "uneven surfaces.",
    "Independent: walks alone anywhere, including stairs, slopes and uneven surfaces.",
)

MEASURES: Final[dict[MeasureCode, MeasureDefinition]] = {
    # Gait speed bounds: 0.01 m/s is 10 m in about 17 minutes, slower than anyone who completes the test;
    # 3.0 m/s is above the walk-to-run transition (about 2 m/s) and above healthy adults' fast-pace speeds,
    # so a larger value is a typing error (e.g. seconds entered as speed) or running.
    MeasureCode.TEN_METRE_WALK_COMFORTABLE: MeasureDefinition(
        code=MeasureCode.TEN_METRE_WALK_COMFORTABLE,
        name="10-metre walk test, comfortable speed",
        short_name="10MWT (comfortable)",
        unit="m/s",
        minimum=0.01,
        maximum=3.0,
        integer=False,
        decimals=2,
        higher_is_better=True,
        coding=_project_coding(MeasureCode.TEN_METRE_WALK_COMFORTABLE, "10-metre walk test, comfortable speed"),
    ),
    MeasureCode.TEN_METRE_WALK_FAST: MeasureDefinition(
        code=MeasureCode.TEN_METRE_WALK_FAST,
        name="10-metre walk test, fast speed",
        short_name="10MWT (fast)",
        unit="m/s",
        minimum=0.01,
        maximum=3.0,
        integer=False,
        decimals=2,
        higher_is_better=True,
        coding=_project_coding(MeasureCode.TEN_METRE_WALK_FAST, "10-metre walk test, fast speed"),
    ),
    # 0 m records a patient who could not walk; 1000 m in 6 minutes is 2.8 m/s sustained, i.e. running.
    MeasureCode.SIX_MINUTE_WALK: MeasureDefinition(
        code=MeasureCode.SIX_MINUTE_WALK,
        name="Six-minute walk test distance",
        short_name="6MWT",
        unit="m",
        minimum=0.0,
        maximum=1000.0,
        integer=False,
        decimals=0,
        higher_is_better=True,
        coding=Coding(system=LOINC_SYSTEM, code="64098-7", display="Six minute walk test"),
    ),
    # Rising, walking 3 m, turning, walking back and sitting cannot take under 1 s; beyond 10 minutes the
    # test was not completed as a timed test.
    MeasureCode.TIMED_UP_AND_GO: MeasureDefinition(
        code=MeasureCode.TIMED_UP_AND_GO,
        name="Timed Up and Go",
        short_name="TUG",
        unit="s",
        minimum=1.0,
        maximum=600.0,
        integer=False,
        decimals=1,
        higher_is_better=False,
        coding=Coding(
            system=LOINC_SYSTEM,
            code="89423-8",
            display="Time to rise from chair, walk 10 feet and back, and return to sitting [TUG]",
        ),
    ),
    MeasureCode.BERG_BALANCE: MeasureDefinition(
        code=MeasureCode.BERG_BALANCE,
        name="Berg Balance Scale",
        short_name="BBS",
        unit="{score}",
        minimum=0,
        maximum=len(BERG_ITEMS) * BERG_ITEM_MAXIMUM,
        integer=True,
        decimals=0,
        higher_is_better=True,
        coding=_project_coding(MeasureCode.BERG_BALANCE, "Berg Balance Scale total score"),
        items=BERG_ITEMS,
    ),
    MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY: MeasureDefinition(
        code=MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY,
        name="Functional Ambulation Category",
        short_name="FAC",
        unit="{score}",
        minimum=0,
        maximum=len(FAC_LEVELS) - 1,
        integer=True,
        decimals=0,
        higher_is_better=True,
        coding=_project_coding(MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY, "Functional Ambulation Category"),
        levels=FAC_LEVELS,
    ),
}


def get_measure(code: MeasureCode | str) -> MeasureDefinition:
    """The definition of measure ``code``; raise naming ``measure_code`` when it is not one of ours."""
    try:
        return MEASURES[MeasureCode(code)]
    except ValueError:
        allowed = ", ".join(member.value for member in MeasureCode)
        raise InvalidInputError(f"measure_code must be one of {allowed}; got {code!r}.", field="measure_code") from None


def _format_range(measure: MeasureDefinition) -> str:
    kind = "an integer" if measure.integer else "a number"
    return f"{kind} from {measure.minimum:g} to {measure.maximum:g} {measure.unit_label}".rstrip()


def _check_number(measure: MeasureDefinition, value: object, field: str) -> float:
    if not isinstance(value, bool) and isinstance(value, int | float):
        number = float(value)
        in_range = math.isfinite(number) and measure.minimum <= number <= measure.maximum
        if in_range and (number.is_integer() or not measure.integer):
            return number
    raise InvalidInputError(f"{measure.name} {field} must be {_format_range(measure)}; got {value!r}.", field=field)


def _check_items(measure: MeasureDefinition, items: Sequence[object]) -> tuple[int, ...]:
    if not measure.items:
        raise InvalidInputError(f"{measure.name} has no item scores; send only its value.", field="items")
    if isinstance(items, str | bytes) or len(items) != len(measure.items):
        count = "a string" if isinstance(items, str | bytes) else f"{len(items)} scores"
        raise InvalidInputError(
            f"{measure.name} needs exactly {len(measure.items)} item scores, in the published order; got {count}.",
            field="items",
        )
    scores: list[int] = []
    for index, (name, score) in enumerate(zip(measure.items, items, strict=True)):
        if not isinstance(score, bool) and isinstance(score, int | float) and float(score).is_integer():
            whole = int(score)
            if 0 <= whole <= BERG_ITEM_MAXIMUM:
                scores.append(whole)
                continue
        raise InvalidInputError(
            f"Berg item {index + 1} ({name}) must be an integer from 0 to {BERG_ITEM_MAXIMUM}, got {score!r}.",
            field=f"items.{index}",
        )
    return tuple(scores)


def check_value(
    code: MeasureCode | str, value: float | None, items: Sequence[object] | None = None
) -> tuple[float, tuple[int, ...] | None]:
    """Validate one result of measure ``code`` and return ``(value, items)``.

    ``value`` must be finite, within the measure's bounds and whole where the measure is an integer score.
    For the Berg Balance Scale either the total, the 14 item scores (each an integer 0-4, in the published
    order) or both may be given; the total is then the sum of the items, and a total that disagrees with
    them is refused. Errors name the field: ``value``, ``items`` or ``items.<index>`` (0-based).
    """
    measure = get_measure(code)
    scores = _check_items(measure, items) if items is not None else None
    if value is None:
        if scores is None:
            raise InvalidInputError(
                f"{measure.name} value is missing; send a value ({_format_range(measure)})"
                + (f" or the {len(measure.items)} item scores." if measure.items else "."),
                field="value",
            )
        return float(sum(scores)), scores
    number = _check_number(measure, value, "value")
    if scores is not None and number != sum(scores):
        raise InvalidInputError(
            f"{measure.name} total {value!r} does not equal the sum of its {len(scores)} item scores "
            f"({sum(scores)}); correct the total or the items.",
            field="value",
        )
    return number, scores

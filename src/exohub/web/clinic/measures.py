"""Standard outcome measures of gait rehabilitation: definitions, plausible ranges, codes and published thresholds.

Pure data and checkers: nothing here touches the database or the web framework.

Each measure carries a coding for FHIR ``Observation.code``: LOINC where a LOINC term exists and was checked
(Timed Up and Go 89423-8, six-minute walk 64098-7), otherwise the project code system with the
:class:`MeasureCode` value. No LOINC term was found for the 10-metre walk, the Berg Balance Scale total or the
Functional Ambulation Category, so none is claimed.

:data:`MCIDS` lists published minimal clinically important differences (MCID) and minimal detectable changes
(MDC), each with the population it was measured in and its source; :func:`interpret_change` turns a change
between two assessments into one sentence a therapist can read.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from exohub.web.clinic.conditions import CONDITION_GROUPS, ConditionGroup, condition_group
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


MeasureChangeKind = Literal["MCID", "MDC"]


@dataclass(frozen=True, slots=True)
class Mcid:
    """A published threshold for a meaningful (MCID) or a real, beyond-measurement-error (MDC) change.

    ``value`` is a magnitude in the measure's unit, whatever the direction of improvement; ``cohort`` is the
    short phrase used in sentences (``"after stroke"``), ``population`` the study sample, ``citation`` the
    short reference (``"Tilson 2010"``) and ``source`` the full one.
    """

    measure: MeasureCode
    group: ConditionGroup
    value: float
    kind: MeasureChangeKind
    population: str
    cohort: str
    citation: str
    source: str
    doi: str | None


# Only values stated in a source we could read (abstract or full text) are listed. Searched but not found
# with an absolute value: 10MWT, 6MWT, TUG and Berg after spinal cord injury (Forrest et al. 2014 report MCIDs
# only in the full text); 10MWT, TUG and Berg in multiple sclerosis (Nilsagård et al. 2007 give only
# percentages); TUG after stroke (Flansbjer et al. 2005 give only percentages in the abstract) and in older
# adults; any value for the fast-pace 10MWT. Those pairs fall back to the general value, or to none.
MCIDS: Final[tuple[Mcid, ...]] = (
    Mcid(
        measure=MeasureCode.TEN_METRE_WALK_COMFORTABLE,
        group="stroke",
        value=0.16,
        kind="MCID",
        population="283 people 20-60 days after a first stroke (LEAPS trial); anchor: improvement of >= 1 on "
        "the modified Rankin Scale.",
        cohort="after stroke",
        citation="Tilson 2010",
        source="Tilson JK, Sullivan KJ, Cen SY, et al. Meaningful gait speed improvement during the first 60 days "
        "poststroke: minimal clinically important difference. Phys Ther. 2010;90(2):196-208.",
        doi="10.2522/ptj.20090079",
    ),
    Mcid(
        measure=MeasureCode.TEN_METRE_WALK_COMFORTABLE,
        group="other",
        value=0.10,
        kind="MCID",
        population="Community-dwelling older adults, older adults with mobility disability and subacute stroke "
        "survivors (n = 692); 0.10 m/s is the substantial meaningful change (small: 0.05 m/s).",
        cohort="in older adults",
        citation="Perera 2006",
        source="Perera S, Mody SH, Woodman RC, Studenski SA. Meaningful change and responsiveness in common "
        "physical performance measures in older adults. J Am Geriatr Soc. 2006;54(5):743-749.",
        doi="10.1111/j.1532-5415.2006.00701.x",
    ),
    Mcid(
        measure=MeasureCode.SIX_MINUTE_WALK,
        group="stroke",
        value=34.4,
        kind="MCID",
        population="22 people with chronic stroke (1.8 years after onset) before and after a 3-month exercise "
        "programme; difference in change between those who perceived improvement and those who did not.",
        cohort="after stroke",
        citation="Tang 2012",
        source="Tang A, Eng JJ, Rand D. Relationship between perceived and measured changes in walking after "
        "stroke. J Neurol Phys Ther. 2012;36(3).",
        doi="10.1097/NPT.0b013e318262dbd0",
    ),
    Mcid(
        measure=MeasureCode.SIX_MINUTE_WALK,
        group="multiple_sclerosis",
        value=19.7,
        kind="MCID",
        population="118 people with multiple sclerosis tested one year apart; minimal important change for "
        "improvement by predictive modelling (for deterioration: 7.2 m).",
        cohort="in multiple sclerosis",
        citation="Oosterveer 2022",
        source="Oosterveer DM, van den Berg C, Volker G, Wouda NC, Terluin B, Hoitsma E. Determining the minimal "
        "important change of the 6-minute walking test in Multiple Sclerosis patients using a predictive "
        "modelling anchor-based method. Mult Scler Relat Disord. 2022;57:103438.",
        doi=None,
    ),
    Mcid(
        measure=MeasureCode.SIX_MINUTE_WALK,
        group="other",
        value=50.0,
        kind="MCID",
        population="Community-dwelling older adults, older adults with mobility disability and subacute stroke "
        "survivors (n = 692); 50 m is the substantial meaningful change (small: 20 m).",
        cohort="in older adults",
        citation="Perera 2006",
        source="Perera S, Mody SH, Woodman RC, Studenski SA. Meaningful change and responsiveness in common "
        "physical performance measures in older adults. J Am Geriatr Soc. 2006;54(5):743-749.",
        doi="10.1111/j.1532-5415.2006.00701.x",
    ),
    Mcid(
        measure=MeasureCode.BERG_BALANCE,
        group="stroke",
        value=6.5,
        kind="MCID",
        population="75 inpatients with acute stroke after 2 weeks of physiotherapy; 6.5 points is the lower end "
        "of the anchor-based range 6.5-12.5 (global rating of change).",
        cohort="after stroke",
        citation="Hayashi 2022",
        source="Hayashi S, Miyata K, Takeda R, Iizuka T, Igarashi T, Usuda S. Minimal clinically important "
        "difference of the Berg Balance Scale and comfortable walking speed in patients with acute stroke: "
        "a multicenter, prospective, longitudinal study. Clin Rehabil. 2022;36(11):1512-1523.",
        doi="10.1177/02692155221108552",
    ),
    Mcid(
        measure=MeasureCode.BERG_BALANCE,
        group="other",
        value=6.5,
        kind="MDC",
        population="42 community-dwelling people over 65 with a history of falls or near falls; 95% minimal "
        "detectable change.",
        cohort="in older adults at risk of falling",
        citation="Romero 2011",
        source="Romero S, Bishop MD, Velozo CA, Light K. Minimum detectable change of the Berg Balance Scale and "
        "Dynamic Gait Index in older persons at risk for falling. J Geriatr Phys Ther. 2011;34(3).",
        doi="10.1519/JPT.0b013e3182048006",
    ),
)

_KIND_TEXT: Final[dict[MeasureChangeKind, str]] = {
    "MCID": "minimal clinically important difference",
    "MDC": "minimal detectable change",
}
_GROUP_TEXT: Final[dict[ConditionGroup, str]] = {
    "stroke": "after stroke",
    "spinal_cord_injury": "after spinal cord injury",
    "multiple_sclerosis": "in multiple sclerosis",
    "cerebral_palsy": "in cerebral palsy",
    "parkinsons": "in Parkinson disease",
    "brain_injury": "after brain injury",
    "other": "in general",
}
assert set(_GROUP_TEXT) == set(CONDITION_GROUPS)  # noqa: S101 - a module invariant, checked at import

# The FAC is ordinal with no published MCID: moving one category changes how (and with whom) a person walks,
# so any whole-category change is itself the clinically meaningful unit.
FAC_MEANINGFUL_CHANGE: Final = 1


@dataclass(frozen=True, slots=True)
class ChangeInterpretation:
    """How a change between two results reads: direction, the threshold used and whether it was reached.

    ``change`` is ``latest - baseline`` in the measure's unit. ``improved`` is ``None`` when nothing changed;
    ``meaningful`` is ``None`` when no threshold is known. ``threshold`` is the :class:`Mcid` used (``None``
    for the FAC, whose unit of meaningful change is one category).
    """

    measure: MeasureCode
    change: float
    improved: bool | None
    threshold: Mcid | None
    meaningful: bool | None
    text: str


def find_mcid(code: MeasureCode | str, group: ConditionGroup) -> Mcid | None:
    """The published threshold for measure ``code`` in ``group``, else the general (``"other"``) one, else None."""
    measure = MeasureCode(code)
    for wanted in (group, "other"):
        for mcid in MCIDS:
            if mcid.measure is measure and mcid.group == wanted:
                return mcid
    return None


def _signed(number: float, decimals: int) -> str:
    text = f"{abs(number):.{decimals}f}"
    return ("+" if number > 0 else "-" if number < 0 else "") + text


def interpret_change(
    code: MeasureCode | str, baseline: float, latest: float, condition_code: str | None
) -> ChangeInterpretation:
    """Compare ``latest`` with ``baseline`` for measure ``code`` against the published threshold.

    The threshold is looked up for the group of ``condition_code`` (ICD-10), falling back to the general one
    (the sentence then says so); the direction of improvement follows the measure (a shorter TUG is better).
    """
    measure = get_measure(code)
    before = _check_number(measure, baseline, "baseline")
    after = _check_number(measure, latest, "latest")
    group: ConditionGroup = condition_group(condition_code) if condition_code is not None else "other"
    change = round(after - before, 9)  # drop binary noise: 0.30 - 0.14 is 0.16, not 0.15999999999999998
    unit = measure.unit_label
    is_fac = measure.code is MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY
    threshold = None if is_fac else find_mcid(measure.code, group)

    if change == 0:
        meaningful = False if (is_fac or threshold is not None) else None
        text = f"No change since baseline ({after:.{measure.decimals}f} {unit})."
        return ChangeInterpretation(measure.code, change, None, threshold, meaningful, text)

    improved = (change > 0) == measure.higher_is_better
    direction = "an improvement" if improved else "a decline"
    if is_fac:
        # Whole categories only (check_number enforced integers), so any change is >= FAC_MEANINGFUL_CHANGE.
        from_level, to_level = int(before), int(after)
        text = (
            f"{_signed(change, 0)} FAC categor{'y' if abs(change) == 1 else 'ies'} since baseline, {direction}: "
            f"from {from_level} ({_level_name(measure, from_level)}) to {to_level} "
            f"({_level_name(measure, to_level)}); each category is a change of ambulation level."
        )
        return ChangeInterpretation(measure.code, change, improved, None, abs(change) >= FAC_MEANINGFUL_CHANGE, text)

    head = f"{_signed(change, measure.decimals)} {unit} since baseline, {direction}"
    if threshold is None:
        where = "" if group == "other" else f" {_GROUP_TEXT[group]} or in general"
        text = (
            f"{head}: no published minimal clinically important difference of the {measure.name}{where} "
            "is on file, so whether it matters clinically cannot be judged."
        )
        return ChangeInterpretation(measure.code, change, improved, None, None, text)

    meaningful = abs(change) >= threshold.value
    text = (
        f"{head}: {'at or above' if meaningful else 'below'} the {_format_threshold(threshold.value, measure)} {unit} "
        f"{_KIND_TEXT[threshold.kind]} {threshold.cohort} ({threshold.citation})"
    )
    if threshold.group != group:
        text += f"; no published value {_GROUP_TEXT[group]} was found, so the general one is used"
    return ChangeInterpretation(measure.code, change, improved, threshold, meaningful, text + ".")


def _format_threshold(value: float, measure: MeasureDefinition) -> str:
    text = f"{value:.{measure.decimals}f}"
    return text if float(text) == value else f"{value:g}"  # 0.10 m/s stays "0.10"; 6.5 points stays "6.5"


def _level_name(measure: MeasureDefinition, level: int) -> str:
    return measure.levels[level].split(":", 1)[0]

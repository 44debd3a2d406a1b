"""Published thresholds of change in the outcome measures, and the sentence a change between two results reads as.

:data:`MCIDS` lists published minimal clinically important differences (MCID) and minimal detectable changes
(MDC), each with the population it was measured in and its source; :func:`find_mcid` picks the one for a condition
group (else the general one) and :func:`interpret_change` turns a change between two assessments into one sentence a
therapist can read. The measures themselves (units, bounds, checks) are in :mod:`exohub.web.clinic.measures`.

Pure data and checkers: nothing here touches the database or the web framework.
"""

from dataclasses import dataclass
from typing import Final, Literal

from exohub.web.clinic.conditions import CONDITION_GROUPS, ConditionGroup, condition_group
from exohub.web.clinic.measures import MeasureCode, MeasureDefinition, _check_number, get_measure

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

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exohub.web.clinic.conditions import CONDITION_GROUPS
from exohub.web.clinic.mcid import MCIDS, find_mcid, interpret_change
from exohub.web.clinic.measures import (
    BERG_ITEMS,
    LOINC_SYSTEM,
    MEASURES,
    PROJECT_CODE_SYSTEM,
    MeasureCode,
    check_value,
)
from exohub.web.errors import InvalidInputError


def loinc_check_digit(number: str) -> int:
    """LOINC's mod-10 check digit, computed as the LOINC manual describes it.

    From the right: the digits in odd positions form a number that is doubled; the digits in even positions
    are written in front of it; the check digit brings the sum of all those digits up to a multiple of 10.
    """
    reversed_digits = number[::-1]
    doubled = str(int(reversed_digits[0::2]) * 2)
    others = reversed_digits[1::2]
    total = sum(int(digit) for digit in others + doubled)
    return (10 - total % 10) % 10


def test_loinc_check_digit_matches_the_manual_example() -> None:
    assert loinc_check_digit("12345") == 5  # the worked example: 12345-5


def test_every_loinc_code_has_a_valid_check_digit() -> None:
    loinc_codes = [m.coding.code for m in MEASURES.values() if m.coding.system == LOINC_SYSTEM]
    assert sorted(loinc_codes) == ["64098-7", "89423-8"]
    for code in loinc_codes:
        number, check = code.split("-")
        assert loinc_check_digit(number) == int(check), code


def test_measures_are_complete_and_consistent() -> None:
    assert set(MEASURES) == set(MeasureCode)
    for code, measure in MEASURES.items():
        assert measure.code is code
        assert measure.minimum < measure.maximum
        assert measure.unit in {"m/s", "m", "s", "{score}"}
        if measure.coding.system == PROJECT_CODE_SYSTEM:
            assert measure.coding.code == code.value
    assert MEASURES[MeasureCode.TIMED_UP_AND_GO].higher_is_better is False
    assert (MEASURES[MeasureCode.BERG_BALANCE].minimum, MEASURES[MeasureCode.BERG_BALANCE].maximum) == (0, 56)
    assert len(BERG_ITEMS) == 14
    assert BERG_ITEMS[0] == "Sitting to standing"
    assert BERG_ITEMS[-1] == "Standing on one leg"
    fac = MEASURES[MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY]
    assert len(fac.levels) == fac.maximum + 1 == 6
    assert fac.levels[0].startswith("Non-functional")
    assert fac.levels[5].startswith("Independent")


def test_every_mcid_cites_a_source_for_a_defined_measure_and_group() -> None:
    for mcid in MCIDS:
        assert mcid.measure in MEASURES
        assert mcid.group in CONDITION_GROUPS
        assert mcid.kind in {"MCID", "MDC"}
        assert mcid.value > 0
        assert mcid.citation.split()[0] in mcid.source  # the short citation names the first author
        assert mcid.citation.split()[-1] in mcid.source  # ... and the year
        assert mcid.population and mcid.cohort
        assert mcid.doi is None or mcid.doi.startswith("10.")
    pairs = [(m.measure, m.group) for m in MCIDS]
    assert len(pairs) == len(set(pairs)), "one threshold per measure and group"


def test_no_mcid_for_the_fac() -> None:
    assert all(m.measure is not MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY for m in MCIDS)


# --- check_value: known answers -------------------------------------------------------------------------


def test_negative_tug_is_refused_naming_value() -> None:
    with pytest.raises(InvalidInputError, match=r"Timed Up and Go value must be a number from 1 to 600 s; got -3") as e:
        check_value(MeasureCode.TIMED_UP_AND_GO, -3)
    assert e.value.field == "value"


def test_berg_item_9_of_5_is_refused_naming_the_item() -> None:
    items = [4] * 14
    items[8] = 5
    with pytest.raises(
        InvalidInputError,
        match=r"Berg item 9 \(Retrieving object from floor from a standing position\) must be an integer "
        r"from 0 to 4, got 5",
    ) as e:
        check_value(MeasureCode.BERG_BALANCE, None, items)
    assert e.value.field == "items.8"


def test_berg_total_from_items_and_agreement() -> None:
    items = [4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 0, 0]
    assert check_value("berg", None, items) == (33.0, tuple(items))
    assert check_value("berg", 33, items) == (33.0, tuple(items))
    with pytest.raises(InvalidInputError, match=r"total 34 does not equal the sum of its 14 item scores \(33\)") as e:
        check_value("berg", 34, items)
    assert e.value.field == "value"


@pytest.mark.parametrize("items", [[4] * 13, [4] * 15, "44444444444444"])
def test_berg_needs_14_items(items: list[int] | str) -> None:
    with pytest.raises(InvalidInputError, match="needs exactly 14 item scores") as e:
        check_value("berg", None, items)
    assert e.value.field == "items"


@pytest.mark.parametrize("bad", [2.5, -1, True, None, "3"])
def test_berg_item_must_be_whole_0_to_4(bad: object) -> None:
    items: list[object] = [0] * 14
    items[3] = bad
    with pytest.raises(InvalidInputError, match=r"Berg item 4 \(Standing to sitting\)") as e:
        check_value("berg", None, items)
    assert e.value.field == "items.3"


def test_items_refused_for_a_measure_without_items() -> None:
    with pytest.raises(InvalidInputError, match="has no item scores") as e:
        check_value("6mwt", 300, [1, 2])
    assert e.value.field == "items"


def test_missing_value_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="value is missing") as e:
        check_value("tug", None)
    assert e.value.field == "value"


@pytest.mark.parametrize(("code", "value"), [("berg", 40.5), ("fac", 2.5), ("fac", 6), ("berg", 57)])
def test_integer_scores_refuse_fractions_and_out_of_range(code: str, value: float) -> None:
    with pytest.raises(InvalidInputError, match=r"must be an integer from 0 to \d+( points)?;") as e:
        check_value(code, value)
    assert e.value.field == "value"


def test_unknown_measure_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="measure_code must be one of 10mwt_comfortable") as e:
        check_value("5xsts", 12.0)
    assert e.value.field == "measure_code"


# --- check_value: properties ----------------------------------------------------------------------------

_measure_codes = st.sampled_from(sorted(MeasureCode))


@st.composite
def in_range(draw: st.DrawFn) -> tuple[MeasureCode, float]:
    code = draw(_measure_codes)
    measure = MEASURES[code]
    if measure.integer:
        return code, float(draw(st.integers(int(measure.minimum), int(measure.maximum))))
    return code, draw(st.floats(measure.minimum, measure.maximum))


@given(in_range())
def test_any_in_range_value_is_returned_unchanged(case: tuple[MeasureCode, float]) -> None:
    code, value = case
    assert check_value(code, value) == (value, None)


@st.composite
def out_of_range(draw: st.DrawFn) -> tuple[MeasureCode, float]:
    code = draw(_measure_codes)
    measure = MEASURES[code]
    value = draw(
        st.one_of(
            st.floats(max_value=measure.minimum, exclude_max=True, allow_infinity=True),
            st.floats(min_value=measure.maximum, exclude_min=True, allow_infinity=True),
            st.just(math.nan),
        )
    )
    return code, value


@given(out_of_range())
def test_any_out_of_range_or_non_finite_value_is_refused(case: tuple[MeasureCode, float]) -> None:
    code, value = case
    with pytest.raises(InvalidInputError) as e:
        check_value(code, value)
    assert e.value.field == "value"
    assert MEASURES[code].name in e.value.detail
    assert repr(value) in e.value.detail


@given(st.lists(st.integers(0, 4), min_size=14, max_size=14))
def test_berg_items_give_their_sum(items: list[int]) -> None:
    assert check_value("berg", None, items) == (float(sum(items)), tuple(items))


# --- interpret_change -----------------------------------------------------------------------------------


def test_gait_speed_after_stroke_uses_the_stroke_mcid() -> None:
    result = interpret_change("10mwt_comfortable", 0.30, 0.50, "I63.9")
    assert result.change == pytest.approx(0.20)
    assert result.improved is True
    assert result.threshold is find_mcid("10mwt_comfortable", "stroke")
    assert result.threshold is not None and result.threshold.value == 0.16
    assert result.meaningful is True
    assert result.text == (
        "+0.20 m/s since baseline, an improvement: at or above the 0.16 m/s minimal clinically important "
        "difference after stroke (Tilson 2010)."
    )


def test_gait_speed_014_after_stroke_is_below_the_stroke_mcid() -> None:
    # Tilson 2010 (0.16 m/s, subacute stroke) rather than Perera 2006 (0.10 m/s, mixed older adults).
    result = interpret_change("10mwt_comfortable", 0.30, 0.44, "I63.9")
    assert result.meaningful is False
    assert "below the 0.16 m/s" in result.text


def test_gait_speed_exactly_at_the_mcid_is_meaningful_despite_float_noise() -> None:
    assert interpret_change("10mwt_comfortable", 0.14, 0.30, "I63.9").meaningful is True


def test_gait_speed_014_in_general_is_meaningful() -> None:
    result = interpret_change("10mwt_comfortable", 0.30, 0.44, None)
    assert result.meaningful is True
    assert result.threshold is not None and result.threshold.citation == "Perera 2006"
    assert result.text.startswith("+0.14 m/s since baseline, an improvement: at or above the 0.10 m/s")


def test_falls_back_to_the_general_mcid_and_says_so() -> None:
    result = interpret_change("10mwt_comfortable", 0.30, 0.44, "G82.2")
    assert result.threshold is not None and result.threshold.group == "other"
    assert "no published value after spinal cord injury was found, so the general one is used" in result.text


def test_tug_from_20_to_15_s_is_an_improvement() -> None:
    result = interpret_change("tug", 20.0, 15.0, "I63.9")
    assert result.change == -5.0
    assert result.improved is True
    assert result.threshold is None and result.meaningful is None
    assert result.text.startswith("-5.0 s since baseline, an improvement: no published minimal clinically")


def test_slower_tug_is_a_decline() -> None:
    assert interpret_change("tug", 15.0, 20.0, None).improved is False


def test_six_minute_walk_in_ms_and_decline() -> None:
    result = interpret_change("6mwt", 300, 280, "G35")
    assert result.improved is False
    assert result.meaningful is True  # 20 m >= 19.7 m
    assert "a decline" in result.text and "(Oosterveer 2022)" in result.text


def test_no_change() -> None:
    result = interpret_change("berg", 40, 40, "I63.9")
    assert result.improved is None
    assert result.meaningful is False
    assert result.text == "No change since baseline (40 points)."


def test_fac_one_category_is_a_change_of_ambulation_level() -> None:
    result = interpret_change("fac", 2, 3, "I69.3")
    assert result.threshold is None
    assert result.improved is True and result.meaningful is True
    assert result.text == (
        "+1 FAC category since baseline, an improvement: from 2 (Dependent, level I) to 3 "
        "(Dependent, supervision); each category is a change of ambulation level."
    )
    assert interpret_change("fac", 3, 3, None).meaningful is False


def test_interpret_change_validates_both_results() -> None:
    with pytest.raises(InvalidInputError, match="Timed Up and Go baseline") as e:
        interpret_change("tug", -1, 10, None)
    assert e.value.field == "baseline"
    with pytest.raises(InvalidInputError) as e:
        interpret_change("berg", 10, 60, None)
    assert e.value.field == "latest"
    with pytest.raises(InvalidInputError) as e:
        interpret_change("berg", 10, 20, "stroke")
    assert e.value.field == "condition_code"

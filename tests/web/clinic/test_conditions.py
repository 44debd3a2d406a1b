import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exohub.web.clinic.conditions import (
    AIS_GRADES,
    CONDITION_GROUPS,
    CONDITIONS,
    NEUROLOGICAL_LEVELS,
    check_ais_grade,
    check_icd10_code,
    check_neurological_level,
    condition_group,
    condition_label,
)
from exohub.web.errors import InvalidInputError

_LETTERS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = st.sampled_from("0123456789")
_ALNUM = st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@st.composite
def icd10_codes(draw: st.DrawFn) -> str:
    """A code of the accepted shape: letter, two digits, optionally '.' and 1-4 letters or digits."""
    code = draw(_LETTERS) + draw(_DIGITS) + draw(_DIGITS)
    suffix = draw(st.lists(_ALNUM, min_size=0, max_size=4))
    return code + ("." + "".join(suffix) if suffix else "")


def test_catalogue_codes_are_unique_well_formed_and_grouped() -> None:
    codes = [condition.code for condition in CONDITIONS]
    assert len(codes) == len(set(codes))
    for condition in CONDITIONS:
        assert check_icd10_code(condition.code) == condition.code
        assert condition.group in CONDITION_GROUPS
        assert condition.label and condition.label == condition.label.strip()


def test_catalogue_keeps_a_category_in_one_group() -> None:
    groups_by_category: dict[str, set[str]] = {}
    for condition in CONDITIONS:
        groups_by_category.setdefault(condition.code[:3], set()).add(condition.group)
    assert all(len(groups) == 1 for groups in groups_by_category.values()), groups_by_category


def test_catalogue_covers_every_group() -> None:
    assert {condition.group for condition in CONDITIONS} == set(CONDITION_GROUPS)


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("I63.9", "stroke"),
        ("i61.0", "stroke"),
        ("I69.3", "stroke"),
        ("I64", "stroke"),
        ("S14.1", "spinal_cord_injury"),
        ("S34.10", "spinal_cord_injury"),  # ICD-10-CM subcode, grouped by its category
        ("T91.3", "spinal_cord_injury"),
        ("G82.2", "spinal_cord_injury"),
        ("G35", "multiple_sclerosis"),
        ("G80.1", "cerebral_palsy"),
        ("G20", "parkinsons"),
        ("S06.2", "brain_injury"),
        ("T90.5", "brain_injury"),
        ("G61.0", "other"),
        ("Z96.64", "other"),
        ("J45.9", "other"),  # asthma: not in the catalogue
    ],
)
def test_condition_group_by_category(code: str, group: str) -> None:
    assert condition_group(code) == group


def test_condition_label_uses_code_then_category() -> None:
    assert condition_label("I63.9") == "Cerebral infarction, unspecified"
    assert condition_label(" g35 ") == "Multiple sclerosis"
    assert condition_label("I63.8") == "Cerebral infarction"  # not listed: falls back to the category
    assert condition_label("Z96.65") == "Presence of other functional implants"
    assert condition_label("J45.9") is None


@given(icd10_codes(), st.sampled_from(["", " ", "\t"]), st.booleans())
def test_check_icd10_code_accepts_and_normalises(code: str, padding: str, lower: bool) -> None:
    received = padding + (code.lower() if lower else code) + padding
    assert check_icd10_code(received) == code


@given(st.text(max_size=12))
def test_check_icd10_code_refuses_other_shapes(text: str) -> None:
    if re.fullmatch(r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?", text.strip().upper()):
        assert check_icd10_code(text) == text.strip().upper()
        return
    with pytest.raises(InvalidInputError) as caught:
        check_icd10_code(text)
    assert caught.value.field == "condition_code"
    assert repr(text) in caught.value.detail


@pytest.mark.parametrize("code", ["I6", "163.9", "I63.", "I63.12345", "I63-9", "II3.9", "I63 9", ""])
def test_check_icd10_code_refuses_known_bad(code: str) -> None:
    with pytest.raises(InvalidInputError, match="condition_code must be an ICD-10 code") as caught:
        check_icd10_code(code)
    assert caught.value.field == "condition_code"


def test_ais_grades_are_a_to_e() -> None:
    assert list(AIS_GRADES) == ["A", "B", "C", "D", "E"]
    assert check_ais_grade(" d ") == "D"
    for bad in ["F", "AB", "", "1"]:
        with pytest.raises(InvalidInputError, match="A, B, C, D, E") as caught:
            check_ais_grade(bad)
        assert caught.value.field == "ais_grade"
        assert repr(bad) in caught.value.detail


def test_neurological_levels_are_the_28_segments() -> None:
    assert len(NEUROLOGICAL_LEVELS) == 8 + 12 + 5 + 5
    assert check_neurological_level("c5") == "C5"
    assert check_neurological_level(" T12 ") == "T12"
    assert check_neurological_level("S5") == "S5"


@pytest.mark.parametrize("level", ["C0", "C9", "T13", "L6", "S6", "Co1", "T", "5"])
def test_check_neurological_level_refuses(level: str) -> None:
    with pytest.raises(InvalidInputError, match="C1-C8, T1-T12, L1-L5 or S1-S5") as caught:
        check_neurological_level(level)
    assert caught.value.field == "neurological_level"

"""Constrained input types shared by every schema and route: bounded, printable, stored safely on both engines."""

import re
from datetime import date
from typing import Annotated

import pycountry
from fastapi import Path, Query
from pydantic import AfterValidator, EmailStr, Field, StringConstraints

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MAX_ID = 2_147_483_647  # the largest INTEGER on PostgreSQL


def has_control_characters(value: str) -> bool:
    """Whether ``value`` holds a control character (NUL among them, which PostgreSQL refuses in text)."""
    return _CONTROL_CHARACTERS.search(value) is not None


def _printable(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control characters")
    return value


def _printable_line(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must be a single line")
    return _printable(value)


def _country(value: str) -> str:
    code = value.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. JP, KR, AU, ID, PH)")
    return code


def country_name(code: str) -> str:
    """The English short name of an ISO 3166-1 alpha-2 country code."""
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or getattr(country, "name", code))


# One printable line each (no control characters: PostgreSQL refuses NUL), stripped, within the lengths.
_LINE = AfterValidator(_printable_line)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _LINE]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), _LINE]
OptionalShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), _LINE]
SerialNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), _LINE]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_printable)]
CountryCode = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_country)]
Email = Annotated[EmailStr, StringConstraints(max_length=254), AfterValidator(lambda v: v.lower())]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256), AfterValidator(_printable)]
PlannedDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
SearchQuery = Annotated[
    str | None,
    Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$", description="Case-insensitive text search."),
]

"""``RecordingInfo``: a recording's descriptive metadata, with fixed keys that are each checked on assignment.

Modelled on MNE's ``Info``: settable keys have a checker; keys derived from the data (channels, rates, duration)
refuse assignment and say which method changes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

from exohub.exceptions import ValidationError

MAX_TEXT_LENGTH = 2000


def _check_text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"info[{key!r}] must be a str, got {type(value).__name__} instead.")
    if len(value) > MAX_TEXT_LENGTH:
        raise ValueError(f"info[{key!r}] is {len(value)} characters long; at most {MAX_TEXT_LENGTH} are allowed.")
    return value


def _check_meas_date(key: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as err:
            raise ValueError(f"info[{key!r}] must be an ISO 8601 date-time, got {value!r}.") from err
    if not isinstance(value, datetime):
        raise TypeError(f"info[{key!r}] must be a datetime or None, got {type(value).__name__} instead.")
    if value.tzinfo is None:
        raise ValueError(f"info[{key!r}] must be timezone-aware (UTC), got the naive {value.isoformat()}.")
    return value.astimezone(UTC)


def _check_body_mass(key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 2.0 <= float(value) <= 400.0:
        raise ValueError(f"info[{key!r}] must be a body mass between 2 and 400 kg, or None; got {value!r}.")
    return float(value)


#: settable key -> (checker, default)
_SETTABLE: dict[str, tuple[Callable[[str, Any], Any], Any]] = {
    "description": (_check_text, ""),
    "subject_id": (_check_text, ""),
    "session_id": (_check_text, ""),
    "condition": (_check_text, ""),
    "device": (_check_text, ""),
    "source": (_check_text, ""),
    "phase_definition": (_check_text, "0 = initial contact"),
    "meas_date": (_check_meas_date, None),
    "body_mass_kg": (_check_body_mass, None),
}
#: derived key -> what changes it
_DERIVED = {
    "channels": "add or drop channels by building a new Recording (Recording.pick, Recording.drop)",
    "sampling_rates_hz": "resample with Recording.resample",
    "duration_s": "crop with Recording.crop",
}


class RecordingInfo(MutableMapping[str, Any]):
    """Descriptive metadata of a :class:`~exohub.signals.Recording`.

    Parameters
    ----------
    **values
        Any of the settable keys: ``description``, ``subject_id`` (a pseudonym, never a name), ``session_id``,
        ``condition``, ``device``, ``source`` (file or data set), ``phase_definition`` (what phase 0 means in the
        recording's own labels), ``meas_date`` (timezone-aware datetime) and ``body_mass_kg``.

    Notes
    -----
    The keys are fixed: an unknown key raises a ``KeyError`` listing the known ones. ``channels``,
    ``sampling_rates_hz`` and ``duration_s`` are read from the recording the info belongs to and cannot be set.
    """

    def __init__(self, **values: Any) -> None:
        self._values: dict[str, Any] = {key: default for key, (_, default) in _SETTABLE.items()}
        self._derived: Callable[[str], Any] | None = None
        for key, value in values.items():
            self[key] = value

    def _bind(self, derived: Callable[[str], Any]) -> None:
        self._derived = derived

    def __getitem__(self, key: str) -> Any:
        if key in _DERIVED:
            if self._derived is None:
                raise KeyError(f"info[{key!r}] is derived from a recording; this info belongs to none.")
            return self._derived(key)
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in _DERIVED:
            raise ValidationError(f"info[{key!r}] is derived from the data and cannot be set; {_DERIVED[key]}.")
        if key not in _SETTABLE:
            raise KeyError(f"info has no key {key!r}. Settable keys: {', '.join(_SETTABLE)}.")
        checker, _ = _SETTABLE[key]
        self._values[key] = checker(key, value)

    def __delitem__(self, key: str) -> None:
        raise ValidationError(f"info keys are fixed; set info[{key!r}] to its empty value instead of deleting it.")

    def __iter__(self) -> Iterator[str]:
        yield from _SETTABLE
        if self._derived is not None:
            yield from _DERIVED

    def __len__(self) -> int:
        return len(_SETTABLE) + (len(_DERIVED) if self._derived is not None else 0)

    def settable(self) -> dict[str, Any]:
        """Return the settable keys and their values (what a file stores)."""
        return dict(self._values)

    def copy(self) -> RecordingInfo:
        """Return an unbound copy of the settable values."""
        return RecordingInfo(**self._values)

    def to_json(self) -> dict[str, Any]:
        """Return the settable values as JSON-compatible types."""
        values = self.settable()
        if values["meas_date"] is not None:
            values["meas_date"] = values["meas_date"].isoformat()
        return values

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> RecordingInfo:
        """Build from :meth:`to_json`'s output; unknown keys are refused."""
        return cls(**dict(values))

    def __repr__(self) -> str:
        shown = {key: value for key, value in self._values.items() if value not in ("", None)}
        return f"<RecordingInfo {shown}>"

"""The process's liblsl: loaded on first use, configured once (loopback only), and asked for streams by name or type.

Private to :mod:`exohub.control.lsl`, whose module notes say what the packaged configuration does and why; the
public names here (:func:`configure_lsl`, :func:`resolve_stream`, :func:`channel_labels`, :func:`channel_units`,
:data:`LSL_CONFIG`) are imported from there. The sensor inlet and the command outlet both get ``pylsl`` through
:func:`_lsl`, so no LSL object is made before the configuration is applied.
"""

from __future__ import annotations

from importlib import resources
from types import ModuleType
from typing import Any, Literal

from exohub.exceptions import ValidationError

#: The packaged liblsl configuration (resource path inside :mod:`exohub.control`).
LSL_CONFIG = ("data", "lsl_api.cfg")

_state: dict[str, Any] = {"pylsl": None, "config": None}


def configure_lsl(config: str | None = None) -> str:
    """Give liblsl its configuration for this process (once), and return the text applied.

    Parameters
    ----------
    config
        The content of an ``lsl_api.cfg`` (INI text); None: the packaged loopback-only configuration (see the
        notes of :mod:`exohub.control.lsl`). Must be called before any LSL object is made in the process; the
        adapters call it with None when nothing was configured.

    Raises
    ------
    ValidationError
        If a different configuration was already applied (liblsl reads it once per process), or liblsl cannot be
        loaded.
    """
    text = _packaged_config() if config is None else config
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"config must be the text of an lsl_api.cfg, got {config!r}.")
    applied = _state["config"]
    if applied is not None:
        if applied != text:
            raise ValidationError(
                "LSL is already configured in this process and liblsl reads its configuration once; "
                "call configure_lsl before the first LSL stream is made."
            )
        return text
    pylsl = _import_pylsl()
    pylsl.set_config_content(text)
    _state["config"] = text
    return text


def _packaged_config() -> str:
    return resources.files("exohub.control").joinpath(*LSL_CONFIG).read_text(encoding="utf-8")


def _import_pylsl() -> ModuleType:
    if _state["pylsl"] is None:
        try:
            import pylsl  # a device library: imported when an LSL object is first made
        except (ImportError, RuntimeError) as err:  # RuntimeError: the package is there but liblsl did not load
            raise ValidationError(f"Lab Streaming Layer is unavailable here: {err}") from err
        _state["pylsl"] = pylsl
    return _state["pylsl"]


def _lsl() -> ModuleType:
    """pylsl, with this process's LSL configured (the packaged loopback-only one unless configured before)."""
    if _state["config"] is None:
        configure_lsl()
    return _import_pylsl()


def resolve_stream(stream: str, *, by: Literal["name", "type"] = "name", timeout_s: float = 2.0) -> Any:
    """Find an LSL stream on this machine by name or type; return its ``pylsl.StreamInfo``.

    Raises
    ------
    ValidationError
        Naming the stream when none answers within ``timeout_s``.
    """
    if by not in ("name", "type"):
        raise ValidationError(f"by must be 'name' or 'type', got {by!r}.")
    if not isinstance(stream, str) or not stream.strip():
        raise ValidationError(f"the stream's {by} must be a non-empty string, got {stream!r}.")
    if not isinstance(timeout_s, int | float) or isinstance(timeout_s, bool) or not 0 < timeout_s <= 60:
        raise ValidationError(f"timeout_s must be in (0, 60] s, got {timeout_s!r}.")
    found = _lsl().resolve_byprop(by, stream, 1, float(timeout_s))
    if not found:
        what = f"named {stream!r}" if by == "name" else f"of type {stream!r}"
        raise ValidationError(f"no LSL stream {what} on this machine within {timeout_s:g} s; is the device streaming?")
    return found[0]


def channel_labels(info: Any) -> tuple[str, ...]:
    """The ``desc/channels/channel/label`` of each channel of a full ``pylsl.StreamInfo`` ('' where unlabelled)."""
    return _channel_values(info, "label")


def channel_units(info: Any) -> tuple[str, ...]:
    """The ``desc/channels/channel/unit`` of each channel of a full ``pylsl.StreamInfo`` ('' where undeclared)."""
    return _channel_values(info, "unit")


def _channel_values(info: Any, name: str) -> tuple[str, ...]:
    values = []
    channel = info.desc().child("channels").child("channel")
    while not channel.empty():
        values.append(channel.child_value(name))
        channel = channel.next_sibling("channel")
    return tuple(values)

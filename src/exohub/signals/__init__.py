"""Sensor recordings and gait analysis: the data model, readers, processing, events, phase and metrics.

Pure science: numpy, scipy and pandas only (``tests/test_import_layers.py`` enforces it). The names below are
imported on first use, so ``exohub.signals.consts`` (the channel vocabulary) does not import the readers and scipy.
"""

from typing import TYPE_CHECKING

from exohub._utils._lazy import lazy_exports

if TYPE_CHECKING:
    from exohub.signals.channels import Channel, channel_name, parse_channel
    from exohub.signals.info import RecordingInfo
    from exohub.signals.io import read_recording, write_recording
    from exohub.signals.recording import Recording

__all__ = [
    "Channel",
    "Recording",
    "RecordingInfo",
    "channel_name",
    "parse_channel",
    "read_recording",
    "write_recording",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "exohub.signals.channels": ("Channel", "channel_name", "parse_channel"),
        "exohub.signals.info": ("RecordingInfo",),
        "exohub.signals.io": ("read_recording", "write_recording"),
        "exohub.signals.recording": ("Recording",),
    },
)

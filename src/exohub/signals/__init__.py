"""Sensor recordings and gait analysis: the data model, readers, processing, events, phase and metrics.

Pure science: numpy, scipy and pandas only (``tests/test_import_layers.py`` enforces it).
"""

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

"""Loaders that map each public data set in ``../shared/data`` onto the CSV recording convention."""

from exohub.signals.datasets._gaitalytics import load_gaitalytics
from exohub.signals.datasets._gaitmap import load_gaitmap_imu
from exohub.signals.datasets._hipexo import HIPEXO_MODES, load_hipexo
from exohub.signals.datasets._lee2021 import load_lee2021

__all__ = ["HIPEXO_MODES", "load_gaitalytics", "load_gaitmap_imu", "load_hipexo", "load_lee2021"]

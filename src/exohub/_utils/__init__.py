"""Small helpers every layer may use: argument checks and atomic file writes."""

from exohub._utils._files import atomic_path

__all__ = ["atomic_path"]

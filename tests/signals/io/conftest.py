"""Paths to the real C3D samples; tests that need them skip with the reason when ``../shared/data`` is absent."""

from pathlib import Path

import pytest

GAITALYTICS = Path(__file__).parents[4] / "shared" / "data" / "gaitalytics_c3d_emg"


@pytest.fixture(scope="session")
def gaitalytics_dir() -> Path:
    if not (GAITALYTICS / "test_small.c3d").is_file():
        pytest.skip(f"real data not present: {GAITALYTICS} (see ../shared/data/README.md)")
    return GAITALYTICS

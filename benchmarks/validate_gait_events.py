"""Validate the gait events users get (``detect_gait_events``: each side from its best sensor) against references.

Run from the project root::

    .venv/bin/python benchmarks/validate_gait_events.py [--json]

References: motion capture for gaitmap's example walk (foot IMUs), the labelled foot strikes and foot offs of the
gaitalytics C3D files (force plates, hip angles). Each row is one recording and one event source; the sources a
recording does not pick by itself are forced, so every sensor is scored on the same truth. Matching as in
``validate_imu_events.py`` (mutual nearest within ``TOLERANCE_S``), both sides pooled; error = detected - reference.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from validate_imu_events import DATA as GAITMAP_DATA
from validate_imu_events import _pooled

from exohub.exceptions import ValidationError
from exohub.signals import Recording
from exohub.signals.datasets import load_gaitalytics, load_gaitmap_imu
from exohub.signals.gait import SOURCE_KINDS, EventSource, detect_gait_events, find_event_sources

GAITALYTICS = GAITMAP_DATA.parent / "gaitalytics_c3d_emg"
TOLERANCE_S = 0.1


def _forced(recording: Recording, kind: str) -> dict[str, EventSource] | None:
    try:
        sources = find_event_sources(recording, kinds=(kind,))
    except ValidationError:
        return None
    return sources if len(sources) == 2 else None


def score(recording: Recording, sources: dict[str, EventSource]) -> dict:
    """F1, bias, SD and MAE (ms) per event type of the events found from ``sources``."""
    found = detect_gait_events(recording, sources=sources).events
    reference = recording.events
    lo, hi = reference["time_s"].min() - TOLERANCE_S, reference["time_s"].max() + TOLERANCE_S
    found = found[(found["time_s"] >= lo) & (found["time_s"] <= hi)]
    row = {}
    for event, short in (("initial_contact", "ic"), ("final_contact", "fc")):
        per_side = [
            (
                found.loc[(found["side"] == side) & (found["event"] == event), "time_s"].to_numpy(),
                reference.loc[(reference["side"] == side) & (reference["event"] == event), "time_s"].to_numpy(),
            )
            for side in ("left", "right")
        ]
        row[short] = _pooled(per_side)
    return row


def validate() -> list[dict]:
    """One row per recording and source kind present."""
    recordings = {
        "gaitmap imu_sample (mocap)": load_gaitmap_imu(GAITMAP_DATA / "imu_sample.csv"),
        "gaitalytics treadmill": load_gaitalytics(GAITALYTICS / "treadmill_events.c3d"),
        "gaitalytics test_small": load_gaitalytics(GAITALYTICS / "test_small.c3d"),
    }
    rows = []
    for name, recording in recordings.items():
        chosen = {source.kind for source in find_event_sources(recording).values()}
        for kind in SOURCE_KINDS:
            sources = _forced(recording, kind)
            if sources is None:
                continue
            rows.append({"recording": name, "source": kind, "default": kind in chosen, **score(recording, sources)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the C3D files carry marker labels outside the convention
    rows = validate()
    if args.json:
        print(json.dumps({"tolerance_ms": TOLERANCE_S * 1000, "rows": rows}, indent=2))
        return
    print(f"tolerance {TOLERANCE_S * 1000:.0f} ms; * = the source detect_gait_events picks by itself")
    print(f"{'recording':<28}{'source':<13}{'event':<6}{'ref':>5}{'found':>6}{'F1':>7}{'bias':>8}{'SD':>7}{'MAE':>7}")
    for row in rows:
        for event in ("ic", "fc"):
            s = row[event]
            cells = [f"{s[k]:>7.1f}" if np.isfinite(s[k]) else f"{'-':>7}" for k in ("bias_ms", "sd_ms", "mae_ms")]
            print(
                f"{row['recording']:<28}{row['source'] + ('*' if row['default'] else ''):<13}{event:<6}"
                f"{s['n_reference']:>5}{s['n_detected']:>6}{s['f1']:>7.3f}{''.join(cells)}"
            )


if __name__ == "__main__":
    main()

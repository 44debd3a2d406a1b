"""Gait-cycle curves of a motion-lab session: many channels split into readable plots, and every plot renders."""

import math

from exohub.web.clinic import plots
from exohub.web.clinic.progress import MAX_CURVES_PER_PLOT, cycle_curve_groups, cycle_curves


def _document(channels: list[str]) -> dict[str, dict[str, list[float]]]:
    curve = [10 * math.sin(2 * math.pi * k / 100) for k in range(101)]
    return {
        "angle_profiles_deg": {"cycle_pct": list(range(101)), **dict.fromkeys(channels, curve)},
        "angle_profiles_sd_deg": {"cycle_pct": list(range(101)), **{name: [1.0] * 101 for name in channels}},
    }


def test_angles_are_grouped_by_joint_and_every_group_renders() -> None:
    """A C3D from a motion lab has three planes of every joint on both sides: 18 curves, never one plot."""
    channels = [
        f"{side}_{joint}_angle_{axis}"
        for joint in ("hip", "knee", "ankle")
        for side in ("left", "right")
        for axis in "xyz"
    ]
    document = _document(channels)
    groups = cycle_curve_groups(document, "angles")
    assert [title.split(":")[0] for title, _ in groups] == ["Hip", "Knee", "Ankle"]
    assert all(len(names) <= MAX_CURVES_PER_PLOT for _, names in groups)
    assert sorted(name for _, names in groups for name in names) == sorted(channels)
    for title, names in groups:
        curves = cycle_curves(document, "angles", channels=names)
        svg = plots.cycle_curves_svg(title, "deg", curves, curves)  # compared with itself: twice the legend
        assert svg.startswith("<svg") and title in svg


def test_a_plot_with_many_curves_grows_instead_of_failing() -> None:
    names = [f"left_muscle_{number}_emg" for number in range(14)]
    curves = cycle_curves(_document(names) | {"emg_profiles": _document(names)["angle_profiles_deg"]}, "emg")
    assert len(curves) == 14
    assert plots.cycle_curves_svg("EMG", "a.u.", curves, curves).startswith("<svg")

"""The gaitalytics C3D samples (``gaitalytics_c3d_emg``): surface EMG, joint angles, force plates, gait events."""

from __future__ import annotations

from pathlib import Path

from exohub.signals.channels import parse_channel
from exohub.signals.io._c3d import read_c3d
from exohub.signals.io._errors import check_file
from exohub.signals.recording import Recording

#: Which foot each force plate carries, per file (from the data set's README: on the Motek treadmill plate 1 is
#: left, plate 2 right; the four overground plates of ``test_small`` are stepped on by either foot).
GAITALYTICS_FORCE_PLATES: dict[str, dict[int, str]] = {"treadmill_events.c3d": {1: "left", 2: "right"}}
#: Analog channels the README calls zero/unused.
GAITALYTICS_UNUSED = {"Voltage.15": None, "Voltage.16": None, "Voltage.FootswitchA": None, "Voltage.FootswitchB": None}
_KEPT_QUANTITIES = ("angle", "emg", "force")


def load_gaitalytics(path: str | Path) -> Recording:
    """Load one C3D file of the gaitalytics samples (``treadmill_events.c3d`` or ``test_small.c3d``).

    Parameters
    ----------
    path
        The ``.c3d`` file.

    Returns
    -------
    Recording
        Two streams. At 1000 Hz: surface EMG in V, named by muscle where the file names it (``Voltage.LTA`` ->
        ``left_tibialis_anterior_emg``, ``GAS`` read as gastrocnemius medialis) and ``channel_<n>_emg`` where it
        does not (``treadmill_events``: ``Voltage.1`` .. ``Voltage.12``); on the treadmill also the vertical and
        shear ground reaction forces ``left/right_foot_force_x/y/z`` in N. At 100 Hz: the Plug-in-Gait angles of
        hip, knee, ankle (``<side>_<joint>_angle_x/y/z``), foot progression (``<side>_foot_angle_*``), pelvis and
        thorax (``pelvis_angle_*``, ``trunk_angle_*``) in rad. Reference events: the file's Foot Strike / Foot Off
        as ``initial_contact`` / ``final_contact``. ``time_s`` counts from C3D frame 1, as the CSV exports do.

    Notes
    -----
    Not kept: marker trajectories (no position channels in the convention), the model's joint forces, moments and
    powers, the plate moments, and the channels the README marks unused (``Voltage.15/16``, foot switches).

    References
    ----------
    python-gaitalytics test fixtures, github.com/DART-Lab-LLUI/python-gaitalytics (MIT).
    """
    path = check_file(path)
    recording = read_c3d(
        path,
        channel_map=GAITALYTICS_UNUSED,
        force_plate_sides=GAITALYTICS_FORCE_PLATES.get(path.name),
        unmapped="ignore",
    )
    unwanted = [
        name
        for name in recording.channels
        if parse_channel(name).quantity not in _KEPT_QUANTITIES
        or (parse_channel(name).quantity == "force" and parse_channel(name).body_part != "foot")
    ]
    recording = recording.drop(unwanted)
    recording.info["source"] = f"gaitalytics_c3d_emg/{path.name}"
    return recording

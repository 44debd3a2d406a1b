"""The session runner: the fault matrix, the session log read back, resets, clamping, real hip-exo gait."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exohub.control import SimulatedClock
from exohub.control.assistance import AssistancePolicy, TorqueProfile
from exohub.control.devices import default_hip_profile
from exohub.control.faults import EXPECTED_FAULT, run_fault_matrix
from exohub.control.session import (
    FAULT_CODES,
    SAFETY_EVENT_COLUMNS,
    AnglePhaseEstimator,
    find_safety_events,
    run_session,
)
from exohub.control.virtual import FAULT_KINDS, FaultInjection, VirtualPatient
from exohub.exceptions import ValidationError
from exohub.signals import read_recording
from exohub.signals.datasets import load_hipexo
from exohub.signals.events import NORMATIVE_INITIAL_CONTACT_LAG
from exohub.signals.gait import analyse_gait
from exohub.signals.metrics import compute_assistance_over_time
from exohub.signals.phase import GaitPhaseEstimator

FIXTURE = Path(__file__).parents[1] / "data" / "synthetic_hip_walk.csv"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RATE_HZ = 500.0


@pytest.fixture(scope="module")
def profile():
    return default_hip_profile()


@pytest.fixture(scope="module")
def gait():
    return read_recording(FIXTURE)


def _session(gait, profile, faults=(), duration_s=4.0, **kwargs):
    patient = VirtualPatient(gait, profile, rate_hz=RATE_HZ, faults=faults)
    return run_session(patient, duration_s=duration_s, clock=SimulatedClock(), **kwargs)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault_matrix_safe_within_one_tick_latched_and_logged(kind, gait, profile, tmp_path) -> None:
    cases = run_fault_matrix(gait, profile, rate_hz=RATE_HZ, kinds=[kind], directory=tmp_path)
    assert len(cases) == 3
    for case in cases:
        assert case.fault == EXPECTED_FAULT[kind], case
        assert case.ticks_to_safe == 0, case  # the safe state comes in the very tick the fault is observable
        assert case.safe_state and case.latched and case.logged, case
        assert case.passed


def test_session_log_is_written_and_read_back(gait, profile, tmp_path) -> None:
    out = tmp_path / "session.parquet"
    fault = FaultInjection("over_temperature", 3.0, joint="left_hip", magnitude=40.0)
    result = _session(gait, profile, faults=(fault,), out=out)
    assert result.path == out and result.n_log_overwritten == 0
    assert result.timing.n_ticks == 4 * RATE_HZ and result.data.shape == (2000, len(result.columns))
    stored = read_recording(out)
    assert set(stored.channels) == {
        "left_hip_angle", "left_hip_velocity", "left_hip_torque", "left_thigh_skin_temp",
        "right_hip_angle", "right_hip_velocity", "right_hip_torque", "right_thigh_skin_temp",
    }  # fmt: skip
    np.testing.assert_array_equal(stored.streams[0]["left_hip_angle"], result.column("left_hip_angle_rad"))
    np.testing.assert_array_equal(stored.labels["left_hip_phase_estimate"], result.column("left_hip_phase"))
    np.testing.assert_array_equal(
        stored.labels["right_hip_torque_command_nm"], result.column("right_hip_command_torque_nm")
    )
    # the warning at 41 degC comes before the fault at 43 degC; both are in the log
    kinds = [event.kind for event in result.events]
    assert kinds == ["skin_temperature_warning", "skin_temperature"]
    labels = stored.labels
    warning_s = labels.index[labels["skin_warning"] == 1.0]
    fault_s = labels.index[labels["fault"] == 1.0]
    assert len(warning_s) == 1 and warning_s[0] < fault_s[0]
    assert (labels.loc[fault_s, "fault_code"] == FAULT_CODES["skin_temperature"]).all()
    assert "skin_temperature at" in stored.info["description"]
    assert stored.info["device"] == profile.name


def test_assistance_flows_through_and_stays_within_limits(gait, profile) -> None:
    result = _session(gait, profile, duration_s=5.0)
    assert result.events == ()
    phase = result.column("left_hip_phase")
    assert np.isfinite(phase[-1000:]).all() and ((phase[-1000:] >= 0) & (phase[-1000:] < 1)).all()
    sent = result.column("left_hip_command_torque_nm")
    assert sent.max() > 5.0 and sent.min() < -3.0
    assert np.abs(sent).max() <= profile.joints[0].max_torque_nm
    applied = result.column("left_hip_applied_torque_nm")
    assert np.corrcoef(sent[-1000:], applied[-1000:])[0, 1] > 0.95  # a 10 ms lag behind the command


def test_a_finite_torque_spike_is_clamped_not_a_fault(gait, profile) -> None:
    spike = FaultInjection("torque_spike", 3.0, duration_s=0.1, joint="right_hip", magnitude=500.0)
    result = _session(gait, profile, faults=(spike,))
    assert result.events == ()
    window = slice(int(3.0 * RATE_HZ), int(3.1 * RATE_HZ))
    assert (result.column("right_hip_policy_torque_nm")[window] > 400).all()
    np.testing.assert_array_equal(result.column("right_hip_command_torque_nm")[window], 15.0)


def test_reset_is_refused_while_the_cause_lasts_and_recorded_after(gait, profile, tmp_path) -> None:
    breach = FaultInjection("rom_breach", 2.5, duration_s=0.5, joint="left_hip")
    resets = [(2.8, "therapist A"), (3.5, "therapist A")]
    result = _session(gait, profile, faults=(breach,), resets=resets, out=tmp_path / "reset.parquet")
    assert [event.kind for event in result.events] == ["range_of_motion", "reset"]
    assert len(result.refused_resets) == 1 and "still present" in result.refused_resets[0][1]
    code = result.column("fault_code")
    t_s = result.column("t_s")
    assert (code[(t_s >= 2.5) & (t_s < 3.5)] > 0).all() and (code[t_s >= 3.5] == 0).all()
    labels = read_recording(tmp_path / "reset.parquet").labels
    assert labels.index[labels["reset"] == 1.0].tolist() == [3.5]
    # the policy's soft start runs again from the reset: no jump back to full assistance
    policy = np.abs(result.column("left_hip_policy_torque_nm"))
    assert policy[t_s == 3.5][0] == 0.0 and policy[(t_s >= 3.5) & (t_s < 3.6)].max() < 0.15 * policy.max()


class _Recorder:
    """A device wrapper that keeps every command written to it."""

    def __init__(self, patient) -> None:
        self.writes: list[tuple[float, np.ndarray]] = []
        self._write = patient.write
        patient.write = self

    def __call__(self, t_s, command) -> None:
        self.writes.append((t_s, np.array(command)))
        self._write(t_s, command)


def test_the_session_ends_by_sending_zero_torque(gait, profile) -> None:
    patient = VirtualPatient(gait, profile, rate_hz=RATE_HZ)
    recorder = _Recorder(patient)
    result = run_session(patient, duration_s=2.0, clock=SimulatedClock())
    assert len(recorder.writes) == result.timing.n_ticks + 1
    assert np.abs(recorder.writes[-2][1]).max() > 0  # still assisting at the last tick
    np.testing.assert_array_equal(recorder.writes[-1][1], [0.0, 0.0])


class _FailingEstimator(AnglePhaseEstimator):
    def step(self, t_s: float, angle_rad: float) -> float:
        if t_s >= 2.0:
            raise ZeroDivisionError("float division by zero")
        return super().step(t_s, angle_rad)


def test_a_controller_that_raises_gets_the_safe_state_and_the_session_runs_to_its_end(gait, profile) -> None:
    patient = VirtualPatient(gait, profile, rate_hz=RATE_HZ)
    recorder = _Recorder(patient)
    estimators = [_FailingEstimator(), AnglePhaseEstimator()]
    result = run_session(patient, duration_s=3.0, clock=SimulatedClock(), phase_estimators=estimators)
    assert [event.kind for event in result.faults] == ["controller_error"]
    assert result.faults[0].time_s == 2.0 and "ZeroDivisionError" in result.faults[0].detail
    t_s, sent = result.column("t_s"), np.abs(result.column("left_hip_command_torque_nm"))
    assert result.timing.n_ticks == 3 * RATE_HZ
    assert sent[(t_s >= 2.0) & (t_s < 2.01)].max() <= sent[t_s < 2.0][-1]  # ramps down from the last command
    assert (sent[t_s >= 2.2] == 0.0).all()
    np.testing.assert_array_equal(recorder.writes[-1][1], [0.0, 0.0])


def test_zero_torque_is_sent_even_when_the_loop_is_stopped_by_an_exception(gait, profile) -> None:
    patient = VirtualPatient(gait, profile, rate_hz=RATE_HZ)
    recorder = _Recorder(patient)

    def failing_write(t_s, command):
        recorder(t_s, command)
        if t_s == 1.0:
            raise ConnectionError("the device went away")

    patient.write = failing_write
    with pytest.raises(ConnectionError):
        run_session(patient, duration_s=2.0, clock=SimulatedClock())
    assert recorder.writes[-2][0] == 1.0
    np.testing.assert_array_equal(recorder.writes[-1][1], [0.0, 0.0])


def test_a_policy_for_other_joints_or_in_another_order_is_refused(gait, profile) -> None:
    patient = VirtualPatient(gait, profile, rate_hz=RATE_HZ)
    swapped = AssistancePolicy((TorqueProfile.hip("right_hip"), TorqueProfile.hip("left_hip")))
    with pytest.raises(ValidationError, match=r"policy's torque profiles are for \['right_hip', 'left_hip'\]"):
        run_session(patient, duration_s=1.0, clock=SimulatedClock(), policy=swapped)
    knees = AssistancePolicy((TorqueProfile.hip("left_knee"), TorqueProfile.hip("right_knee")))
    with pytest.raises(ValidationError, match="in that order"):
        run_session(patient, duration_s=1.0, clock=SimulatedClock(), policy=knees)


@pytest.mark.parametrize(
    ("resets", "message"),
    [
        ([(float("nan"), "A")], r"resets\[0\]: time_s must be a finite number"),
        ([(1.0,)], r"resets\[0\] must be a \(time_s, authorised_by\) pair"),
        ([(1.0, None)], r"resets\[0\]: authorised_by must name who resets"),
        ([(1.0, "A"), (-2.0, "B")], r"resets\[1\]: time_s"),
    ],
)
def test_malformed_resets_are_refused_by_position(gait, profile, resets, message) -> None:
    patient = VirtualPatient(gait, profile, rate_hz=RATE_HZ)
    with pytest.raises(ValidationError, match=message):
        run_session(patient, duration_s=1.0, clock=SimulatedClock(), resets=resets)


def test_overruns_of_the_loop_reach_the_supervisor(gait, profile) -> None:
    patient = VirtualPatient(gait, profile, rate_hz=RATE_HZ)
    clock = SimulatedClock()
    n_slow = [3]  # from 4 s, three ticks in a row take 3 periods each: the loop reports overruns
    real_write = patient.write

    def slow_write(t_s, command):
        real_write(t_s, command)
        if t_s >= 4.0 and n_slow[0]:
            n_slow[0] -= 1
            clock.advance(3.0 / RATE_HZ)

    patient.write = slow_write
    result = run_session(patient, duration_s=5.0, clock=clock)
    assert result.timing.n_overruns == 3
    assert [event.kind for event in result.faults] == ["loop_overrun"]


def test_angle_phase_estimator_meets_the_protocol_and_ignores_nan() -> None:
    estimator = AnglePhaseEstimator()
    assert isinstance(estimator, GaitPhaseEstimator)
    time_s = np.arange(0, 6, 0.005)
    angle = 0.4 * np.sin(2 * np.pi * time_s)  # 1 s strides, flexion maxima at 0.25 s + k
    angle[400:405] = np.nan  # a broken reading at 2.0 s confirms no maximum
    phases = np.array([estimator.step(t, a) for t, a in zip(time_s.tolist(), angle.tolist(), strict=True)])
    expected = (time_s - 0.25 - NORMATIVE_INITIAL_CONTACT_LAG) % 1.0  # contact comes the normative lag after
    settled = time_s > 3.5
    error = (phases[settled] - expected[settled] + 0.5) % 1.0 - 0.5
    assert np.isfinite(error).all() and np.median(np.abs(error)) < 0.01 and np.abs(error).max() < 0.1
    estimator.reset()
    assert np.isnan(estimator.step(0.0, 0.1))


def test_session_recording_passes_the_gait_report(gait, profile, tmp_path) -> None:
    result = _session(gait, profile, duration_s=6.0, out=tmp_path / "s.parquet")
    gait_analysis = analyse_gait(read_recording(result.path))
    analysis = gait_analysis.to_dict()
    assert analysis["event_sources"]["left"]["kind"] == "hip_angle"
    assert analysis["event_counts"]["left_initial_contact"] >= 4
    assert set(analysis["skin_temperature"]) == {"left_thigh_skin_temp", "right_thigh_skin_temp"}
    assert analysis["summary"]["up_time_s"] == pytest.approx(6.0)  # walking all along
    assert set(analysis["angle_profiles_deg"]) == {"cycle_pct", "left_hip_angle", "right_hip_angle"}
    assert set(analysis["assistance"]) == {"left_hip_torque", "right_hip_torque"}
    assert analysis["assistance"]["left_hip_torque"]["peak_abs_torque_nm"][0] > 4.0
    text = gait_analysis.to_text()
    assert "Up time 6.0 s (hip angles: left_hip_angle, right_hip_angle)" in text
    assert "Assistance delivered" in text and "left_hip_torque" in text


@pytest.mark.skipif(not (DATA / "hipexo_gait_phase").is_dir(), reason="../shared/data/hipexo_gait_phase absent")
def test_real_hip_exo_gait_runs_without_a_fault(profile) -> None:
    recording = load_hipexo(DATA / "hipexo_gait_phase" / "AB01" / "labeled_CW_ZI_1.txt.gz").crop(0.0, 8.0)
    result = run_session(VirtualPatient(recording, profile, rate_hz=RATE_HZ), duration_s=8.0, clock=SimulatedClock())
    assert result.faults == ()
    assert np.isfinite(result.column("left_hip_phase")[-1000:]).mean() > 0.9
    assert np.abs(result.column("left_hip_command_torque_nm")).max() > 4.0


def test_safety_events_are_read_from_the_session_log_after_a_round_trip(gait, profile, tmp_path) -> None:
    faults = (
        FaultInjection("rom_breach", 1.5, duration_s=0.3, joint="left_hip"),
        FaultInjection("overrun", 3.0, duration_s=0.01),  # 5 late ticks: a loop_overrun fault at the third
        FaultInjection("over_temperature", 4.0, joint="right_hip", magnitude=40.0),
    )
    resets = [(2.5, "therapist A"), (3.5, "therapist B")]
    result = _session(gait, profile, faults=faults, duration_s=5.0, resets=resets, out=tmp_path / "s.parquet")
    events = find_safety_events(read_recording(result.path))
    assert tuple(events.columns) == SAFETY_EVENT_COLUMNS
    assert events["kind"].tolist() == [
        "range_of_motion", "reset", "overrun", "loop_overrun", "reset", "skin_temperature_warning", "skin_temperature"
    ]  # fmt: skip
    recorded = list(result.events)
    not_overrun = events[events["kind"] != "overrun"]
    np.testing.assert_allclose(not_overrun["time_s"], [event.time_s for event in recorded])
    assert not_overrun["detail"].tolist() == [event.detail for event in recorded]
    # the supervisor names no joint for skin events: the hottest cuff's joint is given
    assert events["joint"].tolist() == ["left_hip", None, None, None, None, "right_hip", "right_hip"]
    overrun = events[events["kind"] == "overrun"].iloc[0]
    assert overrun["time_s"] == 3.0 and overrun["detail"] == "5 late ticks in a row, until 3.0080 s"
    pd.testing.assert_frame_equal(events, find_safety_events(result.recording))


def test_safety_events_come_from_the_labels_when_the_description_lacks_them(gait, profile) -> None:
    fault = FaultInjection("rom_breach", 1.0, joint="right_hip")
    recording = _session(gait, profile, faults=(fault,), duration_s=2.0).recording
    recording.info["description"] = "cut"
    events = find_safety_events(recording)
    assert events["kind"].tolist() == ["range_of_motion"] and events["time_s"].tolist() == [1.0]
    assert events["detail"].tolist() == [""] and events["joint"].tolist() == [None]


def test_a_recording_that_is_not_a_session_log_has_no_safety_events(gait) -> None:
    events = find_safety_events(gait)
    assert events.empty and tuple(events.columns) == SAFETY_EVENT_COLUMNS


@pytest.mark.skipif(not (DATA / "hipexo_gait_phase").is_dir(), reason="../shared/data/hipexo_gait_phase absent")
def test_assistance_on_real_hip_exo_gait_goes_with_the_motion(profile) -> None:
    recording = load_hipexo(DATA / "hipexo_gait_phase" / "AB01" / "labeled_CW_ZI_1.txt.gz").crop(0.0, 12.0)
    result = run_session(VirtualPatient(recording, profile, rate_hz=RATE_HZ), duration_s=12.0, clock=SimulatedClock())
    assistance = compute_assistance_over_time(result.recording, bin_s=3.0)
    np.testing.assert_allclose(assistance.index, [0.0, 3.0, 6.0, 9.0])
    for joint in profile.joint_names:
        per_bin = assistance[f"{joint}_torque"]
        applied = result.column(f"{joint}_applied_torque_nm")
        np.testing.assert_allclose(per_bin["covered_s"].sum(), 12.0)
        assert per_bin["peak_abs_torque_nm"].max() == pytest.approx(np.abs(applied).max())
        assert per_bin["peak_abs_torque_nm"].max() <= profile.joints[0].max_torque_nm
        assert per_bin["mean_abs_torque_nm"].iloc[0] < per_bin["mean_abs_torque_nm"].iloc[1:].min()  # soft start
        # the hip profile pushes with the motion: nearly all of |power| is positive work
        absolute_work_j = per_bin["mean_abs_power_w"] * per_bin["covered_s"]
        assert (per_bin["positive_work_j"].iloc[1:] > 0.9 * absolute_work_j.iloc[1:]).all()

"""``exohub control``: run the assistance loop on a virtual patient, benchmark its timing, run the fault matrix."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from exohub.cli._errors import user_errors
from exohub.control._defaults import DEFAULT_TIMES_S
from exohub.control._realtime import check_cpus, check_realtime_priority
from exohub.exceptions import ValidationError

# The loop, the virtual patient and the readers (numpy, pandas, scipy) are imported by the commands that use them,
# so that `exohub --help` and the other areas' commands do not pay for them.
if TYPE_CHECKING:
    from exohub.control import DeviceProfile, FaultInjection, MonotonicClock
    from exohub.signals import Recording

app = typer.Typer(help="The real-time assistance loop on a virtual patient: run, bench, faults.", no_args_is_help=True)

PatientOption = Annotated[
    Path | None,
    typer.Option(
        "--patient",
        help="Gait to replay: a hip-exoskeleton .txt.gz file or any recording with left/right_hip_angle "
        "(.csv, .parquet, ...). Default: synthetic level walking.",
    ),
]
Rate = Annotated[float, typer.Option("--rate", min=100.0, max=1000.0, help="Loop rate (Hz).")]
ProfileOption = Annotated[
    Path | None, typer.Option("--profile", help="Device profile (.json or .toml); default: the reference hip exo.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
SpinOption = Annotated[
    float | None,
    typer.Option(
        "--spin-us",
        min=0.0,
        help="Busy-wait this long before each deadline (µs). Default: the whole period, so the loop owns a core and "
        "never waits on the scheduler; 300 with --realtime-priority (a real-time thread that never sleeps is "
        "throttled by the kernel). E.g. 300 leaves most of the core to others.",
    ),
]
RealtimePriorityOption = Annotated[
    int | None,
    typer.Option(
        "--realtime-priority",
        help="Run the loop's thread under SCHED_FIFO at this priority (1-99) with the memory locked (Linux; needs "
        "root, CAP_SYS_NICE or ulimit -r). Default: the normal policy.",
    ),
]
CpusOption = Annotated[
    str | None,
    typer.Option("--cpus", help="Pin the loop's thread to these CPU ids, comma-separated (e.g. 1 or 2,3)."),
]


def _clock(rate_hz: float, spin_us: float | None, realtime_priority: int | None) -> MonotonicClock:
    from exohub.control._timing import DEFAULT_SPIN_S, MonotonicClock

    if spin_us is not None:
        return MonotonicClock(spin_s=spin_us * 1e-6)
    return MonotonicClock(spin_s=1.0 / rate_hz if realtime_priority is None else DEFAULT_SPIN_S)


def _realtime(priority: int | None, cpus: str | None) -> tuple[int | None, frozenset[int] | None]:
    """``--realtime-priority`` and ``--cpus`` checked as the loop checks them, errors naming the option."""
    try:
        checked_priority = check_realtime_priority(priority)
    except ValueError as err:
        raise ValidationError(f"--realtime-priority: {err}") from err
    if cpus is None:
        return checked_priority, None
    try:
        ids = [int(text) for text in cpus.split(",")]
        return checked_priority, check_cpus(ids)
    except ValueError as err:
        raise ValidationError(f"--cpus {cpus!r}: write CPU ids separated by commas (e.g. 1 or 2,3); {err}") from err


def _gait(path: Path | None, duration_s: float) -> Recording:
    from exohub.control.virtual import synthetic_hip_gait
    from exohub.signals import read_recording
    from exohub.signals.datasets import load_hipexo

    if path is None:
        return synthetic_hip_gait(max(min(duration_s, 600.0), 10.0))
    if path.name.lower().endswith(".txt.gz"):
        return load_hipexo(path)
    return read_recording(path)


def _profile(path: Path | None) -> DeviceProfile:
    from exohub.control.devices import default_hip_profile, load_profile

    return default_hip_profile() if path is None else load_profile(path)


def _fault(text: str) -> FaultInjection:
    """``kind@start_s`` or ``kind@start_s+duration_s`` (e.g. ``rom_breach@5+0.2``)."""
    from exohub.control.virtual import FaultInjection

    kind, _, when = text.partition("@")
    start, _, duration = when.partition("+")
    try:
        return FaultInjection(kind, float(start), None if not duration else float(duration))
    except ValueError as err:
        raise ValidationError(f"--fault {text!r}: write KIND@START_S or KIND@START_S+DURATION_S.") from err


@app.command("run")
@user_errors
def run_command(
    patient: Annotated[Path, typer.Option("--patient", help="Gait to replay (.txt.gz hip-exo file or a recording).")],
    out: Annotated[Path, typer.Option("--out", help="Session recording to write (.parquet or .csv).")],
    rate: Rate = 1000.0,
    duration: Annotated[float, typer.Option("--duration", min=0.01, help="Session length (s).")] = 60.0,
    profile: ProfileOption = None,
    mode: Annotated[str, typer.Option("--mode", help="Locomotion mode given to the policy.")] = "level_ground",
    fault: Annotated[
        list[str] | None, typer.Option("--fault", help="Inject KIND@START_S[+DURATION_S]; repeatable.")
    ] = None,
    simulated: Annotated[
        bool, typer.Option("--simulated-clock", help="Run on a simulated clock (as fast as possible).")
    ] = False,
    spin_us: SpinOption = None,
    realtime_priority: RealtimePriorityOption = None,
    cpus: CpusOption = None,
) -> None:
    """Run the assistance loop on a patient replaying ``--patient`` and write the session recording."""
    from exohub.control import SimulatedClock, VirtualPatient, run_session

    priority, cpu_ids = _realtime(realtime_priority, cpus)
    if simulated and (priority is not None or cpu_ids is not None):
        raise ValidationError("--realtime-priority and --cpus apply to the real clock; drop them or --simulated-clock.")
    device = _profile(profile)
    faults = tuple(_fault(text) for text in fault or ())
    virtual = VirtualPatient(_gait(patient, duration), device, rate_hz=rate, faults=faults)
    clock = SimulatedClock() if simulated else _clock(rate, spin_us, priority)
    result = run_session(
        virtual, duration_s=duration, clock=clock, mode=mode, out=out, realtime_priority=priority, cpus=cpu_ids
    )
    typer.echo(result.timing.to_text())
    for event in result.events:
        typer.echo(f"{event.kind} at {event.time_s:.4f} s: {event.detail}")
    typer.echo(f"Wrote {result.data.shape[0]} ticks to {result.path}.")


@app.command("bench")
@user_errors
def bench_command(
    rate: Rate = 1000.0,
    duration: Annotated[float, typer.Option("--duration", min=0.01, help="Benchmark length (s).")] = 30.0,
    patient: PatientOption = None,
    profile: ProfileOption = None,
    spin_us: SpinOption = None,
    realtime_priority: RealtimePriorityOption = None,
    cpus: CpusOption = None,
    as_json: AsJson = False,
) -> None:
    """Run the full pipeline on the real clock; print rate error, per-tick compute percentiles, worst pause."""
    from exohub.control import VirtualPatient, run_session

    priority, cpu_ids = _realtime(realtime_priority, cpus)
    device = _profile(profile)
    virtual = VirtualPatient(_gait(patient, duration), device, rate_hz=rate)
    clock = _clock(rate, spin_us, priority)
    load_before = os.getloadavg()[0]
    result = run_session(virtual, duration_s=duration, clock=clock, realtime_priority=priority, cpus=cpu_ids)
    timing = result.timing
    figures = {
        "rate_hz": timing.target_rate_hz,
        "duration_s": duration,
        "n_ticks": timing.n_ticks,
        "rate_error_pct": timing.rate_error_pct,
        "compute_median_us": timing.compute_median_us,
        "compute_p99_us": timing.compute_p99_us,
        "compute_p99_9_us": timing.compute_p99_9_us,
        "compute_max_us": timing.compute_max_us,
        "worst_pause_ms": timing.worst_pause_ms,
        "n_overruns": timing.n_overruns,
        "n_faults": len(result.faults),
        "n_log_overwritten": result.n_log_overwritten,
        "spin_us": clock.spin_s * 1e6,
        "scheduling_policy": timing.scheduling_policy,
        "realtime_priority": timing.realtime_priority,
        "cpus": None if timing.cpus is None else list(timing.cpus),
        "memory_locked": timing.memory_locked,
        "host_steal_ms": timing.host_steal_ms,
        "load_average_1min": [load_before, os.getloadavg()[0]],
    }
    if as_json:
        typer.echo(json.dumps({key: None if _nan(v) else v for key, v in figures.items()}, indent=2))
        return
    typer.echo(f"{timing.n_ticks} ticks at {rate:g} Hz over {duration:g} s (patient, phase, policy, supervisor, log)")
    typer.echo(f"rate error   {timing.rate_error_pct:+.4f} %")
    typer.echo(
        f"compute      median {timing.compute_median_us:.1f} µs, p99 {timing.compute_p99_us:.1f} µs, "
        f"p99.9 {timing.compute_p99_9_us:.1f} µs, max {timing.compute_max_us:.1f} µs"
    )
    typer.echo(f"worst pause  {timing.worst_pause_ms:.3f} ms beyond one period; {timing.n_overruns} overrun(s)")
    typer.echo(f"faults       {len(result.faults)}; log rows lost {result.n_log_overwritten}")
    typer.echo(f"scheduling   {timing.scheduling_text()}; clock spins {clock.spin_s * 1e6:.0f} µs")
    typer.echo(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1 min)")


def _nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


@app.command("faults")
@user_errors
def faults_command(
    rate: Rate = 1000.0,
    patient: PatientOption = None,
    profile: ProfileOption = None,
    times: Annotated[str, typer.Option("--times", help="Injection times (s), comma-separated.")] = ",".join(
        f"{t:g}" for t in DEFAULT_TIMES_S
    ),
    as_json: AsJson = False,
) -> None:
    """Inject every fault kind at several times (simulated clock); print whether and when the safe state came."""
    from exohub.control.faults import run_fault_matrix

    try:
        times_s = [float(value) for value in times.split(",") if value.strip()]
    except ValueError as err:
        raise ValidationError(f"--times must be numbers separated by commas, got {times!r}.") from err
    gait = _gait(patient, max(times_s, default=0.0) + 2.0)
    cases = run_fault_matrix(gait, _profile(profile), rate_hz=rate, times_s=times_s)
    if as_json:
        typer.echo(json.dumps([case.to_dict() for case in cases], indent=2))
    else:
        typer.echo(
            f"{'fault':<20}{'at s':>7}  {'latched fault':<20}{'ticks':>6}  {'safe':<6}{'latched':<8}{'logged':<7}ok"
        )
        for case in cases:
            ticks = "-" if case.ticks_to_safe is None else str(case.ticks_to_safe)
            typer.echo(
                f"{case.kind:<20}{case.injected_s:>7.2f}  {case.fault or 'none':<20}{ticks:>6}  "
                f"{_yes(case.safe_state):<6}{_yes(case.latched):<8}{_yes(case.logged):<7}{_yes(case.passed)}"
            )
        typer.echo(f"{sum(case.passed for case in cases)} of {len(cases)} cases passed.")
    if not all(case.passed for case in cases):
        raise typer.Exit(code=1)


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"

"""A real Flower deployment on loopback: a SuperLink, two SuperNodes (one per site), ``flwr run`` for one round.

Everything is insecure (no TLS) and bound to 127.0.0.1 on free ports; the processes are this test's own and are
stopped at the end. Skipped with the reason when Flower's executables are missing or the SuperLink cannot start.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("flwr")
pytest.importorskip("torch")

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 240.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.skip(f"{process.args[0]} exited with {process.returncode}: {log.read_text()[-500:]}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.skip(f"{process.args[0]} did not listen on 127.0.0.1:{port} within {START_TIMEOUT_S:.0f} s")


def _app_dir(root: Path, tiny_config) -> Path:
    """A Flower App whose components are exohub's apps, configured for one round of a tiny model."""
    app = root / "app"
    app.mkdir()
    train = {name.replace("_", "-"): getattr(tiny_config, name) for name in ("window", "epochs", "batch_size",
             "channels", "recent", "hidden", "step", "seed")}  # fmt: skip
    config = "\n".join(f"{key} = {json.dumps(value)}" for key, value in train.items())
    (app / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "exohubfl"
version = "1.0.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "exohub"

[tool.flwr.app.components]
serverapp = "exohub.federated.server_app:app"
clientapp = "exohub.federated.client_app:app"

[tool.flwr.app.config]
num-sites = 2
num-rounds = 1
strategy = "fedavg"
timeout-s = 120.0
out-dir = ""
{config}
"""
    )
    return app


@pytest.fixture
def federation(tmp_path: Path, tiny_hipexo: Path) -> Iterator[dict]:
    """SuperLink + two SuperNodes (sites AB01 and AB02) as subprocesses; yields the env for ``flwr``."""
    if not all((BIN / name).exists() for name in ("flower-superlink", "flower-supernode", "flwr")):
        pytest.skip(f"Flower's executables are not in {BIN}")
    home = tmp_path / "flwr_home"
    home.mkdir()
    link = _free_port()  # one HTTP port serves the SuperLink's Fleet, Control and runtime APIs (Flower >= 1.4x)
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "127.0.0.1:{link}"\ninsecure = true\n'
    )
    env = {**os.environ, "FLWR_HOME": str(home), "FLWR_TELEMETRY_ENABLED": "0", "PATH": f"{BIN}:{os.environ['PATH']}"}
    processes: list[subprocess.Popen] = []

    def start(args: list[str], name: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                args, env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        processes.append(process)
        return process, log

    try:
        superlink, log = start(
            [str(BIN / "flower-superlink"), "--insecure", "--host", "127.0.0.1", "--port", str(link)], "superlink"
        )
        _wait_for_port(link, superlink, log)
        for subject in ("AB01", "AB02"):
            node_config = f"data-dir='{tiny_hipexo}' subjects='{subject}' test-every=2"
            start(
                [str(BIN / "flower-supernode"), "--insecure", "--superlink", f"127.0.0.1:{link}",
                 "--host", "127.0.0.1", "--port", str(_free_port()), "--node-config", node_config],
                f"supernode_{subject}",
            )  # fmt: skip
        yield {"env": env, "logs": tmp_path}
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_superlink_and_two_supernodes_run_one_round(federation: dict, tmp_path: Path, tiny_config) -> None:
    # Prepare
    app = _app_dir(tmp_path, tiny_config)
    out = tmp_path / "out"
    # Execute: submit the run to the SuperLink, as a researcher would from their workstation
    submitted = subprocess.run(
        [str(BIN / "flwr"), "run", str(app), "local", "--run-config", f"out-dir='{out}'"],
        env=federation["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not (out / "summary.json").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(federation["logs"].glob("*.log")))
    # Assert: the ServerApp finished one round with both sites and wrote the global model
    assert (out / "summary.json").exists(), f"no result within {RUN_TIMEOUT_S:.0f} s\n{logs}"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_sites"] == 2 and summary["num_rounds"] == 1
    evaluated = summary["rounds"]["1"]["evaluate"]
    assert 0.0 < evaluated["phase_rmse_pct"] < 50.0
    with np.load(out / "global_model.npz") as model:
        assert len(model.files) > 0 and all(np.isfinite(model[name]).all() for name in model.files)
    shutil.rmtree(out)

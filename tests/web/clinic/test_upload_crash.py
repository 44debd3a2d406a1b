"""Kill the server in the middle of an upload: after a restart there is no half session and no stray recording."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from exohub.web import uploads
from exohub.web.accounts import auth
from exohub.web.config import Settings
from exohub.web.database import make_engine
from exohub.web.migrate import upgrade
from exohub.web.tenancy import Role
from tests.web import factories

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``exohub serve`` in its own process on a loopback port, with its own data folder and SQLite database."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.env = {
            **os.environ,
            "EXOHUB_ENVIRONMENT": "test",
            "EXOHUB_DATA_DIR": str(data_dir),
            "EXOHUB_SECRET_KEY": secrets.token_urlsafe(48),
            "EXOHUB_DATABASE_URL": f"sqlite:///{data_dir / 'exohub.db'}",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> Settings:
        return Settings(
            ENVIRONMENT="test",
            DATA_DIR=self.data_dir,
            SECRET_KEY=self.env["EXOHUB_SECRET_KEY"],
            DATABASE_URL=self.env["EXOHUB_DATABASE_URL"],
        )

    def start(self) -> None:
        command = [str(Path(sys.executable).parent / "exohub"), "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("exohub serve did not answer /health")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def get(self, path: str, token: str) -> bytes:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return bytes(response.read())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


def _seed(server: Server) -> tuple[str, int]:
    """A therapist's API token and a session of their patient, committed in the server's database."""
    settings = server.settings
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with sessionmaker(engine)() as session:
        clinic = factories.make_organisation(session)
        therapist = factories.make_user(session, roles=[(clinic, Role.THERAPIST)])
        therapy_session = factories.make_therapy_session(session, factories.make_patient(session, clinic))
        token = auth.start_session(session=session, settings=settings, user=therapist, kind="api", address="test")
        session.commit()
        session_id = therapy_session.id
    engine.dispose()
    return token, session_id


def _upload_request(session_id: int, token: str, recording: Path) -> tuple[bytes, bytes]:
    """The head and the multipart body of a raw ``PUT .../recording``, to send in pieces over a socket."""
    boundary = "exohub-raw-upload"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{recording.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    body = head + recording.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = (
        f"PUT /api/v1/clinic/sessions/{session_id}/recording HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return request, body


def test_killed_mid_upload_leaves_no_half_session(server: Server, walk_csv: Path) -> None:
    token, session_id = _seed(server)
    server.start()
    request, body = _upload_request(session_id, token, walk_csv)
    incoming = uploads.incoming_dir(server.data_dir)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request + body[: len(body) // 2])
        deadline = time.monotonic() + 20
        while not (incoming.is_dir() and any(incoming.iterdir())):  # the server is writing the upload to disk
            assert time.monotonic() < deadline, "the upload never reached the disk"
            time.sleep(0.05)
        server.kill()
    left = list(incoming.iterdir())
    assert left, "the killed upload should have left its partial file"

    server.start()
    answer = server.get(f"/api/v1/clinic/sessions/{session_id}", token)
    assert b'"recording":null' in answer
    stored = server.data_dir / "recordings"
    assert not stored.exists() or not any(stored.rglob("*.parquet"))
    # The partial file of the dead request is swept once it is old enough to belong to no request.
    assert uploads.sweep_incoming(server.data_dir, max_age_s=0.0).removed_files == len(left)
    assert not any(incoming.iterdir())


def test_others_are_served_while_an_upload_is_in_flight(server: Server, walk_csv: Path) -> None:
    """An upload holds no transaction while it streams and is analysed, so SQLite never answers "locked"."""
    token, session_id = _seed(server)
    settings = server.settings
    engine = make_engine(settings.database_url)
    with sessionmaker(engine)() as session:
        other_clinic = factories.make_organisation(session, country_code="KR")
        other_therapist = factories.make_user(session, roles=[(other_clinic, Role.THERAPIST)])
        other_patient = factories.make_patient(session, other_clinic)
        other_token = auth.start_session(
            session=session, settings=settings, user=other_therapist, kind="api", address="test"
        )
        session.commit()
        other_patient_id = other_patient.id
    engine.dispose()
    server.start()
    request, body = _upload_request(session_id, token, walk_csv)
    incoming = uploads.incoming_dir(server.data_dir)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request + body[: len(body) // 2])
        deadline = time.monotonic() + 20
        while not (incoming.is_dir() and any(incoming.iterdir())):
            assert time.monotonic() < deadline, "the upload never reached the disk"
            time.sleep(0.05)
        for _ in range(5):  # each read is audited: a write, while the upload is open
            assert b'"full_name"' in server.get(f"/api/v1/clinic/patients/{other_patient_id}", other_token)
        connection.sendall(body[len(body) // 2 :])
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]

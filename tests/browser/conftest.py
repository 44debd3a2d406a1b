"""Browser-test harness: the demo served by a real ``exohub demo`` process, and headless Debian Chromium.

``live_server`` seeds a fresh demo database in a temporary directory and serves it on a free loopback port
for the whole session; ``browser`` is Chromium driven by Playwright (never a downloaded browser: without
``/usr/bin/chromium`` the tests are skipped, or fail when ``EXOHUB_REQUIRE_BROWSER=1``); ``page`` is a fresh
tablet-sized context per test. Every test in this folder is marked ``browser``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from exohub.web.demo import (
    ALLIANCE_NAME,
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    OPERATOR_EMAIL,
    OPERATOR_NAME,
    ORGANISATIONS,
    PEOPLE,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TABLET_VIEWPORT = {"width": 1024, "height": 768}
SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 10.0
DEFAULT_TIMEOUT_MS = 10_000

ORGANISATION_NAMES = {key: name for key, name, *_ in ORGANISATIONS}

__all__ = [
    "ALLIANCE_NAME",
    "DEMO_PASSWORD",
    "OPERATOR_EMAIL",
    "OPERATOR_NAME",
    "ORGANISATION_NAMES",
    "PEOPLE",
    "demo_email",
    "login",
    "login_redirect",
]

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` (the hook sees the whole session, so filter by path)."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def demo_email(local_part: str) -> str:
    """The demo login for ``local_part`` (``admin.jp`` -> ``admin.jp@demo.exohub.org``)."""
    return f"{local_part}@{DEMO_DOMAIN}"


def login_redirect(base_url: str, path: str) -> re.Pattern[str]:
    """The login page's URL after a signed-out visit to ``path`` (``next`` may be percent-encoded or not)."""
    encoded = re.escape(path).replace("/", "(?:/|%2F)")
    return re.compile(rf"^{re.escape(base_url)}/login\?next={encoded}$")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exohub_command() -> list[str]:
    script = Path(sys.executable).parent / "exohub"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from exohub.cli.main import app; app()"]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as err:
        return f"(no server output: {err})"
    return "\n".join(text.splitlines()[-lines:]) or "(the server printed nothing)"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Seed a fresh demo database and serve it (``exohub demo``) for the session; yields the base URL."""
    data_dir = tmp_path_factory.mktemp("live_server")
    log_path = data_dir / "server.log"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    # Only our data directory: no EXOHUB_* setting of the caller (a DATABASE_URL, say) may leak in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXOHUB_")}
    env.update(EXOHUB_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    command = [*_exohub_command(), "demo", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        # cwd is the data directory so that no .env file of the checkout is read.
        process = subprocess.Popen(command, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _answers(f"{base_url}/health"):
            if process.poll() is not None:
                pytest.fail(
                    f"`exohub demo` exited with status {process.returncode} before answering.\n"
                    f"Its output ({log_path}):\n{_tail(log_path)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"`exohub demo` did not answer {base_url}/health within {SERVER_START_TIMEOUT_S:.0f} s.\n"
                    f"Its output ({log_path}):\n{_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.2)
        yield base_url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, driven by Playwright, for the whole session."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            missing = "the playwright package is not installed"
    if missing:
        if os.environ.get("EXOHUB_REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"Browser tests required (EXOHUB_REQUIRE_BROWSER=1) but {missing}: "
                "make test installs it; run `make browser-deps`.",
                pytrace=False,
            )
        pytest.skip(f"browser tests need Debian's Chromium and playwright ({missing}); run `make browser-deps`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh tablet-sized browser context and page for one test (relative URLs go to the live server)."""
    context = browser.new_context(viewport=TABLET_VIEWPORT, base_url=live_server)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def login(page: Page, base_url: str, email: str, password: str) -> Response:
    """Sign in through the login form, by its labels; returns the response to the form's POST."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url == f"{base_url}/login"
    ) as posted:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return posted.value

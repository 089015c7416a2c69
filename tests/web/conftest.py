"""A real server and a real browser for the browser tests (the app's fixtures are in
tests/conftest.py)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from app.config import PROJECT_ROOT

# -- a real server and a real browser, for the browser tests -----------------------------------
CHROMIUM = Path("/usr/bin/chromium")
SHIPPED_JUDGE = PROJECT_ROOT / "models" / "judge" / "judge.safetensors"
STARTUP_TIMEOUT = 60  # seconds for the server to load the model and answer /healthz

# Runs in every page before its own scripts; Playwright's init scripts are not subject to the CSP.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline code";
  console.error(`CSP violation: ${event.violatedDirective} blocked ${blocked}`);
});
"""


@pytest.fixture(scope="session")
def csp_reporter() -> str:
    """An init script that turns CSP violations into console errors the tests can see."""
    return REPORT_CSP_VIOLATIONS


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium) to run the browser tests"
        if os.environ.get("REALORNN_REQUIRE_BROWSER"):
            pytest.fail(reason)  # CI installs it: a missing browser there is a failure
        pytest.skip(reason)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(chromium, tmp_path_factory, shipped_ngram) -> Iterator[str]:
    """`realornn serve` on a free port, with its own database, the shipped char 7-gram and the
    shipped machine judge."""
    data_dir = tmp_path_factory.mktemp("browser-server")
    models_dir = data_dir / "models"
    (models_dir / "judge").mkdir(parents=True)
    shutil.copy(shipped_ngram, models_dir / shipped_ngram.name)
    shutil.copy(SHIPPED_JUDGE, models_dir / "judge" / SHIPPED_JUDGE.name)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{data_dir / 'game.db'}",
        "DATA_DIR": str(data_dir),
        "MODELS_DIR": str(models_dir),
        "POOL_TARGET": "2",
    }
    port = free_port()
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    log_path = data_dir / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, log_path)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_healthy(url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"the server exited with status {server.returncode}:\n{log_path.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(
        f"the server did not answer /healthz in {STARTUP_TIMEOUT} s:\n{log_path.read_text()}"
    )


@pytest.fixture(scope="module")
def browser(chromium) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            headless=True,
        )
        yield browser
        browser.close()


@pytest.fixture
def problems() -> list[str]:
    """Console errors, uncaught exceptions and CSP violations seen by the test's pages."""
    return []

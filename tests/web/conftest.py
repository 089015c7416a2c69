"""A real app (lifespan, SQLite file, pool thread) on the shipped char 7-gram, per test module."""

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
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright

from app.config import PROJECT_ROOT, Settings
from app.web.main import create_app

SHIPPED_NGRAM = PROJECT_ROOT / "models" / "char-7gram-kn.safetensors"


@pytest.fixture(scope="session")
def ngram_models_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(SHIPPED_NGRAM, folder / SHIPPED_NGRAM.name)
    return folder


def make_settings(data_dir: Path, models_dir: Path, **overrides) -> Settings:
    values = {
        "database_url": "",
        "secret_key": "",
        "pool_target": 2,
        "pool_refill": "thread",  # a thread is quicker to start; test_refill covers the process
        **overrides,
    }
    return Settings(data_dir=data_dir, models_dir=models_dir, **values)


@pytest.fixture(scope="module")
def settings(tmp_path_factory, ngram_models_dir) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"), ngram_models_dir)


@pytest.fixture(scope="module")
def client(settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def wait_for_pool(client: TestClient, ready: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/healthz").json()["pool_ready"] < ready:
        assert time.monotonic() < deadline, "the passage pool did not fill in time"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def settings_factory():
    """make_settings(data_dir, models_dir, **overrides), for tests that build their own app."""
    return make_settings


@pytest.fixture(scope="session")
def pool_waiter():
    return wait_for_pool


@pytest.fixture(scope="session")
def shipped_ngram() -> Path:
    return SHIPPED_NGRAM


# -- a real server and a real browser, for the browser tests -----------------------------------
CHROMIUM = Path("/usr/bin/chromium")
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
def server_url(chromium, tmp_path_factory) -> Iterator[str]:
    """`realornn serve` on a free port, with its own database and only the shipped char 7-gram."""
    data_dir = tmp_path_factory.mktemp("browser-server")
    models_dir = data_dir / "models"
    models_dir.mkdir()
    shutil.copy(SHIPPED_NGRAM, models_dir / SHIPPED_NGRAM.name)
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

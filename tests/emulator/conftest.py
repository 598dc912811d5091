"""Session fixture: run deploy/local/emulator on a free port for the tests.

Set EMULATOR_URL=http://127.0.0.1:PORT to reuse an emulator that is already
running instead (e.g. a plain `moto_server`, to see the tests fail unpatched).
"""

import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import boto3
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
EMULATOR = REPO / "deploy" / "local" / "emulator"
STARTUP_TIMEOUT = float(os.environ.get("EMULATOR_STARTUP_TIMEOUT", "600"))  # first run installs the venv

for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url):
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory):
    if os.environ.get("EMULATOR_URL"):
        yield os.environ["EMULATOR_URL"].rstrip("/")
        return
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(EMULATOR), str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(url):
            if proc.poll() is not None:
                pytest.fail(f"emulator exited with {proc.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"emulator did not answer on {url}:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def aws(endpoint):
    """aws("service") -> boto3 client for the emulator (us-east-1, dummy creds)."""

    def make(service):
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make

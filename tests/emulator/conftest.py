"""Emulators for the tests, one per mode, started together on free ports.

  strict  deploy/local/emulator (strict mode on, the default)
  lax     deploy/local/emulator with STACKWATCH_EMULATOR_STRICT=0
  delay   deploy/local/emulator with STACKWATCH_EMULATOR_IAM_DELAY=IAM_DELAY and
          STACKWATCH_EMULATOR_SQS_DELETE_DELAY=SQS_DELETE_DELAY
  plain   moto_server from the same venv, no extensions at all

A strict-mode test runs against "strict" and, marked xfail(strict=True),
against "lax": it must fail there, or plain moto has started to refuse the
same thing (then the rule is moto's and the test should say so). An extension
test does the same against "plain".

Set EMULATOR_URL=http://127.0.0.1:PORT to use an emulator that is already
running as "strict".
"""

import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = pathlib.Path(__file__).resolve().parents[2]
EMULATOR = REPO / "deploy" / "local" / "emulator"
MOTO_SERVER = REPO / "deploy" / "local" / ".venv" / "bin" / "moto_server"
STARTUP_TIMEOUT = float(os.environ.get("EMULATOR_STARTUP_TIMEOUT", "600"))  # first run installs the venv
IAM_DELAY = 2.0
SQS_DELETE_DELAY = 2.0
REGION = "us-east-1"
ACCOUNT = "123456789012"

for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)

MODES = {
    "strict": {},
    "lax": {"STACKWATCH_EMULATOR_STRICT": "0"},
    "delay": {"STACKWATCH_EMULATOR_IAM_DELAY": str(IAM_DELAY), "STACKWATCH_EMULATOR_SQS_DELETE_DELAY": str(SQS_DELETE_DELAY)},
    "plain": None,  # moto_server
}

# Strict-mode tests: refused by the emulator, accepted by moto alone.
STRICT = ["strict", pytest.param("lax", marks=pytest.mark.xfail(strict=True, reason="moto accepts what AWS refuses"))]
# Extension tests: AWS behaviour the emulator adds, missing from plain moto.
EXTENDED = ["strict", pytest.param("plain", marks=pytest.mark.xfail(strict=True, reason="plain moto lacks it"))]
# Propagation tests: need the delays.
DELAYED = ["delay", pytest.param("lax", marks=pytest.mark.xfail(strict=True, reason="moto has no propagation delays"))]


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


class Emulator:
    def __init__(self, mode, log_dir):
        self.mode = mode
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{mode}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("STACKWATCH_EMULATOR_")}
        if MODES[mode] is None:
            cmd = [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)]
        else:
            cmd = [str(EMULATOR), str(self.port)]
            env.update(MODES[mode])
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.ready = False

    def wait(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.ready:
            if _answers(self.url):
                self.ready = True
                break
            if self.proc.poll() is not None:
                pytest.fail(f"{self.mode} emulator exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{self.mode} emulator did not answer on {self.url}:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        return self

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class External:
    """An emulator someone else runs (EMULATOR_URL)."""

    def __init__(self, url):
        self.mode = "strict"
        self.url = url.rstrip("/")

    def wait(self):
        return self

    def log(self):
        pytest.skip("the log of an external emulator is not available")

    def stop(self):
        pass


@pytest.fixture(scope="session")
def emulators(tmp_path_factory):
    """All modes, started at once (they boot in parallel); each waited for on first use."""
    subprocess.run([str(EMULATOR), "--install-only"], check=True)  # moto_server needs the venv
    log_dir = tmp_path_factory.mktemp("emulators")
    running = {}
    external = os.environ.get("EMULATOR_URL")
    for mode in MODES:
        running[mode] = External(external) if external and mode == "strict" else Emulator(mode, log_dir)
    try:
        yield running
    finally:
        for emulator in running.values():
            emulator.stop()


class Target:
    """One emulator, as the tests use it."""

    def __init__(self, emulator):
        self.emulator = emulator.wait()
        self.mode = emulator.mode
        self.url = emulator.url

    def client(self, service, validate=False, region=REGION):
        """A boto3 client; client-side parameter validation off unless asked for."""
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
        )

    def refusals(self):
        with urllib.request.urlopen(self.url + "/_stackwatch/refusals", timeout=5) as r:
            return json.loads(r.read())

    def signed(self, service, method, path, body=b"", headers=None, region=REGION):
        """Send a SigV4-signed request boto3 would not send; (status, body text)."""
        url = self.url + path
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        SigV4Auth(Credentials("testing", "testing"), service, region).add_auth(request)
        prepared = urllib.request.Request(url, data=body or None, method=method, headers=dict(request.headers))
        try:
            with urllib.request.urlopen(prepared, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def log(self):
        return self.emulator.log()


@pytest.fixture(scope="session")
def endpoint(emulators):
    return Target(emulators["strict"]).url


@pytest.fixture(scope="session")
def aws(emulators):
    """aws("service") -> boto3 client for the strict emulator (us-east-1, dummy creds)."""
    target = Target(emulators["strict"])

    def make(service):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=target.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


@pytest.fixture(params=STRICT)
def strict(request, emulators):
    """The strict emulator, and (xfail) the same emulator with strict mode off."""
    return Target(emulators[request.param])


@pytest.fixture(params=EXTENDED)
def extended(request, emulators):
    """The emulator, and (xfail) plain moto_server."""
    return Target(emulators[request.param])


@pytest.fixture(params=DELAYED)
def delayed(request, emulators):
    """The emulator with the IAM and SQS delays, and (xfail) strict mode off."""
    return Target(emulators[request.param])


@pytest.fixture(params=["strict", "lax"])
def either(request, emulators):
    """Both modes, no xfail: for refusals moto makes too."""
    return Target(emulators[request.param])


@pytest.fixture
def emulator(emulators):
    """Just the strict emulator (tests of strict mode's own surface)."""
    return Target(emulators["strict"])


@pytest.fixture
def lax(emulators):
    return Target(emulators["lax"])


@pytest.fixture
def plain(emulators):
    return Target(emulators["plain"])

"""Tests against a real Kubernetes API server: Debian's etcd and a kube-apiserver (1.20) built
from Debian's source package, started on free loopback ports by `deploy/local/kube DIR`
(which builds the binary once per machine, about 5 to 9 minutes, and caches it).

The session fixture `kube` starts the script, waits for DIR/kubeconfig (written only once the
server answers /readyz), and at the end sends it SIGTERM and checks that both servers stopped and
their data dirs are gone. kubectl is the one in deploy/local/.venv (deploy/local/emulator
--install-only); STACKWATCH_KUBECTL overrides it.

STACKWATCH_KUBE_START_TIMEOUT (seconds, default 1800) bounds the start, build included.
"""

import base64
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
KUBE = REPO / "deploy" / "local" / "kube"
START_TIMEOUT = float(os.environ.get("STACKWATCH_KUBE_START_TIMEOUT", "1800"))


def kubectl_path():
    if os.environ.get("STACKWATCH_KUBECTL"):
        return os.environ["STACKWATCH_KUBECTL"]
    here = pathlib.Path(sys.executable).parent / "kubectl"
    if here.exists():
        return str(here)
    venv = REPO / "deploy" / "local" / ".venv" / "bin" / "kubectl"
    if venv.exists():
        return str(venv)
    pytest.fail("kubectl not found: run deploy/local/emulator --install-only")


def tail(path, lines=40):
    try:
        text = pathlib.Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)\n"
    return f"--- the end of {path}:\n" + "\n".join(text.splitlines()[-lines:]) + "\n"


def logs_of(directory):
    """The ends of the script's, the apiserver's and etcd's logs in `directory`."""
    return "".join(tail(pathlib.Path(directory) / name) for name in ("kube.log", "apiserver.log", "etcd.log"))


class Cluster:
    """The running server: its kubeconfig, a kubectl bound to it, and raw HTTPS requests."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.kubeconfig = self.dir / "kubeconfig"
        config = yaml.safe_load(self.kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        self.server = cluster["server"]
        self.token = config["users"][0]["user"]["token"]
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        # Verifies the server's certificate against the CA and its name (127.0.0.1).
        self.ssl = ssl.create_default_context(cadata=ca)
        self.kubectl_bin = kubectl_path()
        self.cache = self.dir / "kubectl-cache"

    def logs(self):
        return logs_of(self.dir)

    def kubectl(self, *args, input=None, check=True):
        """Runs kubectl against this server only (no ~/.kube); returns the CompletedProcess."""
        cmd = [self.kubectl_bin, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache), *args]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        done = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120, env=env)
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def kubectl_json(self, *args, input=None):
        return json.loads(self.kubectl(*args, "-o", "json", input=input).stdout)

    def request(self, method, path, body=None, content_type="application/json"):
        """One HTTPS request with the bearer token; returns (status, decoded JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def port_open(url):
    host, port = url.removeprefix("https://").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    directory = tmp_path_factory.mktemp("kube")
    log = open(directory / "kube.log", "wb")
    # Its own session, so that a failed start can stop the whole group (a build included).
    proc = subprocess.Popen(
        [str(KUBE), str(directory)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    kubeconfig = directory / "kubeconfig"
    try:
        end = time.monotonic() + START_TIMEOUT
        while not kubeconfig.exists():
            if proc.poll() is not None:
                pytest.fail(f"deploy/local/kube exited {proc.returncode} before it was ready\n"
                            + logs_of(directory))
            if time.monotonic() > end:
                pytest.fail(f"deploy/local/kube not ready after {START_TIMEOUT:.0f} s\n"
                            + logs_of(directory))
            time.sleep(0.2)
        cluster = Cluster(directory)
        yield cluster

        # The normal stop: SIGTERM to the script alone, which stops both servers itself.
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=90)
        assert code == 0, f"deploy/local/kube exited {code} on SIGTERM\n{cluster.logs()}"
        for gone in ("etcd", "pki", "kubeconfig"):
            assert not (directory / gone).exists(), f"{directory / gone} left behind after the stop"
        assert not port_open(cluster.server), f"{cluster.server} still accepts connections after the stop"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test shows the ends of the server logs."""
    outcome = yield
    report = outcome.get_result()
    cluster = item.funcargs.get("kube") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(cluster, Cluster):
        report.sections.append(("kube-apiserver and etcd logs", cluster.logs()))

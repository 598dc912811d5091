"""Browser tests of the console: a real headless Chromium (Debian's chromium and
chromium-driver, driven by selenium) against the real `stackwatch watch` binary and the local
emulator, each on a free port.

The binary is $STACKWATCH_BIN, else $CARGO_TARGET_DIR/debug/stackwatch, else
target/debug/stackwatch (build it first: `cargo build`). Screenshots go to
$STACKWATCH_BROWSER_OUT, else target/browser-screenshots/.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "pylib"))
from emulator import Emulator, free_port  # noqa: E402 - after its path

# The example app's declared test user's password, for the daemons here (emulator only).
TEST_PASSWORD = "Browser-test-pw-1!"
CHROMIUM = os.environ.get("STACKWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("STACKWATCH_CHROMEDRIVER", "/usr/bin/chromedriver")
# Every wait polls up to this long: generous, never a timing assertion.
DEADLINE = float(os.environ.get("STACKWATCH_BROWSER_DEADLINE", "120"))

for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)
# selenium must use the driver given and never look for one on the network.
os.environ["SE_OFFLINE"] = "true"


def binary():
    if os.environ.get("STACKWATCH_BIN"):
        path = pathlib.Path(os.environ["STACKWATCH_BIN"])
    elif os.environ.get("CARGO_TARGET_DIR"):
        path = pathlib.Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "stackwatch"
    else:
        path = REPO / "target" / "debug" / "stackwatch"
    if not path.exists():
        pytest.fail(f"{path} not found: build it with `cargo build` (or set STACKWATCH_BIN)")
    return path


def out_dir():
    d = pathlib.Path(os.environ.get("STACKWATCH_BROWSER_OUT", REPO / "target" / "browser-screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def eventually(what, check, deadline=DEADLINE, logs=None):
    """Polls `check` until it returns something truthy; fails with `logs()` after `deadline`."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        try:
            got = check()
            if got:
                return got
        except Exception as e:  # noqa: BLE001 - a page mid-refresh; try again
            last = e
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what} (last error: {last!r})\n{logs() if logs else ''}")


class Daemon:
    """`stackwatch --config . watch` in a copy of the example app, with its own port."""

    def __init__(self, emulator, args, extra_env=None, console=True):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="stackwatch-browser-"))
        shutil.copytree(REPO / "config", self.dir, dirs_exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.emulator = emulator
        env = {k: v for k, v in os.environ.items() if not k.startswith("STACKWATCH_CONSOLE")}
        env.pop("RUST_LOG", None)
        env.update(emulator.env())
        env["STACKWATCH_TEST_PASSWORD"] = TEST_PASSWORD
        env.update(extra_env or {})
        self.env = env
        self.stdout = open(self.dir / "stdout.log", "w")
        self.stderr = open(self.dir / "stderr.log", "w")
        self.proc = subprocess.Popen(
            [str(binary()), "--config", ".", "watch", "--listen", f"127.0.0.1:{self.port}", *args],
            cwd=self.dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        self.url = None
        self.banner = None
        if console:
            self.banner = eventually("the Console: line on stdout", self._console_line, logs=self.logs)
            self.url = self.banner.split()[1]
        self._token = (extra_env or {}).get("STACKWATCH_CONSOLE_TOKEN")

    def _console_line(self):
        for line in (self.dir / "stdout.log").read_text().splitlines():
            if line.startswith("Console: "):
                return line
        if self.proc.poll() is not None:
            pytest.fail(f"stackwatch watch exited {self.proc.returncode}\n{self.logs()}")
        return None

    @property
    def token(self):
        """The token: the one supplied, else the one in the printed URL."""
        return self._token or self.url.split("token=", 1)[1]

    @property
    def cookie(self):
        return f"stackwatch_console_{self.port}={self.token}"

    def logs(self):
        out = (self.dir / "stdout.log").read_text()
        err = (self.dir / "stderr.log").read_text()
        return f"--- stdout\n{out}\n--- stderr\n{err}"

    def outputs(self):
        return json.loads((self.dir / ".stackwatch" / "outputs.json").read_text())

    def wait_deployed(self):
        def deployed():
            if not (self.dir / ".stackwatch" / "outputs.json").exists():
                return False
            return self.request("GET", "/readyz")[0] == 200

        eventually("the first deploy", deployed, logs=self.logs)

    def request(self, method, path, body=None, headers=None):
        """A raw HTTP request with exactly these headers (Host defaults to the console's)."""
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": f"127.0.0.1:{self.port}"}
        h.update(headers or {})
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            conn.putheader(k, v)
        data = body.encode() if isinstance(body, str) else body
        if data is not None:
            conn.putheader("Content-Type", "application/x-www-form-urlencoded")
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders()
        if data is not None:
            conn.send(data)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        conn.close()
        return resp.status, text, dict(resp.getheaders())

    def stackwatch(self, *args):
        """Runs the stackwatch binary once in the daemon's app directory."""
        return subprocess.run(
            [str(binary()), "--config", ".", *args],
            cwd=self.dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stdout.close()
        self.stderr.close()


@pytest.fixture(scope="session")
def emulator():
    e = Emulator()
    yield e
    e.stop()


@pytest.fixture(scope="session")
def daemon(emulator):
    """The console `on`, applying on its own, re-reading AWS every 2 s (drift shows quickly)."""
    d = Daemon(emulator, ["--approve", "auto", "--console", "on", "--resync", "2s"])
    d.wait_deployed()
    yield d
    d.stop()


# The read-only daemon's token, supplied as a Kubernetes Secret would (never printed).
SUPPLIED_TOKEN = "supplied-token-from-a-secret-0123456789"


@pytest.fixture(scope="session")
def read_only(emulator, daemon):
    """A second daemon on the same app, console read-only with a supplied token, planning
    only (it takes no lease)."""
    d = Daemon(
        emulator,
        ["--approve", "never", "--console", "read-only"],
        extra_env={"STACKWATCH_CONSOLE_TOKEN": SUPPLIED_TOKEN},
    )
    eventually("the read-only daemon's first reconcile", lambda: d.request("GET", "/readyz")[0] == 200, logs=d.logs)
    yield d
    d.stop()


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} missing: run deploy/local/browser --install-only")
    profile = tempfile.mkdtemp(prefix="stackwatch-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1100",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.profile_dir = profile
    return driver


@pytest.fixture
def chrome():
    driver = browser()
    yield driver
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def screenshot(driver, name):
    """Saves a full-page screenshot as out_dir()/name.png."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(800, min(int(height) + 40, 6000)))
    driver.execute_script("window.scrollTo(0, 0)")
    path = out_dir() / f"{name}.png"
    driver.save_screenshot(str(path))
    return path

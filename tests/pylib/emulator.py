"""The strict emulator (deploy/local/emulator) on a free loopback port, for the Python tests
and benches: tests/browser, tests/kube and benches/cluster.py start it through here.

Waits are bounded and poll; a failure says why, with the end of the emulator's log.
"""

import pathlib
import socket
import subprocess
import tempfile
import time

import boto3
from botocore.config import Config

REPO = pathlib.Path(__file__).resolve().parents[2]
EMULATOR = REPO / "deploy" / "local" / "emulator"
REGION = "us-east-1"


def free_port():
    """A free loopback port (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """One emulator process; `stop()` kills it. Its log is a temp file (`logs()`)."""

    def __init__(self, deadline=600):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [str(EMULATOR), str(self.port)], stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log
        )
        self._wait(deadline)

    def _wait(self, deadline):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self.proc.returncode}:\n{self.logs()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the emulator did not answer within {deadline} s:\n{self.logs()}")

    def logs(self):
        """The end of its log."""
        return pathlib.Path(self.log.name).read_text(errors="replace")[-4000:]

    def env(self):
        """Environment for a process (stackwatch) that talks to it."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service):
        """A boto3 client of `service` against it."""
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(s3={"addressing_style": "path"}),
        )

    def stop(self):
        self.proc.kill()
        self.proc.wait()

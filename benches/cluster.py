"""The cluster path of deploy/local/bench: `stackwatch watch --source kubernetes` against a real
kube-apiserver (deploy/local/kube) and the strict emulator, both on loopback.

- Spec change to converged: a JSON patch of the storage Stack's spec (the uploads bucket's CORS
  maxAge) through the API, until AWS has the new value and the Stack's status says
  Ready=True about the new generation; median and p95 over STACKWATCH_BENCH_EDITS edits
  (default 20). The target is under 0.5 s, as for a file save.
- Idle cost to the API server: its own request counters (`apiserver_request_total`, every
  resource and verb) over STACKWATCH_BENCH_CLUSTER_IDLE_SECS (default 60) while nothing
  changes and nobody else talks to it; a watch counts once when it is opened.

The daemon is STACKWATCH_BENCH_BIN, else target/release/stackwatch. Prints one table.
"""

import json
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "pylib"))
from emulator import Emulator, free_port  # noqa: E402 - after its path

NAMESPACE = "bench"
KUBECTL = REPO / "deploy" / "local" / ".venv" / "bin" / "kubectl"
# What the daemon reads and writes; the rest of an idle API server's traffic is its own.
OURS = {"stacks", "apps", "leases", "configmaps", "events"}


def k_not_ours(key):
    return key[1] not in OURS


def wait(what, check, limit=600, every=0.02):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            got = check()
            if got:
                return got
        except Exception:  # noqa: BLE001 - not there yet
            pass
        time.sleep(every)
    sys.exit(f"cluster bench: timed out waiting for {what}")


class Cluster:
    def __init__(self, work):
        self.dir = work / "kube"
        self.dir.mkdir()
        self.log = open(work / "kube.log", "w")
        self.proc = subprocess.Popen([str(REPO / "deploy/local/kube"), str(self.dir)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.kubeconfig = self.dir / "kubeconfig"
        wait("the API server", self.kubeconfig.exists, limit=1800, every=0.2)

    def kubectl(self, *args, input=None):
        done = subprocess.run([str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args], input=input,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {done.stderr}")
        return done.stdout

    def json(self, *args):
        return json.loads(self.kubectl(*args, "-o", "json"))

    def requests(self):
        """Every request the API server counted, by verb and resource."""
        counts = {}
        for line in self.kubectl("get", "--raw", "/metrics").splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels = dict(part.split("=", 1) for part in line[line.index("{") + 1:line.index("}")].split(",")
                          if "=" in part)
            key = (labels.get("verb", "").strip('"'), labels.get("resource", "").strip('"'))
            counts[key] = counts.get(key, 0) + float(line.rsplit(" ", 1)[1])
        return counts

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def main():
    binary = str(pathlib.Path(os.environ.get("STACKWATCH_BENCH_BIN", REPO / "target" / "release" / "stackwatch")).resolve())
    edits = int(os.environ.get("STACKWATCH_BENCH_EDITS", "20"))
    idle = float(os.environ.get("STACKWATCH_BENCH_CLUSTER_IDLE_SECS", "60"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="stackwatch-cluster-bench-"))
    cluster = Cluster(work)
    emulator = Emulator()
    daemon = None
    try:
        cluster.kubectl("apply", "--server-side", "-f", str(REPO / "deploy/k8s/crds/crds.yaml"))
        cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/stacks.stackwatch.dev")
        cluster.kubectl("create", "namespace", NAMESPACE)
        exported = subprocess.run([binary, "--config", str(REPO / "config"), "export", "--kubernetes",
                                   "--namespace", NAMESPACE], capture_output=True, text=True, check=True)
        wait("the stackwatch.dev API", lambda: cluster.kubectl("apply", "-f", "-", input=exported.stdout), every=0.2)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBE", "STACKWATCH_"))}
        env.update(emulator.env())
        env.update({"KUBECONFIG": str(cluster.kubeconfig),
                    "STACKWATCH_TEST_PASSWORD": "Bench-test-pw-1!", "STACKWATCH_STATE_DIR": str(work / "state"),
                    "STACKWATCH_IDENTITY": "bench", "RUST_LOG": "warn"})
        daemon = subprocess.Popen([binary, "watch", "--source", "kubernetes", "--namespace", NAMESPACE,
                                   "--approve", "auto", "--console", "off", "--listen", f"127.0.0.1:{free_port()}"],
                                  env=env, cwd=work, stdout=open(work / "daemon.log", "w"), stderr=subprocess.STDOUT)
        s3 = emulator.client("s3")

        def ready(name, generation=None):
            s = cluster.json("get", "stack", name, "-n", NAMESPACE)
            st = s.get("status", {})
            want = generation or s["metadata"]["generation"]
            ok = st.get("observedGeneration") == want and any(
                c["type"] == "Ready" and c["status"] == "True" for c in st.get("conditions", []))
            return s if ok else None

        for name in ("storagestack", "apistack", "authstack"):
            storage = wait(f"{name} Ready", lambda: ready(name), every=0.2)
        storage = ready("storagestack")
        bucket = next(r["id"] for r in storage["status"]["resources"] if r["name"] == "StorageStack.Uploads")
        generation = storage["metadata"]["generation"]
        took = []
        for i in range(edits):
            value = 1000 + i
            generation += 1
            patch = [{"op": "replace", "path": "/spec/resources/Uploads/cors/0/maxAge", "value": value}]
            started = time.monotonic()
            cluster.kubectl("patch", "stack", "storagestack", "-n", NAMESPACE, "--type", "json", "-p", json.dumps(patch))
            wait(f"edit {i} in AWS",
                 lambda: s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["MaxAgeSeconds"] == value, limit=120)
            wait(f"edit {i} in status", lambda: ready("storagestack", generation), limit=120)
            took.append(time.monotonic() - started)
        ms = sorted(t * 1000 for t in took)
        p95 = ms[min(len(ms) - 1, round((len(ms) - 1) * 0.95))]

        time.sleep(5)  # let the last edit's writes settle before counting
        before = cluster.requests()
        time.sleep(idle)
        after = cluster.requests()
        # The two reads of /metrics itself are the bench's own.
        grew = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) - before.get(k, 0) > 0}
        grew.pop(("GET", ""), None)
        ours = {k: n for k, n in grew.items() if k[1] in OURS}
        per_minute = sum(ours.values()) * 60 / idle
        detail = ", ".join(f"{verb} {res}: {n * 60 / idle:.0f}" for (verb, res), n in sorted(ours.items()))
        others = ", ".join(f"{verb} {res or '-'}: {n * 60 / idle:.0f}" for (verb, res), n in sorted(grew.items())
                           if k_not_ours((verb, res)))

        rows = [
            ("cluster: spec change to converged (median)", f"{statistics.median(ms):.0f} ms",
             f"{edits} edits through the API: AWS changed and Ready=True at the new generation; target < 500 ms"),
            ("cluster: spec change to converged (p95)", f"{p95:.0f} ms", ""),
            ("cluster: idle API requests per minute", f"{per_minute:.1f}",
             f"over {idle:.0f} s, on the resources stackwatch uses: {detail or 'none'} "
             f"(the API server's own controllers, not counted: {others or 'none'})"),
        ]
        width = max(len(r[0]) for r in rows)
        print("\n| measure | value | note |\n| --- | --- | --- |")
        for name, value, note in rows:
            print(f"| {name.ljust(width)} | {value} | {note} |")
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(timeout=30)
        emulator.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

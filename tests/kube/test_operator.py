"""`stackwatch watch --source kubernetes` against the real API server and the strict emulator:
the example app's objects (from `stackwatch export --kubernetes`) converge AWS, every Stack goes
Ready=True with its resources and outputs in its status, and the outputs ConfigMap holds the
auth outputs; a spec edit converges and raises observedGeneration; drift made with boto3 is
reverted with a DriftReverted Event; an invalid spec is InvalidSpec with its field path, an
Event, and no AWS write. In manual approval nothing is written until the annotation names the
pending plan's hash, or the console's Deploy approves it. Deleting a Stack destroys what `removal: destroy` covers and keeps what
`retain` covers, and is held while another Stack uses it. Two daemons elect one writer through
the Kubernetes Lease (the other writes nothing to AWS); when the leader is SIGKILLed, the other takes the Lease and converges
the next edit.

Every wait polls until a generous deadline; none is a timing assertion."""

import hashlib
import hmac
import http.client
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "tests" / "pylib"))
from emulator import Emulator, free_port  # noqa: E402 - after its path

CRDS = REPO / "deploy" / "k8s" / "crds" / "crds.yaml"
NAMESPACE = "operator"
DEADLINE = float(os.environ.get("STACKWATCH_KUBE_DEADLINE", "180"))
# The console's token (read from the environment, as from a Secret in a pod).
CONSOLE_TOKEN = "operator-test-console-token-0123456789"


def binary():
    path = os.environ.get("STACKWATCH_BIN", str(REPO / "target" / "debug" / "stackwatch"))
    if not os.path.exists(path):
        pytest.fail(f"{path} missing: build it with `cargo build` first")
    return path


def eventually(what, check, logs=lambda: ""):
    end = time.monotonic() + DEADLINE
    last = None
    while time.monotonic() < end:
        try:
            got = check()
            if got:
                return got
        except Exception as e:  # noqa: BLE001 - not there yet; try again
            last = e
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what} (last error: {last!r})\n{logs()}")


class Daemon:
    """`stackwatch watch --source kubernetes` on the namespace, with its own port and state."""

    def __init__(self, kube, emulator, identity="test-daemon"):
        self.identity = identity
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="stackwatch-operator-"))
        self.port = free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("STACKWATCH_", "AWS_", "KUBE"))}
        env.update(emulator.env())
        env.update({"KUBECONFIG": str(kube.kubeconfig), "STACKWATCH_TEST_PASSWORD": "Operator-test-pw-1!",
                    "STACKWATCH_STATE_DIR": str(self.dir / "state"), "STACKWATCH_IDENTITY": identity,
                    "STACKWATCH_CONSOLE_TOKEN": CONSOLE_TOKEN,
                    "RUST_LOG": "stackwatch=info"})
        self.out = open(self.dir / "out.log", "w")
        self.proc = subprocess.Popen(
            [binary(), "watch", "--source", "kubernetes", "--namespace", NAMESPACE, "--approve", "auto",
             "--console", "on", "--resync", "2s", "--lease-ttl", "3s", "--listen", f"127.0.0.1:{self.port}"],
            cwd=self.dir, env=env, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT)

    def logs(self):
        return "--- daemon\n" + "\n".join((self.dir / "out.log").read_text().splitlines()[-60:])

    def writes(self, lease_too=False):
        """AWS writes the daemon sent, but (unless `lease_too`) the lease object's own."""
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10).read().decode()
        total = 0
        for line in text.splitlines():
            if line.startswith("stackwatch_aws_calls_total{") and 'kind="write"' in line:
                if not lease_too and ('operation="PutObject"' in line or 'operation="DeleteObject"' in line):
                    continue
                total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def status(self):
        return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=10).read())

    def console_post(self, path, form):
        """A POST from the console's own page: the token cookie, the CSRF token, its Origin."""
        form = dict(form, csrf=hmac.new(CONSOLE_TOKEN.encode(), b"stackwatch console csrf v1",
                                        hashlib.sha256).hexdigest())
        body = urllib.parse.urlencode(form)
        own = f"http://127.0.0.1:{self.port}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", path, body=body, headers={
            "Host": f"127.0.0.1:{self.port}", "Origin": own, "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"stackwatch_console_{self.port}={CONSOLE_TOKEN}"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.status

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


@pytest.fixture(scope="module")
def app(kube):
    kube.kubectl("apply", "--server-side", "-f", "-", input=CRDS.read_text())
    for name in ("apps.stackwatch.dev", "stacks.stackwatch.dev"):
        kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{name}")
    kube.kubectl("create", "namespace", NAMESPACE, check=False)
    exported = subprocess.run([binary(), "--config", str(REPO / "config"), "export", "--kubernetes",
                               "--namespace", NAMESPACE], capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    eventually("the stackwatch.dev API", lambda: kube.kubectl("get", "stacks", "-n", NAMESPACE,
                                                              check=False).returncode == 0)
    kube.kubectl("apply", "-f", "-", input=exported.stdout)
    emulator = Emulator()
    daemon = Daemon(kube, emulator)
    yield kube, emulator, daemon
    daemon.stop()
    emulator.stop()
    shutil.rmtree(daemon.dir, ignore_errors=True)


def stack(kube, name):
    return kube.kubectl_json("get", "stack", name, "-n", NAMESPACE)


def condition(obj, kind):
    for c in obj.get("status", {}).get("conditions", []):
        if c["type"] == kind:
            return c
    return {}


def ready_at(kube, name, generation=None):
    """The Stack once Ready=True about `generation` (default: its current one)."""
    def check():
        s = stack(kube, name)
        want = generation or s["metadata"]["generation"]
        if s.get("status", {}).get("observedGeneration") == want and condition(s, "Ready").get("status") == "True":
            return s
        return None
    return check


def physical(s, logical):
    return next(r["id"] for r in s["status"]["resources"] if r["name"] == logical)


def events(kube, name):
    got = kube.kubectl_json("get", "events", "-n", NAMESPACE, "--field-selector", f"involvedObject.name={name}")
    return [e.get("reason") for e in got["items"]]


def test_the_example_app_converges_with_status_and_outputs(app):
    kube, _, daemon = app
    for name in ("storagestack", "apistack", "authstack"):
        s = eventually(f"{name} Ready", ready_at(kube, name), daemon.logs)
        assert condition(s, "Synced")["status"] == "True", s["status"]
        assert s["status"]["resources"], s["status"]
    auth = stack(kube, "authstack")
    outputs = auth["status"]["outputs"]
    assert set(outputs) == {"Region", "UserPoolId", "IdentityPoolId", "UserPoolClientId"}, outputs
    cm = eventually("the outputs ConfigMap", lambda: kube.kubectl_json(
        "get", "configmap", "authstack-outputs", "-n", NAMESPACE), daemon.logs)
    assert cm["data"] == outputs
    assert cm["metadata"]["ownerReferences"][0]["uid"] == auth["metadata"]["uid"]
    pools = app[1].client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert outputs["UserPoolId"] in [p["Id"] for p in pools]
    assert "Deployed" in events(kube, "authstack")
    table = kube.kubectl("get", "stacks", "-n", NAMESPACE).stdout
    assert "READY" in table and "True" in table, table


def test_a_spec_edit_converges_and_raises_observed_generation(app):
    kube, emulator, daemon = app
    before = eventually("storagestack Ready", ready_at(kube, "storagestack"), daemon.logs)
    patch = [{"op": "replace", "path": "/spec/resources/Uploads/cors/0/maxAge", "value": 600}]
    kube.kubectl("patch", "stack", "storagestack", "-n", NAMESPACE, "--type", "json", "-p", json.dumps(patch))
    generation = before["metadata"]["generation"] + 1
    after = eventually("the edit deployed", ready_at(kube, "storagestack", generation), daemon.logs)
    bucket = physical(after, "StorageStack.Uploads")
    rules = emulator.client("s3").get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["MaxAgeSeconds"] == 600


def test_drift_is_reverted_with_an_event(app):
    kube, emulator, daemon = app
    s = eventually("storagestack Ready", ready_at(kube, "storagestack"), daemon.logs)
    bucket = physical(s, "StorageStack.Uploads")
    s3 = emulator.client("s3")
    s3.delete_bucket_cors(Bucket=bucket)

    def reverted():
        try:
            return s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except s3.exceptions.ClientError:
            return None

    eventually("the CORS rules back", reverted, daemon.logs)
    eventually("a DriftReverted Event", lambda: "DriftReverted" in events(kube, "storagestack"), daemon.logs)


def test_an_invalid_spec_is_reported_at_its_field_path_and_aws_is_not_written(app):
    kube, _, daemon = app
    eventually("authstack Ready", ready_at(kube, "authstack"), daemon.logs)
    writes = daemon.writes()
    patch = {"spec": {"outputs": {"Broken": "${StorageStack.Nope.arn}"}}}
    kube.kubectl("patch", "stack", "authstack", "-n", NAMESPACE, "--type", "merge", "-p", json.dumps(patch))

    def invalid():
        c = condition(stack(kube, "authstack"), "Ready")
        return c if c.get("reason") == "InvalidSpec" else None

    c = eventually("Ready=False InvalidSpec", invalid, daemon.logs)
    assert c["status"] == "False"
    assert "Stack authstack, spec.outputs.Broken: " in c["message"], c["message"]
    assert "Nope" in c["message"]
    eventually("an InvalidSpec Event", lambda: "InvalidSpec" in events(kube, "authstack"), daemon.logs)
    assert daemon.writes() == writes, "no AWS write while the spec is invalid"
    kube.kubectl("patch", "stack", "authstack", "-n", NAMESPACE, "--type", "json",
                 "-p", json.dumps([{"op": "remove", "path": "/spec/outputs/Broken"}]))
    eventually("authstack Ready again", ready_at(kube, "authstack"), daemon.logs)


def app_condition(kube, kind):
    return condition(kube.kubectl_json("get", "app", "notes", "-n", NAMESPACE), kind)


def test_manual_approval_applies_exactly_the_annotated_plan(app):
    kube, emulator, daemon = app
    s = eventually("storagestack Ready", ready_at(kube, "storagestack"), daemon.logs)
    bucket = physical(s, "StorageStack.Uploads")
    s3 = emulator.client("s3")
    max_age = lambda: s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["MaxAgeSeconds"]  # noqa: E731
    before = max_age()
    kube.kubectl("patch", "app", "notes", "-n", NAMESPACE, "--type", "merge", "-p", '{"spec":{"approval":"manual"}}')
    writes = daemon.writes()
    patch = [{"op": "replace", "path": "/spec/resources/Uploads/cors/0/maxAge", "value": 900}]
    kube.kubectl("patch", "stack", "storagestack", "-n", NAMESPACE, "--type", "json", "-p", json.dumps(patch))

    def pending():
        got = kube.kubectl_json("get", "app", "notes", "-n", NAMESPACE).get("status", {}).get("pendingPlan")
        return got if got and "StorageStack.Uploads" in got["text"] else None

    plan = eventually("a pending plan on the App", pending, daemon.logs)
    assert len(plan["hash"]) == 16 and "1 to update" in plan["summary"], plan
    assert app_condition(kube, "Approved")["reason"] == "WaitingForApproval"
    assert max_age() == before and daemon.writes() == writes, "nothing is written before approval"

    kube.kubectl("annotate", "app", "notes", "-n", NAMESPACE, "--overwrite", "stackwatch.dev/approve=0123456789abcdef")
    eventually("StaleApproval", lambda: app_condition(kube, "Approved").get("reason") == "StaleApproval", daemon.logs)
    assert max_age() == before and daemon.writes() == writes, "a stale hash applies nothing"

    kube.kubectl("annotate", "app", "notes", "-n", NAMESPACE, "--overwrite", f"stackwatch.dev/approve={plan['hash']}")
    eventually("the approved plan applied", lambda: max_age() == 900, daemon.logs)
    eventually("nothing pending", lambda: app_condition(kube, "Approved").get("reason") == "NothingPending", daemon.logs)

    # The console's Deploy is the same approval.
    patch[0]["value"] = 950
    kube.kubectl("patch", "stack", "storagestack", "-n", NAMESPACE, "--type", "json", "-p", json.dumps(patch))
    eventually("the next plan pending", lambda: app_condition(kube, "Approved").get("reason") == "WaitingForApproval",
               daemon.logs)
    assert max_age() == 900
    assert daemon.console_post("/plan/deploy", {}) == 303
    eventually("the plan deployed from the console", lambda: max_age() == 950, daemon.logs)
    kube.kubectl("patch", "app", "notes", "-n", NAMESPACE, "--type", "merge", "-p", '{"spec":{"approval":"auto"}}')
    eventually("storagestack Ready", ready_at(kube, "storagestack"), daemon.logs)


EXTRA = [
    {"stack": "BaseStack", "resources": {
        "Jobs": {"kind": "queue"},
        "Events": {"kind": "table", "removal": "destroy", "partitionKey": {"name": "id", "type": "string"}}}},
    {"stack": "UserStack", "uses": ["BaseStack"], "outputs": {"Jobs": "${BaseStack.Jobs.arn}"}},
    {"stack": "KeptStack", "resources": {
        "Archive": {"kind": "table", "partitionKey": {"name": "id", "type": "string"}}}},
]


def gone(kube, name):
    return kube.kubectl("get", "stack", name, "-n", NAMESPACE, check=False).returncode != 0


def test_deletion_honours_removal_policies_and_is_held_while_another_stack_uses_it(app):
    kube, emulator, daemon = app
    docs = [{"apiVersion": "stackwatch.dev/v1alpha1", "kind": "Stack",
             "metadata": {"name": spec["stack"].lower(), "namespace": NAMESPACE}, "spec": spec} for spec in EXTRA]
    kube.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(d) for d in docs))
    ready = {d["metadata"]["name"]: eventually(f"{d['metadata']['name']} Ready", ready_at(kube, d["metadata"]["name"]),
                                                 daemon.logs) for d in docs}
    finalizers = lambda name: stack(kube, name)["metadata"].get("finalizers", [])  # noqa: E731
    eventually("the finalizers", lambda: all("stackwatch.dev/finalizer" in finalizers(n) for n in ready), daemon.logs)
    queue_url = physical(ready["basestack"], "BaseStack.Jobs")
    events_table = physical(ready["basestack"], "BaseStack.Events")
    archive = physical(ready["keptstack"], "KeptStack.Archive")
    sqs, dynamodb = emulator.client("sqs"), emulator.client("dynamodb")

    kube.kubectl("delete", "stack", "basestack", "-n", NAMESPACE, "--wait=false")
    held = lambda: stack(kube, "basestack")["status"].get("usedBy") == ["UserStack"]  # noqa: E731
    eventually("the deletion held: UserStack uses it", held, daemon.logs)
    eventually("a DeletionHeld Event", lambda: "DeletionHeld" in events(kube, "basestack"), daemon.logs)
    assert stack(kube, "basestack")["metadata"].get("deletionTimestamp")
    sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    dynamodb.describe_table(TableName=events_table)

    kube.kubectl("delete", "stack", "keptstack", "-n", NAMESPACE, "--wait=false")
    eventually("keptstack gone", lambda: gone(kube, "keptstack"), daemon.logs)
    assert dynamodb.describe_table(TableName=archive)["Table"]["TableStatus"] == "ACTIVE", "retained"

    kube.kubectl("delete", "stack", "userstack", "-n", NAMESPACE, "--wait=false")
    eventually("userstack gone", lambda: gone(kube, "userstack"), daemon.logs)
    eventually("basestack gone once nothing uses it", lambda: gone(kube, "basestack"), daemon.logs)

    def deleted(call):
        try:
            call()
            return False
        except Exception as e:  # noqa: BLE001 - the emulator's not-found answer
            return "NonExistent" in str(e) or "ResourceNotFound" in str(e) or "not found" in str(e).lower()

    assert eventually("the queue deleted", lambda: deleted(lambda: sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])), daemon.logs)
    assert eventually("the table (removal: destroy) deleted",
                      lambda: deleted(lambda: dynamodb.describe_table(TableName=events_table)), daemon.logs)
    assert dynamodb.describe_table(TableName=archive)["Table"]["TableStatus"] == "ACTIVE"


def lease_holder(kube):
    got = kube.kubectl_json("get", "lease", "stackwatch", "-n", NAMESPACE)
    return got["spec"].get("holderIdentity")


def test_two_daemons_elect_one_writer_and_a_killed_leader_is_replaced(app):
    """Last in this module: it kills the module's daemon."""
    kube, emulator, first = app
    eventually("storagestack Ready", ready_at(kube, "storagestack"), first.logs)
    second = Daemon(kube, emulator, identity="test-daemon-2")
    try:
        assert eventually("a Lease holder", lambda: lease_holder(kube), first.logs) == "test-daemon"
        # The second plans on every resync (2 s) but never writes, not even the AWS-side lease.
        eventually("the second daemon planning", lambda: second.status()["reconciles"] >= 3, second.logs)
        assert second.status()["lease"]["leader"] is False
        drift_bucket = physical(stack(kube, "storagestack"), "StorageStack.Uploads")
        assert second.writes(lease_too=True) == 0, second.logs()

        app_runs = lambda: second.status()["stacks"].get("*", {}).get("reconciles", 0)  # noqa: E731
        before = app_runs()
        first.kill()
        killed_at = time.monotonic()
        # Winning the Lease asks for a reconcile of the whole app (the trigger the file mode's
        # ENTER and the console's Deploy use too).
        eventually("the second daemon leading", lambda: lease_holder(kube) == "test-daemon-2", second.logs)
        eventually("a whole-app reconcile on winning", lambda: app_runs() > before, second.logs)
        s = stack(kube, "storagestack")
        patch = [{"op": "replace", "path": "/spec/resources/Uploads/cors/0/maxAge", "value": 1200}]
        kube.kubectl("patch", "stack", "storagestack", "-n", NAMESPACE, "--type", "json", "-p", json.dumps(patch))
        after = eventually("the edit deployed by the second daemon",
                           ready_at(kube, "storagestack", s["metadata"]["generation"] + 1), second.logs)
        took = time.monotonic() - killed_at
        assert lease_holder(kube) == "test-daemon-2"
        rules = emulator.client("s3").get_bucket_cors(Bucket=physical(after, "StorageStack.Uploads"))["CORSRules"]
        assert rules[0]["MaxAgeSeconds"] == 1200
        assert physical(after, "StorageStack.Uploads") == drift_bucket
        assert second.writes() > 0
        print(f"leader killed -> edit converged by the other daemon in {took:.1f} s (lease 3 s, resync 2 s)")
    finally:
        second.stop()

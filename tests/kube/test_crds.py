"""The App and Stack CRDs (deploy/k8s/crds/crds.yaml, generated from the config types) and
`stackwatch export --kubernetes` against a real kube-apiserver: the CRDs are accepted with a
server-side dry run and then for real; the example app's objects apply, read back unchanged (so
the structural schema prunes none of their fields), and list as `kubectl get stacks` columns;
a type error in a spec is refused by the API server itself, naming the field."""

import json
import os
import subprocess
import time

import pytest
import yaml

from conftest import REPO

CRDS = REPO / "deploy" / "k8s" / "crds" / "crds.yaml"
NAMESPACE = "notes"


def stackwatch(*args):
    binary = os.environ.get("STACKWATCH_BIN", str(REPO / "target" / "debug" / "stackwatch"))
    if not os.path.exists(binary):
        pytest.fail(f"{binary} missing: build it with `cargo build` first")
    done = subprocess.run([binary, "--config", str(REPO / "config"), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def crds(kube):
    text = CRDS.read_text()
    kube.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=text)
    kube.kubectl("apply", "--server-side", "-f", "-", input=text)
    for name in ("apps.stackwatch.dev", "stacks.stackwatch.dev"):
        kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{name}")
    # The discovery of the new group can lag the Established condition by a moment.
    for _ in range(50):
        if kube.kubectl("get", "stacks", "-A", check=False).returncode == 0:
            break
        time.sleep(0.2)
    kube.kubectl("create", "namespace", NAMESPACE, check=False)
    return text


def test_the_crds_are_the_generated_ones_and_established(kube, crds):
    assert stackwatch("export", "--crds") == crds
    got = kube.kubectl_json("get", "crd", "stacks.stackwatch.dev")
    version = got["spec"]["versions"][0]
    assert version["name"] == "v1alpha1"
    assert "status" in version["subresources"]
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns == ["Ready", "Synced", "Drift", "Age"]


def test_the_example_app_applies_and_reads_back_unpruned(kube, crds):
    text = stackwatch("export", "--kubernetes", "--namespace", NAMESPACE)
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert [d["kind"] for d in docs] == ["App", "Stack", "Stack", "Stack"]
    kube.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=text)
    kube.kubectl("apply", "--server-side", "-f", "-", input=text)
    for doc in docs:
        plural = "apps" if doc["kind"] == "App" else "stacks"
        got = kube.kubectl_json("get", "-n", NAMESPACE, f"{plural}.stackwatch.dev", doc["metadata"]["name"])
        assert got["spec"] == doc["spec"], f"{doc['metadata']['name']}: the API server changed the spec"
    listed = kube.kubectl("get", "stacks", "-n", NAMESPACE).stdout
    header = listed.splitlines()[0].split()
    assert header == ["NAME", "READY", "SYNCED", "DRIFT", "AGE"], listed
    assert {line.split()[0] for line in listed.splitlines()[1:]} == {"apistack", "authstack", "storagestack"}


@pytest.mark.parametrize("path,value,field", [
    (["resources", "Auth", "login"], "email", "spec.resources.Auth.login"),
    (["uses"], 5, "spec.uses"),
    (["resources", "Auth", "kind"], "database", "spec.resources.Auth.kind"),
])
def test_a_type_error_is_refused_by_the_api_server(kube, crds, path, value, field):
    text = stackwatch("export", "--kubernetes", "--namespace", NAMESPACE)
    stack = next(d for d in yaml.safe_load_all(text) if d and d["metadata"]["name"] == "authstack")
    stack["metadata"]["name"] = "broken"
    target = stack["spec"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    status, body = kube.request(
        "POST", f"/apis/stackwatch.dev/v1alpha1/namespaces/{NAMESPACE}/stacks", stack)
    assert status == 422, (status, body)
    assert field in json.dumps(body), body
    assert kube.kubectl("get", "-n", NAMESPACE, "stack", "broken", check=False).returncode != 0

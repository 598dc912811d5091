"""What a real kube-apiserver does that a fake would have to be taught: custom resources with a
structural schema and a status subresource, server-side apply with field ownership, and
optimistic concurrency on resourceVersion. kubectl (1.37, from the venv) and raw HTTPS with the
token drive the server that `deploy/local/kube` runs (see conftest.py).
"""

import json
import urllib.error
import urllib.request
import uuid

import pytest

GROUP = "stackwatch.test"
CRD_NAME = f"widgets.{GROUP}"
WIDGETS = f"/apis/{GROUP}/v1/namespaces/default/widgets"

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1},
                                    "colour": {"type": "string"},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"phase": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def widget(name, **spec):
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


@pytest.fixture(scope="module")
def widget_crd(kube):
    kube.kubectl("apply", "-f", "-", input=json.dumps(CRD))
    kube.kubectl("wait", "--for=condition=Established", f"crd/{CRD_NAME}", "--timeout=60s")
    return CRD_NAME


def test_crd_with_status_subresource_becomes_established(kube, widget_crd):
    crd = kube.kubectl_json("get", "crd", widget_crd)
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions.get("Established") == "True", conditions
    assert conditions.get("NamesAccepted") == "True", conditions
    assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}
    # The server serves the kind and its status subresource.
    discovery = json.loads(kube.kubectl("get", "--raw", f"/apis/{GROUP}/v1").stdout)
    names = {r["name"] for r in discovery["resources"]}
    assert {"widgets", "widgets/status"} <= names, names


def test_status_is_written_only_through_the_status_subresource(kube, widget_crd):
    name = unique("w-status")
    body = widget(name, size=3)
    body["status"] = {"phase": "Forged"}
    created = kube.kubectl_json("create", "-f", "-", input=json.dumps(body))
    # With a status subresource, a create ignores the status it is given.
    assert "status" not in created or created["status"] == {}, created
    assert created["metadata"]["generation"] == 1

    # kubectl patch --subresource=status: the status changes, a spec change riding along does not.
    kube.kubectl(
        "patch", "widget", name, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"phase": "Ready"}, "spec": {"size": 99}}),
    )
    got = kube.kubectl_json("get", "widget", name)
    assert got["status"] == {"phase": "Ready"}, got
    assert got["spec"]["size"] == 3, got
    assert got["metadata"]["generation"] == 1, "a status write must not bump the generation"

    # A patch of the main resource changes the spec and ignores the status.
    kube.kubectl("patch", "widget", name, "--type=merge",
                 "-p", json.dumps({"status": {"phase": "Forged"}, "spec": {"size": 4}}))
    got = kube.kubectl_json("get", "widget", name)
    assert got["status"] == {"phase": "Ready"}, got
    assert got["spec"]["size"] == 4, got
    assert got["metadata"]["generation"] == 2, got

    # The same through raw HTTPS: PATCH .../widgets/NAME/status with a merge patch.
    status, got = kube.request(
        "PATCH", f"{WIDGETS}/{name}/status", {"status": {"phase": "Done"}},
        content_type="application/merge-patch+json",
    )
    assert status == 200, got
    assert got["status"] == {"phase": "Done"} and got["spec"]["size"] == 4, got


def test_structural_schema_refuses_a_type_error(kube, widget_crd):
    name = unique("w-bad")
    # --validate=false: kubectl would refuse it itself; here the server must.
    done = kube.kubectl("create", "--validate=false", "-f", "-",
                        input=json.dumps(widget(name, size="big")), check=False)
    assert done.returncode != 0, done.stdout
    assert "spec.size" in done.stderr and "integer" in done.stderr, done.stderr

    status, body = kube.request("POST", WIDGETS, widget(name, size="big"))
    assert status == 422, body
    assert body["reason"] == "Invalid", body
    fields = {c["field"] for c in body["details"]["causes"]}
    assert "spec.size" in fields, body

    # The schema's other rules hold too: a missing required field and a size below the minimum.
    status, body = kube.request("POST", WIDGETS, widget(name, colour="red"))
    assert status == 422, body
    status, body = kube.request("POST", WIDGETS, widget(name, size=0))
    assert status == 422, body

    # Nothing was stored.
    status, body = kube.request("GET", f"{WIDGETS}/{name}")
    assert status == 404, body


def test_structural_schema_prunes_unknown_fields(kube, widget_crd):
    name = unique("w-prune")
    body = widget(name, size=2, colour="blue")
    body["spec"]["shade"] = "dark"
    body["extra"] = {"kept": False}
    status, created = kube.request("POST", WIDGETS, body)
    assert status == 201, created
    assert created["spec"] == {"size": 2, "colour": "blue"}, created
    assert "extra" not in created, created


def test_server_side_apply_tracks_field_owners(kube):
    name = unique("cm-ssa")

    def configmap(**data):
        return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})

    done = kube.kubectl("apply", "--server-side", "-f", "-", input=configmap(mode="blue", owner="stackwatch"))
    assert "serverside-applied" in done.stdout, done.stdout
    cm = kube.kubectl_json("get", "configmap", name, "--show-managed-fields")
    assert cm["data"] == {"mode": "blue", "owner": "stackwatch"}
    applied = [m for m in cm["metadata"]["managedFields"] if m["operation"] == "Apply"]
    assert [m["manager"] for m in applied] == ["kubectl"], cm["metadata"]["managedFields"]
    assert set(applied[0]["fieldsV1"]["f:data"]) == {"f:mode", "f:owner"}

    # Another manager setting a field kubectl owns, to another value, is a conflict.
    done = kube.kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                        input=configmap(mode="green"), check=False)
    assert done.returncode != 0, done.stdout
    assert "conflict" in done.stderr.lower() and "mode" in done.stderr, done.stderr
    assert kube.kubectl_json("get", "configmap", name)["data"]["mode"] == "blue"

    # Forced, it takes the field over; kubectl keeps the one it still owns.
    kube.kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-",
                 input=configmap(mode="green"))
    cm = kube.kubectl_json("get", "configmap", name, "--show-managed-fields")
    assert cm["data"] == {"mode": "green", "owner": "stackwatch"}, cm["data"]
    owners = {m["manager"]: set(m["fieldsV1"]["f:data"]) for m in cm["metadata"]["managedFields"]}
    assert owners == {"kubectl": {"f:owner"}, "other": {"f:mode"}}, owners

    # kubectl applying again without `owner` removes the field it alone owned.
    kube.kubectl("apply", "--server-side", "-f", "-", input=configmap())
    assert kube.kubectl_json("get", "configmap", name)["data"] == {"mode": "green"}


def test_lease_update_with_a_stale_resource_version_is_a_conflict(kube):
    name = unique("lease")
    leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    status, lease = kube.request("POST", leases, {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15},
    })
    assert status == 201, lease
    stale = lease["metadata"]["resourceVersion"]

    lease["spec"]["holderIdentity"] = "b"
    status, updated = kube.request("PUT", f"{leases}/{name}", lease)
    assert status == 200, updated
    assert updated["metadata"]["resourceVersion"] != stale

    # The same update again, still carrying the old resourceVersion: 409, and nothing changes.
    lease["spec"]["holderIdentity"] = "c"
    status, body = kube.request("PUT", f"{leases}/{name}", lease)
    assert status == 409, body
    assert body["reason"] == "Conflict", body
    status, now = kube.request("GET", f"{leases}/{name}")
    assert now["spec"]["holderIdentity"] == "b", now

    # kubectl replace reports the same conflict.
    done = kube.kubectl("replace", "-f", "-", input=json.dumps(lease), check=False)
    assert done.returncode != 0, done.stdout
    assert "the object has been modified" in done.stderr, done.stderr

    # With the current resourceVersion the update goes through.
    lease["metadata"]["resourceVersion"] = now["metadata"]["resourceVersion"]
    status, body = kube.request("PUT", f"{leases}/{name}", lease)
    assert status == 200 and body["spec"]["holderIdentity"] == "c", body


def test_token_is_required(kube):
    # The token in the kubeconfig is what authenticates: without it the server answers 401 or 403.
    req = urllib.request.Request(kube.server + "/api/v1/namespaces/default/configmaps")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, context=kube.ssl, timeout=30)
    assert err.value.code in (401, 403), err.value.code

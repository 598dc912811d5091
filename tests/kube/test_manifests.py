"""The operator manifests (deploy/k8s/operator) and the file-mode base (deploy/k8s/base) against a
real kube-apiserver.

The operator folder renders with kubectl's kustomize under the default load restrictor and holds
exactly the CRDs, the Namespace, the ServiceAccount, one Role and RoleBinding and the Deployment;
it applies with a server-side dry run (which stores nothing) and then for real, and the server
keeps every field it was given. The Deployment has 2 replicas, the Lease identity from the
downward API, and the file mode's probes, env, resources and securityContext.

The Role is checked three ways: statically (exactly the expected rules, no wildcards), with
`kubectl auth can-i` as the ServiceAccount (every needed verb is yes, a list of others is no), and
by doing the operator's operations as the ServiceAccount (impersonated): list and watch Stacks,
patch status, add and remove a finalizer, create/patch/delete an outputs ConfigMap (also by
server-side apply), create and patch both kinds of Event, create/get/update a Lease; and what it
must not do is refused with 403.

The file-mode base still renders and passes a server-side dry run, also over the operator's
objects (one mode applied over the other).

No scheduler or controller manager runs here, so the Deployment never gets pods: only the API
objects are tested, not a running operator."""

import datetime
import http.client
import json
import time
import urllib.parse

import pytest
import yaml

from conftest import REPO

OPERATOR = REPO / "deploy" / "k8s" / "operator"
BASE = REPO / "deploy" / "k8s" / "base"
CRDS = REPO / "deploy" / "k8s" / "crds" / "crds.yaml"
NS = "stackwatch"
SA_USER = f"system:serviceaccount:{NS}:stackwatch"
# What a pod's token carries besides its user name (and system:authenticated, which the server
# adds to any impersonated user).
SA_GROUPS = ["system:serviceaccounts", f"system:serviceaccounts:{NS}"]
AS_SA = ["--as", SA_USER, *[arg for g in SA_GROUPS for arg in ("--as-group", g)]]

# (API group, resource, verb): the Role, exactly.
GRANTED = {
    *(("stackwatch.dev", "apps", v) for v in ("get", "list", "watch")),
    *(("stackwatch.dev", "stacks", v) for v in ("get", "list", "watch", "patch", "update")),
    ("stackwatch.dev", "apps/status", "patch"),
    ("stackwatch.dev", "stacks/status", "patch"),
    ("stackwatch.dev", "stacks/finalizers", "update"),
    *(("", "configmaps", v) for v in ("create", "patch", "delete")),
    *(("", "events", v) for v in ("create", "patch")),
    *(("events.k8s.io", "events", v) for v in ("create", "patch")),
    *(("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")),
}

# (verb, resource as kubectl names it, subresource, namespace): None is the operator's namespace,
# "*" all namespaces, "" a cluster-scoped resource.
DENIED = [
    ("get", "secrets", None, None),
    ("list", "secrets", None, None),
    ("get", "configmaps", None, None),
    ("list", "configmaps", None, None),
    ("create", "deployments.apps", None, None),
    ("patch", "deployments.apps", None, None),
    ("create", "pods", None, None),
    ("create", "pods", "exec", None),
    ("create", "serviceaccounts", "token", None),
    ("create", "stacks.stackwatch.dev", None, None),
    ("delete", "stacks.stackwatch.dev", None, None),
    ("deletecollection", "stacks.stackwatch.dev", None, None),
    ("update", "stacks.stackwatch.dev", "status", None),
    ("create", "apps.stackwatch.dev", None, None),
    ("patch", "apps.stackwatch.dev", None, None),
    ("update", "apps.stackwatch.dev", None, None),
    ("delete", "apps.stackwatch.dev", None, None),
    ("update", "apps.stackwatch.dev", "finalizers", None),
    ("delete", "leases.coordination.k8s.io", None, None),
    ("list", "leases.coordination.k8s.io", None, None),
    ("watch", "leases.coordination.k8s.io", None, None),
    ("patch", "leases.coordination.k8s.io", None, None),
    ("delete", "events", None, None),
    ("list", "events.events.k8s.io", None, None),
    ("create", "roles.rbac.authorization.k8s.io", None, None),
    ("create", "rolebindings.rbac.authorization.k8s.io", None, None),
    ("patch", "roles.rbac.authorization.k8s.io", None, None),
    # Other namespaces and all of them.
    ("get", "stacks.stackwatch.dev", None, "default"),
    ("list", "stacks.stackwatch.dev", None, "notes"),
    ("patch", "stacks.stackwatch.dev", "status", "notes"),
    ("create", "configmaps", None, "default"),
    ("update", "leases.coordination.k8s.io", None, "kube-system"),
    ("list", "stacks.stackwatch.dev", None, "*"),
    ("watch", "apps.stackwatch.dev", None, "*"),
    # Cluster-scoped.
    ("get", "clusterroles.rbac.authorization.k8s.io", None, ""),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io", None, ""),
    ("get", "namespaces", None, ""),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", None, ""),
    ("list", "nodes", None, ""),
]


def docs_of(text):
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(docs):
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def render_operator(kube):
    return kube.kubectl("kustomize", str(OPERATOR)).stdout


def render_base(kube):
    return kube.kubectl("kustomize", "--load-restrictor", "LoadRestrictionsNone", str(BASE)).stdout


def apply_namespace(kube, text):
    """The rendered Namespace alone, for real: a dry run of namespaced objects needs it."""
    (ns,) = [d for d in docs_of(text) if d["kind"] == "Namespace"]
    assert ns["metadata"]["name"] == NS
    kube.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(ns))


def dry_run(kube, text):
    """A server-side dry run of `text`: the objects as the server would store them."""
    out = kube.kubectl_json("apply", "--server-side", "--dry-run=server", "-f", "-", input=text)
    return out["items"] if out.get("kind") == "List" else [out]


def missing(given, stored, path="$"):
    """The paths of `given` that `stored` lacks or holds differently (the server may add)."""
    if isinstance(given, dict):
        if not isinstance(stored, dict):
            return [path]
        return [p for k, v in given.items()
                for p in (missing(v, stored[k], f"{path}.{k}") if k in stored else [f"{path}.{k}"])]
    if isinstance(given, list):
        if not isinstance(stored, list) or len(given) != len(stored):
            return [path]
        # Lists the server merges by name (containers, env, ports, volumes, mounts): by name, as
        # a server-side apply over another object may reorder them.
        if all(isinstance(x, dict) and "name" in x for x in given + stored):
            stored_by_name = {x["name"]: x for x in stored}
            return [p for g in given
                    for p in (missing(g, stored_by_name[g["name"]], f"{path}[{g['name']}]")
                              if g["name"] in stored_by_name else [f"{path}[{g['name']}]"])]
        return [p for i, (g, s) in enumerate(zip(given, stored)) for p in missing(g, s, f"{path}[{i}]")]
    return [] if given == stored else [f"{path}: {given!r} != {stored!r}"]


def wait_for_discovery(kube):
    """The new group can reach discovery a moment after the CRDs are Established."""
    for _ in range(50):
        if kube.kubectl("get", "stacks", "-n", NS, check=False).returncode == 0:
            return
        time.sleep(0.2)
    pytest.fail("stacks.stackwatch.dev never reached discovery\n" + kube.logs())


@pytest.fixture(scope="module")
def operator(kube):
    """The operator folder rendered, dry-run (nothing stored) and then applied for real."""
    text = render_operator(kube)
    apply_namespace(kube, text)
    planned = dry_run(kube, text)
    assert {(o["kind"], o["metadata"]["name"]) for o in planned} == set(by_kind(docs_of(text)))
    for kind, name in (("deployment", "stackwatch"), ("role", "stackwatch"), ("rolebinding", "stackwatch")):
        got = kube.kubectl("get", "-n", NS, kind, name, check=False)
        assert got.returncode != 0, f"the dry run stored {kind}/{name}"
    kube.kubectl("apply", "--server-side", "-f", "-", input=text)
    for name in ("apps.stackwatch.dev", "stacks.stackwatch.dev"):
        kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{name}")
    wait_for_discovery(kube)
    return text


# --- the file mode: first, before the operator's objects exist --------------------------------

def check_base_dry_run(kube):
    text = render_base(kube)
    objs = by_kind(docs_of(text))
    for key in [("Namespace", NS), ("ServiceAccount", "stackwatch"), ("ConfigMap", "stackwatch-app"),
                ("ConfigMap", "stackwatch-stacks"), ("Deployment", "stackwatch"),
                ("Service", "stackwatch-metrics")]:
        assert key in objs, sorted(objs)
    apply_namespace(kube, text)
    planned = by_kind(dry_run(kube, text))
    assert set(planned) == set(objs)
    deployment = planned[("Deployment", "stackwatch")]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"][:3] == ["watch", "--config", "/config"]
    assert sorted(v["name"] for v in pod["volumes"]) == ["config", "state"]
    for key, given in objs.items():
        assert not missing(given, planned[key]), (key, missing(given, planned[key]))
    return planned


def test_the_file_mode_base_renders_and_passes_a_server_side_dry_run(kube):
    check_base_dry_run(kube)


# --- the operator folder ----------------------------------------------------------------------

def test_the_operator_folder_holds_exactly_its_objects(kube):
    docs = docs_of(render_operator(kube))
    assert sorted(by_kind(docs)) == sorted([
        ("CustomResourceDefinition", "apps.stackwatch.dev"),
        ("CustomResourceDefinition", "stacks.stackwatch.dev"),
        ("Deployment", "stackwatch"),
        ("Namespace", NS),
        ("Role", "stackwatch"),
        ("RoleBinding", "stackwatch"),
        ("ServiceAccount", "stackwatch"),
    ])
    for d in docs:
        if d["kind"] not in ("Namespace", "CustomResourceDefinition"):
            assert d["metadata"]["namespace"] == NS, d["metadata"]
    # The CRDs are the generated file's, and the copies of the base's files are equal to them.
    crds = {d["metadata"]["name"]: d for d in docs_of(CRDS.read_text())}
    for d in docs:
        if d["kind"] == "CustomResourceDefinition":
            assert d["spec"] == crds[d["metadata"]["name"]]["spec"]
    for name in ("namespace.yaml", "serviceaccount.yaml"):
        assert yaml.safe_load((OPERATOR / name).read_text()) == yaml.safe_load((BASE / name).read_text()), name
    # The Deployment's selector is the base's, so one mode can be applied over the other.
    base = by_kind(docs_of(render_base(kube)))[("Deployment", "stackwatch")]
    mine = by_kind(docs)[("Deployment", "stackwatch")]
    assert mine["spec"]["selector"] == base["spec"]["selector"]


def test_the_role_is_exactly_the_needed_rules_without_wildcards(kube):
    objs = by_kind(docs_of(render_operator(kube)))
    rules = objs[("Role", "stackwatch")]["rules"]
    triples = [(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]
               for v in rule["verbs"]]
    for rule in rules:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, rule  # no resourceNames, no URLs
        assert "*" not in json.dumps(rule), rule
    assert len(triples) == len(set(triples)), "a grant is listed twice"
    assert set(triples) == GRANTED
    binding = objs[("RoleBinding", "stackwatch")]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "stackwatch"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "stackwatch", "namespace": NS}]


def test_the_server_keeps_every_field_of_the_operator_objects(kube, operator):
    for d in docs_of(operator):
        kind, name = d["kind"], d["metadata"]["name"]
        args = ["get", kind, name] if kind in ("Namespace", "CustomResourceDefinition") else ["get", "-n", NS, kind, name]
        stored = kube.kubectl_json(*args)
        assert not missing(d, stored), (kind, name, missing(d, stored))


def test_the_deployment_runs_two_replicas_with_the_lease_identity(kube, operator):
    d = kube.kubectl_json("get", "-n", NS, "deployment", "stackwatch")
    spec = d["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "stackwatch"
    # The ServiceAccount mounts no token by default (the file mode needs none); this mode must.
    assert pod["automountServiceAccountToken"] is True
    (c,) = pod["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["STACKWATCH_IDENTITY"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert c["args"] == ["watch", "--source", "kubernetes", "--namespace", "$(POD_NAMESPACE)",
                         "--approve", "auto", "--console", "off", "--log-format", "json"]
    assert [v["name"] for v in pod["volumes"]] == ["state"]
    assert [m["mountPath"] for m in c["volumeMounts"]] == ["/state"]
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]

    # The rest as the file mode's Deployment.
    base = by_kind(docs_of(render_base(kube)))[("Deployment", "stackwatch")]["spec"]["template"]["spec"]
    (bc,) = base["containers"]
    for key in ("securityContext", "terminationGracePeriodSeconds"):
        assert not missing(base[key], pod[key]), key
    for key in ("image", "ports", "livenessProbe", "readinessProbe", "resources", "securityContext"):
        assert not missing(bc[key], c[key]), key
    for e in bc["env"]:
        assert not missing(e, env.get(e["name"])), e["name"]
    (state,) = [v for v in base["volumes"] if v["name"] == "state"]
    assert not missing(state, pod["volumes"][0])


# --- the Role: kubectl auth can-i as the ServiceAccount -------------------------------------

def can_i(kube, verb, resource, subresource=None, namespace=None):
    args = ["auth", "can-i", verb, resource, *AS_SA]
    if subresource:
        args.append(f"--subresource={subresource}")
    if namespace == "*":
        args.append("--all-namespaces")
    elif namespace != "":
        args += ["-n", namespace or NS]
    done = kube.kubectl(*args, check=False)
    answer = done.stdout.strip()
    # 0 and "yes", or 1 and "no"; anything else is an error, not an answer.
    assert (done.returncode, answer) in ((0, "yes"), (1, "no")), (args, done.returncode, done.stdout, done.stderr)
    return answer


def kubectl_name(group, resource):
    plural, _, sub = resource.partition("/")
    return (f"{plural}.{group}" if group else plural), (sub or None)


@pytest.mark.parametrize("group,resource,verb", sorted(GRANTED))
def test_can_i_every_needed_verb(kube, operator, group, resource, verb):
    name, sub = kubectl_name(group, resource)
    assert can_i(kube, verb, name, sub) == "yes"


@pytest.mark.parametrize("verb,resource,subresource,namespace", DENIED)
def test_can_i_not(kube, operator, verb, resource, subresource, namespace):
    assert can_i(kube, verb, resource, subresource, namespace) == "no"


def test_the_admin_can_what_the_serviceaccount_cannot(kube, operator):
    """The "no" answers come from the Role, not from a broken check: the same question asked
    without impersonation (system:masters) is yes."""
    done = kube.kubectl("auth", "can-i", "get", "secrets", "-n", NS, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "yes")


# --- the Role: the operator's operations, done as the ServiceAccount ------------------------

def as_operator(kube, method, path, body=None, content_type=None):
    """One request in the ServiceAccount's name (impersonated by the admin token); returns
    (status, text). A PATCH is a JSON merge patch unless `content_type` says otherwise."""
    content_type = content_type or ("application/merge-patch+json" if method == "PATCH" else "application/json")
    url = urllib.parse.urlsplit(kube.server)
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=kube.ssl, timeout=30)
    try:
        conn.putrequest(method, path)
        conn.putheader("Authorization", f"Bearer {kube.token}")
        conn.putheader("Impersonate-User", SA_USER)
        for group in SA_GROUPS:
            conn.putheader("Impersonate-Group", group)
        conn.putheader("Accept", "application/json")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            conn.putheader("Content-Type", content_type)
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def now(micro=False):
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


SW = f"/apis/stackwatch.dev/v1alpha1/namespaces/{NS}"
CORE = f"/api/v1/namespaces/{NS}"


@pytest.fixture
def probe_objects(kube, operator):
    """An App and a Stack made by the admin (people make them), removed afterwards."""
    status, app = kube.request("POST", f"{SW}/apps", {
        "apiVersion": "stackwatch.dev/v1alpha1", "kind": "App", "metadata": {"name": "probe"},
        "spec": {"app": "probe", "stage": "dev", "region": "us-east-1"}})
    assert status == 201, app
    status, stack = kube.request("POST", f"{SW}/stacks", {
        "apiVersion": "stackwatch.dev/v1alpha1", "kind": "Stack", "metadata": {"name": "probestack"},
        "spec": {"stack": "ProbeStack"}})
    assert status == 201, stack
    yield app, stack
    for kind, name in (("stacks.stackwatch.dev", "probestack"), ("apps.stackwatch.dev", "probe"),
                       ("configmap", "probestack-outputs"), ("configmap", "probestack-applied"),
                       ("lease", "stackwatch-probe"), ("events", "probestack.core"),
                       ("events.events.k8s.io", "probestack.events")):
        kube.kubectl("patch", "-n", NS, kind, name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
                     check=False)
        kube.kubectl("delete", "-n", NS, kind, name, "--ignore-not-found", "--wait=false", check=False)


def expect(result, status, what, raw=False):
    got, text = result
    assert got == status, f"{what}: {got} (wanted {status}): {text}"
    return text if raw else json.loads(text)


def test_the_operator_can_do_its_work_as_the_serviceaccount(kube, probe_objects):
    app, stack = probe_objects

    # Read: list, get, and a watch (which the server ends after timeoutSeconds).
    listed = expect(as_operator(kube, "GET", f"{SW}/stacks"), 200, "list stacks")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["probestack"]
    expect(as_operator(kube, "GET", f"{SW}/apps"), 200, "list apps")
    expect(as_operator(kube, "GET", f"{SW}/apps/probe"), 200, "get app")
    watched = expect(as_operator(kube, "GET", f"{SW}/stacks?watch=1&timeoutSeconds=1"), 200, "watch stacks",
                     raw=True)
    events = [json.loads(line) for line in watched.splitlines() if line.strip()]
    assert ("ADDED", "probestack") in [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    expect(as_operator(kube, "GET", f"{SW}/apps?watch=1&timeoutSeconds=1"), 200, "watch apps", raw=True)

    # Status, through the status subresource.
    expect(as_operator(kube, "PATCH", f"{SW}/stacks/probestack/status", {"status": {"observedGeneration": 1}}),
           200, "patch stack status")
    expect(as_operator(kube, "PATCH", f"{SW}/apps/probe/status", {"status": {"observedGeneration": 1}}),
           200, "patch app status")
    assert kube.kubectl_json("get", "-n", NS, "stack", "probestack")["status"]["observedGeneration"] == 1

    # The finalizer: added by a patch, removed by an update.
    expect(as_operator(kube, "PATCH", f"{SW}/stacks/probestack",
                       {"metadata": {"finalizers": ["stackwatch.dev/cleanup"]}}), 200, "add finalizer")
    current = expect(as_operator(kube, "GET", f"{SW}/stacks/probestack"), 200, "get stack")
    assert current["metadata"]["finalizers"] == ["stackwatch.dev/cleanup"]
    current["metadata"]["finalizers"] = []
    expect(as_operator(kube, "PUT", f"{SW}/stacks/probestack", current), 200, "update stack")
    assert "finalizers" not in kube.kubectl_json("get", "-n", NS, "stack", "probestack")["metadata"]

    # The outputs ConfigMap, owned by its Stack: create, patch, delete; and one made and changed
    # by server-side apply (a create through PATCH, which needs both verbs).
    owner = {"apiVersion": "stackwatch.dev/v1alpha1", "kind": "Stack", "name": "probestack",
             "uid": stack["metadata"]["uid"], "controller": True}
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "probestack-outputs", "ownerReferences": [owner]}, "data": {"UserPoolId": "a"}}
    expect(as_operator(kube, "POST", f"{CORE}/configmaps", cm), 201, "create configmap")
    expect(as_operator(kube, "PATCH", f"{CORE}/configmaps/probestack-outputs", {"data": {"UserPoolId": "b"}}),
           200, "patch configmap")
    applied = dict(cm, metadata=dict(cm["metadata"], name="probestack-applied"))
    for value, status in (("a", 201), ("b", 200)):
        applied["data"] = {"UserPoolId": value}
        expect(as_operator(kube, "PATCH", f"{CORE}/configmaps/probestack-applied?fieldManager=stackwatch",
                           applied, "application/apply-patch+yaml"), status, f"server-side apply ({value})")
    expect(as_operator(kube, "DELETE", f"{CORE}/configmaps/probestack-outputs"), 200, "delete configmap")
    expect(as_operator(kube, "DELETE", f"{CORE}/configmaps/probestack-applied"), 200, "delete configmap")

    # Events: core v1, and events.k8s.io/v1 (kube-rs's Recorder) with a repeat as a series.
    regarding = {"apiVersion": "stackwatch.dev/v1alpha1", "kind": "Stack", "name": "probestack",
                 "namespace": NS, "uid": stack["metadata"]["uid"]}
    core_event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "probestack.core"},
                  "involvedObject": regarding, "reason": "Planned", "message": "1 to create",
                  "type": "Normal", "source": {"component": "stackwatch"}, "count": 1,
                  "firstTimestamp": now(), "lastTimestamp": now()}
    expect(as_operator(kube, "POST", f"{CORE}/events", core_event), 201, "create event")
    expect(as_operator(kube, "PATCH", f"{CORE}/events/probestack.core", {"count": 2, "lastTimestamp": now()}),
           200, "patch event")
    new_event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "probestack.events"},
                 "eventTime": now(micro=True), "reportingController": "stackwatch.dev/operator",
                 "reportingInstance": "stackwatch-0", "action": "Reconcile", "reason": "Applied",
                 "note": "applied", "type": "Normal", "regarding": regarding}
    events_api = f"/apis/events.k8s.io/v1/namespaces/{NS}/events"
    expect(as_operator(kube, "POST", events_api, new_event), 201, "create events.k8s.io event")
    expect(as_operator(kube, "PATCH", f"{events_api}/probestack.events",
                       {"series": {"count": 2, "lastObservedTime": now(micro=True)}}), 200,
           "patch events.k8s.io event")

    # The Lease: created, read, renewed by an update carrying the resourceVersion it read.
    leases = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "stackwatch-probe"},
             "spec": {"holderIdentity": "stackwatch-a", "leaseDurationSeconds": 15}}
    expect(as_operator(kube, "POST", leases, lease), 201, "create lease")
    got = expect(as_operator(kube, "GET", f"{leases}/stackwatch-probe"), 200, "get lease")
    got["spec"]["holderIdentity"] = "stackwatch-b"
    expect(as_operator(kube, "PUT", f"{leases}/stackwatch-probe", got), 200, "update lease")
    assert kube.kubectl_json("get", "-n", NS, "lease", "stackwatch-probe")["spec"]["holderIdentity"] == "stackwatch-b"


@pytest.mark.parametrize("method,path,body", [
    ("DELETE", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/stackwatch-probe", None),
    ("GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases", None),
    ("GET", f"{CORE}/secrets", None),
    ("GET", f"{CORE}/configmaps/probestack-outputs", None),
    ("DELETE", f"{SW}/stacks/probestack", None),
    ("PATCH", f"{SW}/apps/probe", {"spec": {"stage": "prod"}}),
    ("PUT", f"{SW}/stacks/probestack/status", {"status": {}}),
    ("POST", f"{SW}/stacks", {"apiVersion": "stackwatch.dev/v1alpha1", "kind": "Stack",
                              "metadata": {"name": "other"}, "spec": {"stack": "Other"}}),
    ("GET", "/apis/stackwatch.dev/v1alpha1/namespaces/notes/stacks", None),
    ("GET", "/apis/stackwatch.dev/v1alpha1/stacks", None),
    ("POST", "/apis/apps/v1/namespaces/stackwatch/deployments", {"apiVersion": "apps/v1", "kind": "Deployment"}),
    ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", None),
])
def test_the_serviceaccount_is_refused_the_rest(kube, probe_objects, method, path, body):
    status, text = as_operator(kube, method, path, body)
    assert status == 403, f"{method} {path}: {status} {text}"
    # Refused as the ServiceAccount (the impersonation took effect), not for another reason.
    assert f'User "{SA_USER}" cannot' in json.loads(text)["message"], text


# --- one mode over the other -----------------------------------------------------------------

def test_the_file_mode_applies_over_the_operator(kube, operator):
    """With the operator's objects in place, the base's dry run still passes: same Deployment
    name and selector, and the result is the file mode's (1 replica, Recreate, the config volume)."""
    assert kube.kubectl_json("get", "-n", NS, "deployment", "stackwatch")["spec"]["replicas"] == 2
    check_base_dry_run(kube)
    assert kube.kubectl_json("get", "-n", NS, "deployment", "stackwatch")["spec"]["replicas"] == 2

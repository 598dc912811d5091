"""deploy/k8s: the base and the local overlay render with kustomize (kubectl's built-in) and pass
kubernetes-validate's strict schema check; the Deployment keeps the contract the README states."""

import subprocess

import pytest
import yaml

from conftest import REPO, tool

K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"


def render(path):
    r = subprocess.run(
        [tool("kubectl"), "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(path)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def by_kind(text):
    docs = [d for d in yaml.safe_load_all(text) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


@pytest.fixture(scope="module", params=["base", "overlays/local"])
def rendered(request):
    return request.param, render(K8S / request.param)


def test_schema_validation_strict(rendered, tmp_path):
    name, text = rendered
    out = tmp_path / "rendered.yaml"
    out.write_text(text)
    r = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(out)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, f"{name}:\n{r.stdout}{r.stderr}"


def test_kinds_and_namespace(rendered):
    _, text = rendered
    objs = by_kind(text)
    for key in [("Namespace", "stackwatch"), ("ServiceAccount", "stackwatch"),
                ("ConfigMap", "stackwatch-app"), ("ConfigMap", "stackwatch-stacks"),
                ("Deployment", "stackwatch"), ("Service", "stackwatch-metrics")]:
        assert key in objs, sorted(objs)
    for (kind, _), o in objs.items():
        if kind != "Namespace":
            assert o["metadata"]["namespace"] == "stackwatch", o["metadata"]


def deployment(text):
    return by_kind(text)[("Deployment", "stackwatch")]


def test_deployment_contract(rendered):
    _, text = rendered
    d = deployment(text)
    spec = d["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "stackwatch"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    (c,) = pod["containers"]
    assert c["args"] == ["watch", "--config", "/config", "--approve", "auto", "--console", "off", "--log-format", "json"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["ports"] == [{"name": "metrics", "containerPort": 9464, "protocol": "TCP"}]
    res = c["resources"]
    assert res["requests"]["memory"] and res["requests"]["cpu"] and res["limits"]["memory"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["STACKWATCH_STATE_DIR"] == "/state"
    assert env["STACKWATCH_LISTEN"] == "0.0.0.0:9464"
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/config"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/state"]["name"]]
    assert "projected" in volumes[mounts["/config"]["name"]]


def test_every_stack_file_is_mounted_where_the_daemon_reads_it(rendered):
    """config/ in the pod is config/ in the repository: same files, same bytes, same layout."""
    _, text = rendered
    objs = by_kind(text)
    mounted = {"stackwatch.yaml": objs[("ConfigMap", "stackwatch-app")]["data"]["stackwatch.yaml"]}
    stacks = objs[("ConfigMap", "stackwatch-stacks")]["data"]
    pod = deployment(text)["spec"]["template"]["spec"]
    (config,) = [v for v in pod["volumes"] if v["name"] == "config"]
    for src in config["projected"]["sources"]:
        for item in src["configMap"].get("items", []):
            mounted[item["path"]] = stacks[item["key"]]
    expected = {"stackwatch.yaml": (REPO / "config" / "stackwatch.yaml").read_text()}
    for f in sorted((REPO / "config" / "stacks").iterdir()):
        if f.suffix in (".yaml", ".yml") and not f.name.startswith("."):
            expected[f"stacks/{f.name}"] = f.read_text()
    assert mounted == expected


def test_metrics_service_is_scraped():
    objs = by_kind(render(K8S / "base"))
    svc = objs[("Service", "stackwatch-metrics")]
    ann = svc["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert ann["prometheus.io/port"] == "9464"
    assert svc["spec"]["ports"][0]["targetPort"] == "metrics"
    selector = svc["spec"]["selector"]
    labels = deployment(render(K8S / "base"))["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()


def test_base_uses_irsa_and_the_local_overlay_an_emulator():
    base = by_kind(render(K8S / "base"))
    assert "eks.amazonaws.com/role-arn" in base[("ServiceAccount", "stackwatch")]["metadata"]["annotations"]
    local = by_kind(render(K8S / "overlays/local"))
    sa = local[("ServiceAccount", "stackwatch")]
    assert "eks.amazonaws.com/role-arn" not in (sa["metadata"].get("annotations") or {})
    aws = local[("ConfigMap", "stackwatch-aws")]["data"]
    assert aws["AWS_ENDPOINT_URL"].startswith("http://")
    c = deployment(render(K8S / "overlays/local"))["spec"]["template"]["spec"]["containers"][0]
    refs = {next(iter(e.values()))["name"] for e in c["envFrom"]}
    assert refs == {"stackwatch-aws", "stackwatch-emulator-credentials"}
    assert ("Secret", "stackwatch-emulator-credentials") in local
    assert ("Secret", "stackwatch-test-users") in local


def test_the_console_is_off_in_the_cluster_and_no_token_is_written_down(rendered):
    """The console is a write surface: off in the manifests (read-only needs a token from a
    Secret, which the manifests never hold as a literal)."""
    _, text = rendered
    (c,) = deployment(text)["spec"]["template"]["spec"]["containers"]
    args = c["args"]
    assert args[args.index("--console") + 1] == "off"
    for e in c.get("env", []):
        assert not e["name"].startswith("STACKWATCH_CONSOLE") or "valueFrom" in e, e
    assert "STACKWATCH_CONSOLE_TOKEN=" not in text

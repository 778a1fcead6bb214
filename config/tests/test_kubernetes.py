"""deploy/k8s/: the Kubernetes manifests validate offline against the Kubernetes schemas
(kubernetes-validate ships them) and agree with the settings, compose and the benchmarks."""

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from config.tests.test_deployment import compose, settings_variables

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"


def kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def documents() -> list[dict]:
    docs = []
    for name in kustomization()["resources"]:
        docs += [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]
    return docs


def resource(kind: str, name: str) -> dict:
    found = [d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name)
    return found[0]


def pod_specs() -> dict[str, dict]:
    specs = {}
    for doc in documents():
        if doc["kind"] in ("Deployment", "Job"):
            specs[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]
    return specs


def test_kustomization_lists_every_manifest_and_each_exists():
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize("name", sorted(kustomization()["resources"]))
def test_each_manifest_validates_against_the_kubernetes_schemas_offline(name):
    for doc in yaml.safe_load_all((K8S / name).read_text()):
        if doc:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_broken_manifest_is_refused_by_the_validation():
    broken = resource("Deployment", "web") | {"spec": {"replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    misspelt = resource("HorizontalPodAutoscaler", "web")
    misspelt["spec"]["minReplicaz"] = 2
    with pytest.raises(kubernetes_validate.ValidationError, match="minReplicaz"):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("name", ["web", "websocket"])
def test_web_and_websocket_are_ready_on_readyz_and_alive_on_healthz(name):
    container = resource("Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["command"] == ["sh", "scripts/serve", "--no-migrate"]
    assert resource("Deployment", name)["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_web_scales_on_cpu_with_an_autoscaler_and_the_ingress_sends_sockets_to_their_own_pods():
    hpa = resource("HorizontalPodAutoscaler", "web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert hpa["spec"]["minReplicas"] >= 2
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    routes = {}
    for name in ("web", "websocket"):
        ingress = resource("Ingress", name)
        for path in ingress["spec"]["rules"][0]["http"]["paths"]:
            routes[path["path"]] = path["backend"]["service"]["name"]
    assert routes == {"/ws/": "websocket", "/": "web"}
    web = resource("Ingress", "web")["metadata"]["annotations"]
    assert web["nginx.ingress.kubernetes.io/proxy-body-size"] == re.search(r"client_max_body_size (\d+m);", conf).group(
        1
    )
    # The same read timeouts as the compose entry: 45 s for the API, an hour for live status.
    api_timeout, ws_timeout = re.search(
        r"location /ws/.*?proxy_read_timeout (\d+)h;.*?proxy_read_timeout (\d+)s;", conf, re.S
    ).group(2, 1)
    assert web["nginx.ingress.kubernetes.io/proxy-read-timeout"] == api_timeout
    websocket = resource("Ingress", "websocket")["metadata"]["annotations"]
    assert int(websocket["nginx.ingress.kubernetes.io/proxy-read-timeout"]) == int(ws_timeout) * 3600


def test_only_the_ingress_controller_reaches_the_pods_that_trust_forwarded_headers():
    assert resource("ConfigMap", "dancecoach")["data"]["FORWARDED_ALLOW_IPS"] == "*"
    serving = resource("NetworkPolicy", "web-from-ingress-only")["spec"]
    assert serving["podSelector"]["matchExpressions"][0]["values"] == ["web", "websocket"]
    (rule,) = serving["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]
    background = resource("NetworkPolicy", "no-inbound-to-background")["spec"]
    assert background["policyTypes"] == ["Ingress"] and "ingress" not in background


def test_beat_is_one_replica_replaced_with_recreate_and_workers_run_the_compose_commands():
    beat = resource("Deployment", "beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"] == {"type": "Recreate"}
    services = compose()["services"]
    for name in ("beat", "worker"):
        command = resource("Deployment", name)["spec"]["template"]["spec"]["containers"][0]["command"]
        assert " ".join(command) == services[name]["command"]
    worker = resource("Deployment", "worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > 120  # a warm shutdown outlasts the hard time limit


def test_migrations_run_in_a_job_and_every_pod_waits_for_them():
    job = resource("Job", "migrate")["spec"]["template"]["spec"]
    assert job["containers"][0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "websocket", "worker", "beat"):
        init = resource("Deployment", name)["spec"]["template"]["spec"]["initContainers"][0]
        assert "manage.py migrate --check" in init["command"][-1], name


def test_every_pod_runs_as_non_root_with_requests_and_limits():
    for name, spec in pod_specs().items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name  # the Dockerfile's user
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= container["resources"][kind].keys(), (name, kind)


def test_disruption_budgets_keep_web_websocket_and_workers_serving():
    selected = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for d in documents()
        if d["kind"] == "PodDisruptionBudget"
    }
    assert selected == {"web", "websocket", "worker"}


def test_config_and_secret_hold_only_settings_the_app_reads_and_no_real_secret():
    known = settings_variables()
    config = resource("ConfigMap", "dancecoach")["data"]
    secret = resource("Secret", "dancecoach")["stringData"]
    assert set(config) <= known, set(config) - known
    assert set(secret) <= known, set(secret) - known
    assert config["DEBUG"] == "false" and config["AWS_STORAGE_BUCKET_NAME"]
    assert all(v == "" or "change-me" in v for v in secret.values())
    for spec in pod_specs().values():
        for container in spec["containers"]:
            refs = [next(iter(ref.values()))["name"] for ref in container["envFrom"]]
            assert refs == ["dancecoach", "dancecoach"]


def test_the_optional_keda_scaler_reads_the_celery_queue():
    keda = yaml.safe_load((K8S / "optional" / "keda-worker.yaml").read_text())
    trigger = keda["spec"]["triggers"][0]
    assert keda["spec"]["scaleTargetRef"]["name"] == "worker"
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == "celery"

"""The deployment files of generated projects: the Dockerfile and deploy/kubernetes.

Offline, no cluster and no image registry needed:
- every Kubernetes object is validated against the API schemas that kubernetes-validate
  bundles, strictly (an unknown or misspelt field is an error), for the oldest Kubernetes
  the manifests promise (1.30: the preStop `sleep` action) and the newest it knows;
- what a deployment relies on is read from the YAML: non-root pods with a read-only root
  filesystem and no privileges, liveness on /healthz and readiness on /readyz, a metrics
  port scraped on the pod and never published by the Service, a termination grace period
  that covers SHUTDOWN_GRACE_SECS, resources, spread, autoscaling and a
  disruption budget that select the pods, no credential written in any manifest, the
  Secret holding exactly the credential variables the server reads;
- the kustomization renders with `kubectl kustomize` (the base, and the overlay the
  generated README shows) and every rendered object validates too;
- `test_the_checks_catch_broken_manifests` breaks copies on purpose, so the checks are
  known to fail when they should.

Projects: the golden outputs (tests/output: Petstore with OAuth and an API key, an --auth
none server without credentials, train-travel with token exchange) and security.json
generated here (API keys in header, query and cookie, basic, bearer and OAuth client
credentials) with the mcp-gen binary (MCP_GEN_BIN, default target/release/mcp-gen).
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# The oldest Kubernetes the manifests are for, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30", "1.37")
NONROOT_UID = 65532
RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                      "app.kubernetes.io/component", "app.kubernetes.io/managed-by")

INTROSPECTION = ["TOKEN_INTROSPECTION_CLIENT_ID", "TOKEN_INTROSPECTION_CLIENT_SECRET"]
# Each project: where it is (or how to make it), and the variables the server reads that
# must land in the Secret and in the ConfigMap, as the model names them (.env.example).
PROJECTS = {
    "petstore": {
        "golden": "petstore", "oauth": True,
        "secrets": ["UPSTREAM_API_KEY", *INTROSPECTION], "settings": [],
    },
    "required-headers": {
        "golden": "required-headers", "oauth": False, "secrets": [], "settings": [],
    },
    "train-travel": {
        "golden": "train-travel", "oauth": True,
        "secrets": ["TOKEN_EXCHANGE_CLIENT_ID", "TOKEN_EXCHANGE_CLIENT_SECRET", *INTROSPECTION],
        "settings": ["TOKEN_EXCHANGE_URL", "TOKEN_EXCHANGE_AUDIENCE"],
    },
    "security": {
        "spec": "fixtures/readme-oas-examples/3.0/json/security.json",
        "args": ["--auth", "oauth2", "--oauth-server", "https://auth.example.com"],
        "oauth": True,
        "secrets": ["API_KEY_COOKIE_API_KEY", "API_KEY_HEADER_API_KEY", "API_KEY_QUERY_API_KEY",
                    "BASIC_USERNAME", "BASIC_PASSWORD", "BEARER_TOKEN", "BEARER_JWT_TOKEN",
                    "OAUTH2_CLIENT_CREDENTIALS_CLIENT_ID",
                    "OAUTH2_CLIENT_CREDENTIALS_CLIENT_SECRET", *INTROSPECTION],
        "settings": ["OAUTH2_CLIENT_CREDENTIALS_TOKEN_URL"],
    },
}


def mcp_gen() -> Path:
    binary = Path(os.environ.get("MCP_GEN_BIN", REPO / "target" / "release" / "mcp-gen"))
    if not binary.is_file():
        pytest.fail(f"no mcp-gen binary at {binary}: `cargo build --release` (or set MCP_GEN_BIN)")
    return binary


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """The project directory by name; those not golden are generated on first use."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        p = PROJECTS[name]
        if "golden" in p:
            return REPO / "tests" / "output" / p["golden"]
        if name not in made:
            d = tmp_path_factory.mktemp("deploy") / name
            subprocess.run([mcp_gen(), "generate", "--quiet", "--name", name,
                            "--url", REPO / p["spec"], "--out", d, *p["args"]], check=True)
            # What was just written is what this run would generate.
            subprocess.run([mcp_gen(), "generate", "--check", "--quiet", "--out", d], check=True)
            made[name] = d
        return made[name]
    return get


# --- reading a project's deployment files ---------------------------------------------------

def read_env_file(path: Path) -> dict[str, str]:
    """An env file as kustomize reads one: `VAR=value` lines, comments and blanks skipped."""
    pairs = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        assert "=" in line, f"{path}: {line!r} is not VAR=value"
        key, value = line.split("=", 1)
        assert key not in pairs, f"{path}: {key} twice"
        pairs[key] = value
    return pairs


class Deploy:
    """A project's deploy/kubernetes: the kustomization, its resources and generators."""

    def __init__(self, project: Path):
        self.project = project
        self.dir = project / "deploy" / "kubernetes"
        self.kustomization = yaml.safe_load((self.dir / "kustomization.yaml").read_text())
        self.objects = []
        for name in self.kustomization["resources"]:
            self.objects += [d for d in yaml.safe_load_all((self.dir / name).read_text()) if d]
        (self.config,) = self.kustomization["configMapGenerator"]
        self.settings = read_env_file(self.dir / "config.env")
        generators = self.kustomization.get("secretGenerator", [])
        self.secret = generators[0] if generators else None
        example = self.dir / "credentials.env.example"
        self.credentials = read_env_file(example) if example.exists() else {}

    def one(self, kind: str) -> dict:
        (found,) = [o for o in self.objects if o["kind"] == kind]
        return found

    def generated(self) -> list[dict]:
        """The ConfigMap and Secret the generators make (names without kustomize's hash)."""
        labels = self.kustomization.get("generatorOptions", {}).get("labels", {})
        made = [{"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": self.config["name"], "labels": labels},
                 "data": self.settings}]
        if self.secret:
            made.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                         "metadata": {"name": self.secret["name"], "labels": labels},
                         "stringData": self.credentials})
        return made


def pod_spec(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]


def container(deployment: dict) -> dict:
    (c,) = pod_spec(deployment)["containers"]
    return c


# --- the checks (also run on broken copies by test_the_checks_catch_broken_manifests) -------

def check_schemas(objects: list[dict]) -> None:
    for version in KUBERNETES_VERSIONS:
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                where = "/".join(str(p) for p in e.path)
                raise AssertionError(
                    f"{obj['kind']} {obj['metadata']['name']} is not valid Kubernetes {version}: "
                    f"{e.message} at {where}") from None


def check_unprivileged(deployment: dict) -> None:
    pod = pod_spec(deployment)
    sc = pod.get("securityContext", {})
    c = container(deployment)
    csc = c.get("securityContext", {})
    run_as = csc.get("runAsUser", sc.get("runAsUser"))
    assert csc.get("runAsNonRoot", sc.get("runAsNonRoot")) is True, "runAsNonRoot"
    assert isinstance(run_as, int) and run_as > 0, f"runAsUser {run_as!r}: a numeric non-root uid"
    assert csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem"
    assert csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation"
    assert csc.get("privileged", False) is False, "privileged"
    assert csc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities: drop ALL"
    assert not csc.get("capabilities", {}).get("add"), "capabilities added"
    seccomp = csc.get("seccompProfile", sc.get("seccompProfile", {}))
    assert seccomp.get("type") == "RuntimeDefault", "seccompProfile RuntimeDefault"
    assert pod.get("automountServiceAccountToken") is False, "no service account token"
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(host), host


def check_probes_and_resources(deployment: dict) -> None:
    c = container(deployment)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert probe in c, f"no {probe}"
        get = c[probe].get("httpGet")
        assert get, f"{probe} is not an HTTP GET"
        assert get["path"] in ("/healthz", "/readyz"), f"{probe} asks {get['path']}"
        assert get["port"] in ports or get["port"] in ports.values(), f"{probe}: no port {get['port']}"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness must not depend on readiness"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness must follow /readyz (keys, SIGTERM)"
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            assert c.get("resources", {}).get(kind, {}).get(resource), f"no {kind}.{resource}"
    check_shutdown(deployment, {})


def check_shutdown(deployment: dict, settings: dict[str, str]) -> None:
    """The pod gets the preStop pause, then the server's own drain (SHUTDOWN_GRACE_SECS, 60 by
    default, as long as the default REQUEST_TIMEOUT_SECS), then a moment to exit."""
    c = container(deployment)
    pause = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    grace = pod_spec(deployment).get("terminationGracePeriodSeconds", 30)
    drain = float(settings.get("SHUTDOWN_GRACE_SECS") or 60)
    assert grace >= pause + drain + 2, f"terminationGracePeriodSeconds {grace} < {pause} + {drain} + 2"


def check_metrics_port(deployment: dict, service: dict, settings: dict[str, str]) -> None:
    """Metrics on a port of their own, where a scraper of the pods looks, never behind the
    Service's public port."""
    c = container(deployment)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert "metrics" in ports, "no metrics containerPort"
    host, _, port = settings.get("METRICS_ADDR", "").rpartition(":")
    assert host == "0.0.0.0" and port == str(ports["metrics"]), \
        f"METRICS_ADDR {settings.get('METRICS_ADDR')!r} is not 0.0.0.0:{ports['metrics']}"
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true", "prometheus.io/scrape"
    assert annotations.get("prometheus.io/port") == str(ports["metrics"]), "prometheus.io/port"
    assert annotations.get("prometheus.io/path") == "/metrics", "prometheus.io/path"
    for published in service["spec"]["ports"]:
        assert published["targetPort"] not in ("metrics", ports["metrics"]), "the Service publishes the metrics"


def check_no_literal_secrets(deploy: Deploy, objects: list[dict]) -> None:
    for obj in objects:
        if obj["kind"] == "Secret":
            assert not (obj.get("data") or obj.get("stringData")), \
                f"a Secret with values written in a manifest: {obj['metadata']['name']}"
        if obj["kind"] == "Deployment":
            for c in pod_spec(obj)["containers"]:
                for var in c.get("env", []):
                    assert "value" not in var, f"env {var['name']} has a literal value"
    for key, value in deploy.credentials.items():
        assert value == "", f"credentials.env.example holds a value for {key}"
    leaked = set(deploy.settings) & set(deploy.credentials)
    assert not leaked, f"credentials in the ConfigMap: {leaked}"


# --- tests ----------------------------------------------------------------------------------

@pytest.fixture(params=sorted(PROJECTS))
def project(request, projects):
    return request.param, Deploy(projects(request.param))


def test_every_object_is_valid_kubernetes(project):
    _, deploy = project
    kinds = sorted(o["kind"] for o in deploy.objects)
    assert kinds == ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"]
    check_schemas(deploy.objects + deploy.generated())


def test_the_kustomization_names_files_that_exist(project):
    _, deploy = project
    named = set(deploy.kustomization["resources"]) | set(deploy.config["envs"])
    for name in sorted(named):
        assert (deploy.dir / name).is_file(), f"kustomization.yaml names {name}, which is not there"
    if deploy.secret:
        (secret_file,) = deploy.secret["envs"]
        # The user's copy of the example: never generated, kept out of git and the image.
        assert (deploy.dir / f"{secret_file}.example").is_file()
        assert not (deploy.dir / secret_file).exists()
        assert f"/deploy/kubernetes/{secret_file}" in (deploy.project / ".gitignore").read_text().split("\n")
    yaml_files = {p.name for p in deploy.dir.glob("*.yaml")} - {"kustomization.yaml"}
    assert yaml_files == set(deploy.kustomization["resources"]), "a manifest the kustomization leaves out"


def test_pods_run_unprivileged(project):
    _, deploy = project
    deployment = deploy.one("Deployment")
    check_unprivileged(deployment)
    # The image's own user is the one the pods run as.
    dockerfile = (deploy.project / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users == [f"{NONROOT_UID}:{NONROOT_UID}"], users
    assert pod_spec(deployment)["securityContext"]["runAsUser"] == NONROOT_UID


def test_probes_resources_and_shutdown(project):
    _, deploy = project
    check_probes_and_resources(deploy.one("Deployment"))
    check_shutdown(deploy.one("Deployment"), deploy.settings)
    assert deploy.settings.get("LOG_FORMAT") == "json", "log collectors read JSON lines"


def test_metrics_are_scraped_on_the_pod_not_published(project):
    _, deploy = project
    check_metrics_port(deploy.one("Deployment"), deploy.one("Service"), deploy.settings)


def test_replicas_spread_scale_and_survive_drains(project):
    _, deploy = project
    deployment, service = deploy.one("Deployment"), deploy.one("Service")
    hpa, pdb = deploy.one("HorizontalPodAutoscaler"), deploy.one("PodDisruptionBudget")
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    # The autoscaler owns the count: a `replicas` here would reset it on every apply.
    assert "replicas" not in deployment["spec"]
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["minReplicas"] >= 3
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["selector"]["matchLabels"] == selector
    spread = pod_spec(deployment)["topologySpreadConstraints"]
    assert "kubernetes.io/hostname" in [s["topologyKey"] for s in spread]
    for s in spread:
        assert s["labelSelector"]["matchLabels"] == selector
    assert service["spec"]["type"] == "ClusterIP" and service["spec"]["selector"] == selector
    (port,) = service["spec"]["ports"]
    (http,) = [p for p in container(deployment)["ports"] if p["name"] == "http"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http", 80, "http")
    assert (http["name"], http["containerPort"]) == ("http", 8000)
    assert deploy.settings["PORT"] == str(http["containerPort"])
    assert deploy.settings["HOST"] == "0.0.0.0"


def test_recommended_labels_everywhere(project):
    name, deploy = project
    deployment = deploy.one("Deployment")
    kube_name = deployment["metadata"]["name"]
    labelled = [o["metadata"] for o in deploy.objects] + [deployment["spec"]["template"]["metadata"]]
    labelled += [o["metadata"] for o in deploy.generated()]
    for metadata in labelled:
        for label in RECOMMENDED_LABELS:
            assert label in metadata.get("labels", {}), f"{metadata.get('name')}: no {label}"
        assert metadata["labels"]["app.kubernetes.io/name"] == kube_name
    assert kube_name == name


def test_credentials_come_from_a_secret_reference_only(project):
    name, deploy = project
    expected = PROJECTS[name]
    check_no_literal_secrets(deploy, deploy.objects)
    assert list(deploy.credentials) == expected["secrets"]
    for setting in expected["settings"]:
        assert setting in deploy.settings, f"{setting} not in config.env"
    # The same variables the generated .env.example documents, nothing invented.
    documented = read_env_file(deploy.project / ".env.example")
    for var in [*deploy.credentials, *deploy.settings]:
        assert var in documented, f"{var} is not a variable of the server (.env.example)"
    refs = container(deploy.one("Deployment"))["envFrom"]
    wanted = [{"configMapRef": {"name": deploy.config["name"]}}]
    if expected["secrets"]:
        assert deploy.secret["name"] == f"{name}-credentials"
        wanted.append({"secretRef": {"name": deploy.secret["name"]}})
    else:
        assert deploy.secret is None
    assert refs == wanted


def test_public_address_settings(project):
    name, deploy = project
    settings = deploy.settings
    assert "ALLOWED_HOSTS" in settings and "RESOURCE_SERVER_URL" in settings
    if PROJECTS[name]["oauth"]:
        # Not baked at generation: left empty, so the server refuses to start until it is
        # set, rather than accepting tokens for some placeholder audience.
        assert settings["RESOURCE_SERVER_URL"] == ""
        assert settings["AUTHORIZATION_SERVER_URL"].startswith("https://")
    else:
        assert "AUTHORIZATION_SERVER_URL" not in settings


def test_dockerfile(project):
    _, deploy = project
    text = (deploy.project / "Dockerfile").read_text()
    images = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(images) >= 2, "a multi-stage build"
    for image in images:
        tag = image.split("@")[0].rsplit("/", 1)[-1]
        assert ":" in tag and not tag.endswith(":latest"), f"{image} is not pinned by tag"
    assert images[-1].startswith("gcr.io/distroless/cc-debian12:nonroot")
    assert re.search(r"cargo build --release --locked\s*$", text, re.M)
    healthcheck = re.search(r"^HEALTHCHECK .*\\\n\s*CMD (\[.*\])$", text, re.M)
    assert healthcheck and '"--healthcheck"' in healthcheck.group(1), "HEALTHCHECK runs --healthcheck"
    ignored = (deploy.project / ".dockerignore").read_text().split("\n")
    for entry in ("target/", ".env", "deploy/"):
        assert entry in ignored, f".dockerignore lacks {entry}"


def kustomize(directory: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl is not on PATH: the kustomization's files are checked by "
                    "test_the_kustomization_names_files_that_exist only")
    run = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "KUBECONFIG": os.devnull})
    assert run.returncode == 0, run.stderr
    return [d for d in yaml.safe_load_all(run.stdout) if d]


def test_kustomize_renders_base_and_readme_overlay(project, tmp_path):
    name, deploy = project
    copy_dir = tmp_path / "deploy"
    shutil.copytree(deploy.dir, copy_dir / "kubernetes")
    if deploy.secret:
        (secret_file,) = deploy.secret["envs"]
        shutil.copy(copy_dir / "kubernetes" / f"{secret_file}.example", copy_dir / "kubernetes" / secret_file)
    rendered = kustomize(copy_dir / "kubernetes")
    check_schemas(rendered)
    check_unprivileged(next(o for o in rendered if o["kind"] == "Deployment"))
    kinds = sorted(o["kind"] for o in rendered)
    assert kinds == sorted(["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                            "Service"] + (["Secret"] if deploy.secret else []))
    # envFrom follows the generated names (with their content hash).
    names = {o["metadata"]["name"] for o in rendered}
    for ref in container(next(o for o in rendered if o["kind"] == "Deployment"))["envFrom"]:
        (target,) = ref.values()
        assert target["name"] in names and re.search(r"-[a-z0-9]{10}$", target["name"])
    # The overlay the README shows: namespace, image and the public address of its own.
    readme = (deploy.project / "README.md").read_text()
    (overlay,) = re.findall(r"```yaml\n(apiVersion: kustomize.*?)```", readme, re.S)
    (copy_dir / "production").mkdir()
    (copy_dir / "production" / "kustomization.yaml").write_text(overlay)
    rendered = kustomize(copy_dir / "production")
    check_schemas(rendered)
    assert {o["metadata"].get("namespace") for o in rendered} == {"mcp"}
    deployment = next(o for o in rendered if o["kind"] == "Deployment")
    assert container(deployment)["image"] == f"registry.example.com/{name}:1.0.0"
    config = next(o for o in rendered if o["kind"] == "ConfigMap")
    changed = "RESOURCE_SERVER_URL" if PROJECTS[name]["oauth"] else "ALLOWED_HOSTS"
    assert config["data"][changed] and config["data"][changed] != deploy.settings[changed]
    assert config["data"]["UPSTREAM_BASE_URL"] == deploy.settings["UPSTREAM_BASE_URL"], "merged, not replaced"


def test_the_checks_catch_broken_manifests(projects):
    """Each check fails on a copy broken in the way it is there to catch."""
    deploy = Deploy(projects("petstore"))
    deployment = deploy.one("Deployment")

    def broken(change, check, message):
        d = copy.deepcopy(deployment)
        change(d)
        with pytest.raises(AssertionError, match=message):
            check(d)

    # A misspelt field, and a value of the wrong type: schema errors.
    broken(lambda d: container(d)["securityContext"].update(readOnlyRootFileSystem=True),
           lambda d: check_schemas([d]), "readOnlyRootFileSystem")
    broken(lambda d: container(d)["resources"]["limits"].update(memory=["512Mi"]),
           lambda d: check_schemas([d]), "resources/limits/memory")
    broken(lambda d: pod_spec(d)["securityContext"].update(runAsUser=0), check_unprivileged, "runAsUser")
    broken(lambda d: container(d)["securityContext"].update(readOnlyRootFilesystem=False),
           check_unprivileged, "readOnlyRootFilesystem")
    broken(lambda d: container(d)["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
           check_unprivileged, "drop ALL")
    broken(lambda d: container(d).pop("readinessProbe"), check_probes_and_resources, "readinessProbe")
    broken(lambda d: container(d)["readinessProbe"]["httpGet"].update(path="/healthz"),
           check_probes_and_resources, "readyz")
    broken(lambda d: pod_spec(d).update(terminationGracePeriodSeconds=30), check_probes_and_resources,
           "terminationGracePeriodSeconds")
    service = deploy.one("Service")
    metrics_check = lambda d: check_metrics_port(d, service, deploy.settings)  # noqa: E731
    broken(lambda d: container(d)["ports"].pop(), metrics_check, "no metrics containerPort")
    broken(lambda d: d["spec"]["template"]["metadata"]["annotations"].update({"prometheus.io/port": "8000"}),
           metrics_check, "prometheus.io/port")
    published = copy.deepcopy(service)
    published["spec"]["ports"].append({"name": "metrics", "port": 9464, "targetPort": "metrics"})
    with pytest.raises(AssertionError, match="publishes the metrics"):
        check_metrics_port(deployment, published, deploy.settings)
    broken(lambda d: container(d)["resources"].pop("limits"), check_probes_and_resources, "limits")
    broken(lambda d: container(d).update(env=[{"name": "UPSTREAM_API_KEY", "value": "special-key"}]),
           lambda d: check_no_literal_secrets(deploy, [d]), "literal value")
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "leak"},
              "stringData": {"UPSTREAM_API_KEY": "special-key"}}
    with pytest.raises(AssertionError, match="Secret with values"):
        check_no_literal_secrets(deploy, [secret])

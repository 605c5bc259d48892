"""Structural checks of the production Terraform in infra/terraform.

`terraform validate` needs the google provider (a network download), so these
tests parse the HCL with python-hcl2 instead and check the facts a bad edit
would silently break: the fleet and its scaling bounds, the invoker table, that
only the gateway is public, one service account per service, the KMS key's
prevent_destroy, the provider pin, and that every reference points at
something that exists.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from fastapi import FastAPI
from hcl2 import SerializationOptions

from agora_common.settings import ServiceSettings
from agora_devstack.fleet import SERVICES as SETTINGS_CLASSES

TF_DIR = Path(__file__).resolve().parents[2] / "infra" / "terraform"

_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)

SCALING = {
    "gateway": (1, 3),
    "registry": (0, 10),
    "auth": (0, 5),
    "executor": (1, 20),
    "tool": (0, 5),
    "analytics": (0, 3),
    "vetting": (0, 2),
}
SERVICES = set(SCALING)

# caller -> callees, as specified for the fleet.
EXPECTED_CALLS = {
    "gateway": {"registry", "auth", "executor", "tool", "analytics", "vetting"},
    "vetting": {"registry", "executor"},
    "executor": {"registry", "auth", "analytics"},
    "auth": {"registry"},
    "analytics": {"registry"},
    "registry": {"vetting", "tool"},
    "tool": {"registry", "vetting", "auth", "executor"},  # executor: the MCP endpoint's calls
}

SERVICE_ENTRY_KEYS = {"min", "max", "public", "redis", "roles", "env"}
FIRESTORE_ROLE = "roles/datastore.user"
SA_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def _tf_files() -> list[Path]:
    return sorted(TF_DIR.glob("*.tf"))


def _parse(path: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = hcl2.loads(path.read_text(), serialization_options=_OPTIONS)
    return parsed


class Config:
    """All .tf files of the module merged into lookup tables."""

    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}
        self.data: dict[tuple[str, str], dict[str, Any]] = {}
        self.locals: dict[str, Any] = {}
        self.variables: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.terraform: list[dict[str, Any]] = []
        self.documents: list[dict[str, Any]] = []

        for path in _tf_files():
            doc = _parse(path)
            self.documents.append(doc)
            for block in doc.get("resource", []):
                self._add_labelled(self.resources, block, path)
            for block in doc.get("data", []):
                self._add_labelled(self.data, block, path)
            for block in doc.get("locals", []):
                for name, value in block.items():
                    assert name not in self.locals, f"local.{name} defined twice"
                    self.locals[name] = value
            for block in doc.get("variable", []):
                self.variables.update(block)
            for block in doc.get("output", []):
                self.outputs.update(block)
            self.terraform.extend(doc.get("terraform", []))

    @staticmethod
    def _add_labelled(
        table: dict[tuple[str, str], dict[str, Any]], block: dict[str, Any], path: Path
    ) -> None:
        for rtype, by_name in block.items():
            for name, body in by_name.items():
                key = (rtype, name)
                assert key not in table, f"{rtype}.{name} defined twice ({path.name})"
                table[key] = body

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        assert (rtype, name) in self.resources, f"missing resource {rtype}.{name}"
        return self.resources[(rtype, name)]

    def resources_of(self, rtype: str) -> dict[str, dict[str, Any]]:
        return {name: body for (t, name), body in self.resources.items() if t == rtype}

    def resolve(self, value: Any) -> Any:
        """Replace a bare `${var.x}` with the variable's default."""
        if isinstance(value, str):
            match = re.fullmatch(r"\$\{var\.(\w+)\}", value)
            if match:
                var = self.variables[match.group(1)]
                assert "default" in var, f"var.{match.group(1)} has no default"
                return var["default"]
        return value

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.locals["services"]
        return services

    @property
    def invokers(self) -> dict[str, list[str]]:
        invokers: dict[str, list[str]] = self.locals["invokers"]
        return invokers


@cache
def config() -> Config:
    return Config()


def _strings(node: Any) -> list[str]:
    """Every string value (attribute values, list items) in a parsed tree."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _first(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(blocks) == 1, f"expected exactly one block, got {len(blocks)}"
    return blocks[0]


def _squash(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


# --------------------------------------------------------------------------- #
# Parsing and references
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("path", _tf_files(), ids=lambda p: p.name)
def test_every_tf_file_parses(path: Path) -> None:
    assert isinstance(_parse(path), dict)


def test_module_has_terraform_files() -> None:
    names = {p.name for p in _tf_files()}
    assert {"versions.tf", "variables.tf", "locals.tf", "run.tf", "outputs.tf"} <= names


def test_every_reference_points_at_something_declared() -> None:
    """Cheap stand-in for `terraform validate`: no dangling var/local/resource refs."""
    cfg = config()
    problems: list[str] = []
    for doc in cfg.documents:
        for text in _strings(doc):
            for name in re.findall(r"(?<![\w.])var\.(\w+)", text):
                if name not in cfg.variables:
                    problems.append(f"var.{name}")
            for name in re.findall(r"(?<![\w.])local\.(\w+)", text):
                if name not in cfg.locals:
                    problems.append(f"local.{name}")
            for rtype, name in re.findall(r"(?<![\w.])(google_\w+)\.(\w+)", text):
                if (rtype, name) not in cfg.resources:
                    problems.append(f"{rtype}.{name}")
            for rtype, name in re.findall(r"(?<![\w.])data\.(\w+)\.(\w+)", text):
                if (rtype, name) not in cfg.data:
                    problems.append(f"data.{rtype}.{name}")
    assert not problems, f"undeclared references: {sorted(set(problems))}"


def test_provider_version_is_pinned() -> None:
    terraform = _first(config().terraform)
    assert re.match(r"^>=\s*1\.\d+", terraform["required_version"])
    google = _first(terraform["required_providers"])["google"]
    assert google["source"] == "hashicorp/google"
    assert re.fullmatch(r"~>\s*6\.\d+(\.\d+)?", google["version"]), google["version"]


# --------------------------------------------------------------------------- #
# The services table
# --------------------------------------------------------------------------- #


def test_services_table_is_the_whole_fleet_with_its_scaling() -> None:
    cfg = config()
    assert set(cfg.services) == SERVICES
    for name, (lo, hi) in SCALING.items():
        entry = cfg.services[name]
        assert (cfg.resolve(entry["min"]), cfg.resolve(entry["max"])) == (lo, hi), name


def test_services_table_entries_share_one_shape() -> None:
    for name, entry in config().services.items():
        assert set(entry) == SERVICE_ENTRY_KEYS, name
        assert isinstance(entry["roles"], list), name
        assert isinstance(entry["env"], dict), name


def test_resources_over_services_only_use_fields_the_table_has() -> None:
    cfg = config()
    for (rtype, name), body in cfg.resources.items():
        if body.get("for_each") != "${local.services}":
            continue
        used = set()
        for text in _strings(body):
            used.update(re.findall(r"each\.value\.(\w+)", text))
        assert used <= SERVICE_ENTRY_KEYS, f"{rtype}.{name} uses {used - SERVICE_ENTRY_KEYS}"


def test_cloud_run_scaling_comes_from_the_table() -> None:
    run = config().resource("google_cloud_run_v2_service", "service")
    assert run["for_each"] == "${local.services}"
    assert run["name"] == "agora-${each.key}"
    scaling = _first(_first(run["template"])["scaling"])
    assert scaling["min_instance_count"] == "${each.value.min}"
    assert scaling["max_instance_count"] == "${each.value.max}"


def test_images_come_from_the_agora_registry_with_the_tag() -> None:
    cfg = config()
    container = _first(
        _first(cfg.resource("google_cloud_run_v2_service", "service")["template"])["containers"]
    )
    assert container["image"] == "${local.image_registry}/${each.key}:${var.image_tag}"
    registry = _squash(cfg.locals["image_registry"])
    assert "${var.region}-docker.pkg.dev/${var.project_id}/" in registry
    assert "google_artifact_registry_repository.agora.repository_id" in registry
    repo = cfg.resource("google_artifact_registry_repository", "agora")
    assert repo["repository_id"] == "agora"
    assert repo["format"] == "DOCKER"


def test_environment_uses_the_service_prefix() -> None:
    env = _squash(config().locals["service_env"])
    for suffix in ("ENV", "PROJECT_ID", "IAM_AUDIENCES", "SERVICE_URLS", "REDIS_URL"):
        assert f'"AGORA_${{upper(name)}}_{suffix}"' in env, suffix
    assert '"AGORA_${upper(name)}_ENV"="production"' in env
    # Production settings refuse to start without an audience; it is the service's own URL.
    assert '"AGORA_${upper(name)}_IAM_AUDIENCES"=jsonencode([local.service_urls[name]])' in env
    assert '"AGORA_${upper(name)}_${key}"' in env


def test_service_urls_are_deterministic_and_fit_a_dns_label() -> None:
    cfg = config()
    suffix = _squash(cfg.locals["run_url_suffix"])
    assert suffix == "${data.google_project.this.number}.${var.region}.run.app"
    assert "https://agora-${name}-${local.run_url_suffix}" in cfg.locals["service_urls"]
    # Cloud Run only assigns a deterministic URL if the label fits in 63 chars.
    for name in cfg.services:
        assert len(f"agora-{name}-{'9' * 12}") <= 63, name


# --------------------------------------------------------------------------- #
# Invocation and exposure
# --------------------------------------------------------------------------- #


def test_invoker_table_names_existing_services_only() -> None:
    cfg = config()
    for callee, callers in cfg.invokers.items():
        assert callee in cfg.services, f"unknown callee {callee}"
        assert callers, f"{callee} has an empty caller list"
        assert len(callers) == len(set(callers)), f"duplicate caller for {callee}"
        for caller in callers:
            assert caller in cfg.services, f"unknown caller {caller} of {callee}"
            assert caller != callee, f"{callee} invokes itself"


def test_invoker_table_matches_the_call_graph() -> None:
    calls: dict[str, set[str]] = {}
    for callee, callers in config().invokers.items():
        for caller in callers:
            calls.setdefault(caller, set()).add(callee)
    assert calls == EXPECTED_CALLS


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_invoker_table_matches_the_services_allowed_callers(service: str) -> None:
    """Cloud Run IAM and the app's own caller check must agree, or calls get 403s."""
    module = importlib.import_module(f"agora_{service}.settings")
    settings_classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, ServiceSettings)
        and obj.service_name == service
    ]
    assert len(settings_classes) == 1, f"no settings class for {service}"
    allowed = set(settings_classes[0].allowed_caller_services)
    assert allowed == set(config().invokers.get(service, [])), service


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_services_table_matches_the_apps_needs(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that opens Firestore needs the role; one that opens Redis needs the URL."""
    module = importlib.import_module(f"agora_{service}.app")
    captured: dict[str, Any] = {}

    def fake_create_service_app(settings: object, **kwargs: Any) -> FastAPI:
        captured.update(kwargs)
        return FastAPI()  # apps may add their routes to it

    monkeypatch.setattr(module, "create_service_app", fake_create_service_app)
    module.create_app(SETTINGS_CLASSES[service].model_construct())  # defaults, unvalidated
    needs = captured["needs"]
    entry = config().services[service]
    assert needs.redis is entry["redis"], f"{service}: Needs(redis) vs the redis column"
    assert needs.firestore is (FIRESTORE_ROLE in entry["roles"]), f"{service}: Firestore role"
    if needs.storage:  # a BlobStore on the sources bucket needs its name
        assert "SOURCE_BUCKET" in entry["env"], f"{service}: Needs(storage) vs SOURCE_BUCKET"


def test_invoker_bindings_are_driven_by_the_table() -> None:
    cfg = config()
    binding = cfg.resource("google_cloud_run_v2_service_iam_member", "invoker")
    assert binding["for_each"] == "${local.invoker_bindings}"
    assert binding["role"] == "roles/run.invoker"
    assert binding["name"] == "${google_cloud_run_v2_service.service[each.value.callee].name}"
    assert binding["member"] == (
        "serviceAccount:${google_service_account.service[each.value.caller].email}"
    )
    assert "local.invokers" in cfg.locals["invoker_bindings"]


def test_only_the_gateway_is_public() -> None:
    cfg = config()
    public = {name for name, entry in cfg.services.items() if entry["public"] is True}
    assert public == {"gateway"}
    assert "gateway" not in cfg.invokers, "the gateway is invoked by allUsers, not by services"

    run = cfg.resource("google_cloud_run_v2_service", "service")
    assert _squash(run["ingress"]) == _squash(
        '${each.value.public ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"}'
    )

    everyone = cfg.resource("google_cloud_run_v2_service_iam_member", "public")
    assert everyone["member"] == "allUsers"
    assert everyone["role"] == "roles/run.invoker"
    assert _squash(everyone["for_each"]) == _squash(
        "${{for name, svc in local.services : name => svc if svc.public}}"
    )

    members = [
        body.get("member")
        for (rtype, _), body in cfg.resources.items()
        if rtype.endswith("_iam_member")
    ]
    assert members.count("allUsers") == 1
    assert "allAuthenticatedUsers" not in members


def test_callers_of_internal_services_egress_through_the_vpc() -> None:
    cfg = config()
    needs_vpc = _squash(cfg.locals["needs_vpc"])
    assert "svc.redis" in needs_vpc
    assert "length(local.calls[name])>0" in needs_vpc
    template = _first(cfg.resource("google_cloud_run_v2_service", "service")["template"])
    vpc = _first(template["dynamic"])["vpc_access"]
    assert "local.needs_vpc[each.key]" in vpc["for_each"]
    content = _first(vpc["content"])
    assert content["egress"] == "ALL_TRAFFIC"
    assert _first(content["network_interfaces"])["subnetwork"] == (
        "${google_compute_subnetwork.run.id}"
    )
    assert cfg.resource("google_compute_subnetwork", "run")["private_ip_google_access"] is True


# --------------------------------------------------------------------------- #
# Service accounts and roles
# --------------------------------------------------------------------------- #


def test_each_service_runs_as_its_own_service_account() -> None:
    cfg = config()
    sa = cfg.resource("google_service_account", "service")
    assert sa["for_each"] == "${toset(keys(local.services))}"
    assert sa["account_id"] == "agora-${each.key}"
    template = _first(cfg.resource("google_cloud_run_v2_service", "service")["template"])
    assert template["service_account"] == "${google_service_account.service[each.key].email}"


def test_service_account_ids_are_valid() -> None:
    cfg = config()
    ids = [f"agora-{name}" for name in cfg.services]
    ids += [
        cfg.resource("google_service_account", "agent_runtime")["account_id"],
        cfg.resource("google_service_account", "tasks_invoker")["account_id"],
        cfg.resource("google_service_account", "build")["account_id"],
    ]
    assert "agora-agent-runtime" in ids
    assert "agora-tasks-invoker" in ids
    assert len(ids) == len(set(ids))
    for account_id in ids:
        assert SA_ACCOUNT_ID.fullmatch(account_id), account_id


def test_project_roles_are_least_privilege() -> None:
    cfg = config()
    roles = {name: set(entry["roles"]) for name, entry in cfg.services.items()}
    assert roles["gateway"] == set()
    for name in SERVICES - {"gateway"}:
        assert FIRESTORE_ROLE in roles[name], name
    assert roles["analytics"] == {FIRESTORE_ROLE, "roles/bigquery.jobUser"}
    assert roles["executor"] == {FIRESTORE_ROLE, "roles/run.admin"}
    assert roles["auth"] == {FIRESTORE_ROLE, "roles/firebaseauth.admin"}
    for name in ("registry", "tool", "vetting"):
        assert roles[name] == {FIRESTORE_ROLE}, name

    primitive = {"roles/owner", "roles/editor", "roles/viewer"}
    all_roles = {body.get("role") for body in cfg.resources.values()}
    assert not (all_roles & primitive)

    grant = cfg.resource("google_project_iam_member", "service")
    assert grant["for_each"] == "${local.project_role_bindings}"
    assert grant["member"] == (
        "serviceAccount:${google_service_account.service[each.value.service].email}"
    )


def _member_of(service: str) -> str:
    return f'serviceAccount:${{google_service_account.service["{service}"].email}}'


def test_resource_scoped_grants() -> None:
    cfg = config()
    dataset = cfg.resource("google_bigquery_dataset_iam_member", "analytics_data_editor")
    assert (dataset["role"], dataset["member"]) == (
        "roles/bigquery.dataEditor",
        _member_of("analytics"),
    )

    kms = cfg.resource("google_kms_crypto_key_iam_member", "auth_encrypter_decrypter")
    assert kms["crypto_key_id"] == "${google_kms_crypto_key.api_keys.id}"
    assert (kms["role"], kms["member"]) == (
        "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        _member_of("auth"),
    )

    enqueue = cfg.resource("google_cloud_tasks_queue_iam_member", "vetting_enqueuer")
    assert (enqueue["role"], enqueue["member"]) == (
        "roles/cloudtasks.enqueuer",
        _member_of("vetting"),
    )

    acts_as = {
        (body["service_account_id"], body["member"])
        for body in cfg.resources_of("google_service_account_iam_member").values()
        if body["role"] == "roles/iam.serviceAccountUser"
    }
    assert acts_as == {
        ("${google_service_account.agent_runtime.name}", _member_of("executor")),
        ("${google_service_account.tasks_invoker.name}", _member_of("vetting")),
        ("${google_service_account.build.name}", _member_of("executor")),
    }


def test_auth_signs_custom_tokens_as_itself_only() -> None:
    grant = config().resource("google_service_account_iam_member", "auth_signs_custom_tokens")
    assert grant["service_account_id"] == '${google_service_account.service["auth"].name}'
    assert (grant["role"], grant["member"]) == (
        "roles/iam.serviceAccountTokenCreator",
        _member_of("auth"),
    )


def test_agent_runtime_account_has_no_roles() -> None:
    for (rtype, name), body in config().resources.items():
        member = body.get("member", "")
        assert "agent_runtime" not in member, f"{rtype}.{name} grants to the agent runtime"


def test_cloud_tasks_invoker_may_invoke_vetting_only() -> None:
    cfg = config()
    grants = [
        body
        for body in cfg.resources.values()
        if "google_service_account.tasks_invoker" in body.get("member", "")
    ]
    assert len(grants) == 1
    (grant,) = grants
    assert grant["role"] == "roles/run.invoker"
    assert grant["name"] == '${google_cloud_run_v2_service.service["vetting"].name}'


# --------------------------------------------------------------------------- #
# Builds of submitted packages (cloud_build.tf)
# --------------------------------------------------------------------------- #

BUILD = "serviceAccount:${google_service_account.build.email}"
TOOLS_REPO = "${google_artifact_registry_repository.tools.name}"


def test_tool_images_repository_keeps_recent_versions_under_immutable_tags() -> None:
    cfg = config()
    repo = cfg.resource("google_artifact_registry_repository", "tools")
    assert (repo["repository_id"], repo["format"]) == ("agora-tools", "DOCKER")
    assert repo["location"] == "${var.region}"
    # One tag is one package digest: the executor skips the build of a tag that exists.
    assert _first(repo["docker_config"])["immutable_tags"] is True
    assert repo["cleanup_policy_dry_run"] is False
    policies = {policy["action"]: policy for policy in repo["cleanup_policies"]}
    assert set(policies) == {"KEEP", "DELETE"}
    keep = _first(policies["KEEP"]["most_recent_versions"])
    assert keep["keep_count"] == "${var.tool_image_versions_kept}"
    assert cfg.resolve(keep["keep_count"]) >= 1
    delete = _first(policies["DELETE"]["condition"])
    assert delete["tag_state"] == "ANY"
    assert _squash(delete["older_than"]) == "${var.tool_image_min_age_days*86400}s"
    assert cfg.resolve("${var.tool_image_min_age_days}") >= 1
    # The services' own images stay in the other repository, out of the builder's reach.
    assert cfg.resource("google_artifact_registry_repository", "agora")["repository_id"] == "agora"


def test_the_build_account_pushes_to_the_tool_images_only() -> None:
    """A package's Dockerfile runs in its build, with the build account's credentials."""
    cfg = config()
    grants = {
        (rtype, body["role"], body.get("bucket") or body.get("repository") or body.get("project"))
        for (rtype, _), body in cfg.resources.items()
        if body.get("member") == BUILD
    }
    assert grants == {
        (
            "google_storage_bucket_iam_member",
            "roles/storage.objectViewer",
            "${google_storage_bucket.sources.name}",
        ),
        ("google_project_iam_member", "roles/logging.logWriter", "${var.project_id}"),
        (
            "google_artifact_registry_repository_iam_member",
            "roles/artifactregistry.writer",
            TOOLS_REPO,
        ),
    }
    # Nobody acts as it but the executor.
    actors = [
        body["member"]
        for body in cfg.resources_of("google_service_account_iam_member").values()
        if body["service_account_id"] == "${google_service_account.build.name}"
    ]
    assert actors == [_member_of("executor")]


def test_the_executor_starts_builds_as_the_build_account_only() -> None:
    cfg = config()
    role = cfg.resource("google_project_iam_custom_role", "build_starter")
    assert sorted(role["permissions"]) == [
        "cloudbuild.builds.create",
        "cloudbuild.builds.get",
        "cloudbuild.builds.update",  # cancel, past the deadline
    ]
    grant = cfg.resource("google_project_iam_member", "executor_starts_builds")
    assert grant["role"] == "${google_project_iam_custom_role.build_starter.name}"
    assert grant["member"] == _member_of("executor")
    acts_as = cfg.resource("google_service_account_iam_member", "executor_acts_as_build")
    assert acts_as["role"] == "roles/iam.serviceAccountUser"
    reads = cfg.resource(
        "google_artifact_registry_repository_iam_member", "executor_reads_tool_images"
    )
    assert (reads["repository"], reads["role"], reads["member"]) == (
        TOOLS_REPO,
        "roles/artifactregistry.reader",
        _member_of("executor"),
    )
    # No predefined Cloud Build role anywhere: the custom role is the whole grant.
    roles = {str(body.get("role")) for body in cfg.resources.values()}
    assert not {r for r in roles if r.startswith("roles/cloudbuild.")}
    apis = {api.removesuffix(".googleapis.com") for api in cfg.locals["apis"]}
    assert {"cloudbuild", "artifactregistry"} <= apis


def test_the_executor_and_the_tool_service_agree_on_the_tool_images() -> None:
    """The tool service names each package's image under the prefix the executor builds into
    (and refuses any other); the env the table hands them names settings they have."""
    from agora_executor.settings import ExecutorSettings
    from agora_tool.settings import ToolSettings

    cfg = config()
    executor = cfg.services["executor"]["env"]
    assert executor["BUILD_SERVICE_ACCOUNT"] == "${google_service_account.build.email}"
    assert executor["ARTIFACT_REPOSITORY"] == (
        "${google_artifact_registry_repository.tools.repository_id}"
    )
    assert executor["REGION"] == "${var.region}"
    tool = cfg.services["tool"]["env"]
    assert tool["IMAGE_REPOSITORY"] == "${local.tool_images_repository}"
    assert cfg.locals["tool_images_repository"] == (
        "${var.region}-docker.pkg.dev/${var.project_id}/"
        "${google_artifact_registry_repository.tools.repository_id}"
    )
    for env, settings in ((executor, ExecutorSettings), (tool, ToolSettings)):
        assert set(env) <= {name.upper() for name in settings.model_fields}, settings


# --------------------------------------------------------------------------- #
# Data stores, keys, queue
# --------------------------------------------------------------------------- #


def test_kms_key_is_protected_and_rotated() -> None:
    key = config().resource("google_kms_crypto_key", "api_keys")
    assert key["name"] == "api-keys"
    assert key["purpose"] == "ENCRYPT_DECRYPT"
    assert key["rotation_period"] == f"{90 * 24 * 3600}s"
    assert _first(key["lifecycle"])["prevent_destroy"] is True
    ring = config().resource("google_kms_key_ring", "agora")
    assert ring["name"] == "agora"


def test_the_signing_key_signs_for_registry_and_vetting_and_shows_the_gateway_its_public_half() -> (
    None
):
    cfg = config()
    key = cfg.resource("google_kms_crypto_key", "card_signing")
    assert key["purpose"] == "ASYMMETRIC_SIGN"
    assert _first(key["version_template"])["algorithm"] == "EC_SIGN_P256_SHA256"
    assert _first(key["lifecycle"])["prevent_destroy"] is True
    signers = cfg.resource("google_kms_crypto_key_iam_member", "card_signers")
    assert signers["role"] == "roles/cloudkms.signerVerifier"
    assert signers["for_each"] == '${toset(["registry", "vetting"])}'
    viewer = cfg.resource("google_kms_crypto_key_iam_member", "gateway_public_key_viewer")
    assert (viewer["role"], viewer["member"]) == (
        "roles/cloudkms.publicKeyViewer",
        _member_of("gateway"),
    )
    env = {name: svc["env"] for name, svc in cfg.services.items()}
    for name in ("registry", "vetting", "gateway"):
        assert env[name]["CARD_SIGNING_KMS_KEY_VERSION"] == "${local.card_signing_key_version}"
    assert env["registry"]["PUBLIC_API_URL"] == env["gateway"]["PUBLIC_URL"]


def test_data_stores() -> None:
    cfg = config()
    firestore = cfg.resource("google_firestore_database", "default")
    assert (firestore["name"], firestore["type"]) == ("(default)", "FIRESTORE_NATIVE")

    redis = cfg.resource("google_redis_instance", "cache")
    assert redis["tier"] == "BASIC"
    assert redis["memory_size_gb"] == 1
    assert redis["redis_version"].startswith("REDIS_7_")
    assert redis["authorized_network"] == "${google_compute_network.agora.id}"

    dataset = cfg.resource("google_bigquery_dataset", "analytics")
    assert dataset["dataset_id"] == "agora_analytics"

    queue = cfg.resource("google_cloud_tasks_queue", "scans")
    assert queue["name"] == "agora-scans"
    retry = _first(queue["retry_config"])
    assert retry["max_attempts"] >= 1


def test_sources_bucket_is_private_versioned_and_expires_old_versions() -> None:
    cfg = config()
    bucket = cfg.resource("google_storage_bucket", "sources")
    assert bucket["name"] == "${var.project_id}-agora-sources"  # bucket names are global
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert _first(bucket["versioning"])["enabled"] is True
    assert bucket["force_destroy"] is False
    rules = {
        _first(rule["action"])["type"]: _first(rule["condition"])
        for rule in bucket["lifecycle_rule"]
    }
    assert rules["Delete"] == {"days_since_noncurrent_time": "${var.sources_noncurrent_days}"}
    assert cfg.resolve(rules["Delete"]["days_since_noncurrent_time"]) >= 1
    assert "AbortIncompleteMultipartUpload" in rules
    # Tool and vetting are told its name; nobody else needs it.
    holders = {name for name, entry in cfg.services.items() if "SOURCE_BUCKET" in entry["env"]}
    assert holders == {"tool", "vetting"}
    for name in holders:
        assert cfg.services[name]["env"]["SOURCE_BUCKET"] == "${google_storage_bucket.sources.name}"


def test_sources_bucket_grants_tool_create_and_readers_read_only() -> None:
    cfg = config()
    build = "serviceAccount:${google_service_account.build.email}"
    grants = {
        (body["role"], body["member"])
        for body in cfg.resources_of("google_storage_bucket_iam_member").values()
        if body["bucket"] == "${google_storage_bucket.sources.name}"
    }
    assert grants == {
        ("roles/storage.objectCreator", _member_of("tool")),  # creates; cannot overwrite, delete
        ("roles/storage.objectViewer", _member_of("tool")),  # reads hashes for same-bytes no-ops
        ("roles/storage.objectViewer", _member_of("vetting")),
        ("roles/storage.objectViewer", build),
    }
    assert not cfg.resources_of("google_storage_bucket_iam_binding")
    assert not cfg.resources_of("google_storage_bucket_acl")
    # The build account: its logs and image pushes to the tool images, nothing broader.
    build_roles = {
        (rtype, body["role"])
        for (rtype, _), body in cfg.resources.items()
        if body.get("member") == build
    }
    assert build_roles == {
        ("google_storage_bucket_iam_member", "roles/storage.objectViewer"),
        ("google_project_iam_member", "roles/logging.logWriter"),
        ("google_artifact_registry_repository_iam_member", "roles/artifactregistry.writer"),
    }
    push = cfg.resource("google_artifact_registry_repository_iam_member", "build_pushes_images")
    assert push["repository"] == "${google_artifact_registry_repository.tools.name}"


def test_required_apis_are_enabled() -> None:
    cfg = config()
    apis = {api.removesuffix(".googleapis.com") for api in cfg.locals["apis"]}
    assert {
        "run",
        "firestore",
        "firebase",
        "cloudtasks",
        "bigquery",
        "cloudkms",
        "redis",
        "artifactregistry",
        "iam",
        "compute",
        "storage",
        "cloudbuild",
    } <= apis
    assert cfg.resource("google_project_service", "enabled")["for_each"] == "${toset(local.apis)}"


# --------------------------------------------------------------------------- #
# Variables, outputs, examples, formatting
# --------------------------------------------------------------------------- #


def test_variables() -> None:
    variables = config().variables
    assert "default" not in variables["project_id"], "project_id must be required"
    assert variables["region"]["default"] == "us-central1"
    for name in ("image_tag", "image_registry", "gateway_min_instances", "gateway_max_instances"):
        assert name in variables, name


def test_outputs() -> None:
    cfg = config()
    assert {"gateway_url", "service_urls", "service_account_emails"} <= set(cfg.outputs)
    assert (
        cfg.outputs["gateway_url"]["value"]
        == '${google_cloud_run_v2_service.service["gateway"].uri}'
    )
    for name, body in cfg.outputs.items():
        assert body.get("description"), f"output {name} has no description"


def test_tfvars_example_covers_required_variables() -> None:
    example = TF_DIR / "terraform.tfvars.example"
    values = hcl2.loads(example.read_text(), serialization_options=_OPTIONS)
    cfg = config()
    required = {name for name, body in cfg.variables.items() if "default" not in body}
    assert required <= set(values)
    assert set(values) <= set(cfg.variables), "example sets unknown variables"


def test_readme_exists() -> None:
    readme = (TF_DIR / "README.md").read_text()
    assert "terraform apply" in readme
    assert "Firebase" in readme


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform binary not on PATH")
def test_terraform_fmt() -> None:
    terraform = shutil.which("terraform")
    assert terraform is not None
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-no-color", str(TF_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"not terraform-fmt clean:\n{result.stdout}{result.stderr}"


def test_the_events_table_mirrors_the_schema_in_code() -> None:
    """terraform's copy of the analytics table is the code's schema, field for field."""
    from agora_analytics.bigquery import CLUSTERING_FIELDS, PARTITION_FIELD, SCHEMA

    mirrored = json.loads((TF_DIR / "bigquery_events_schema.json").read_text())
    in_code = [field.to_api_repr() for field in SCHEMA]
    for field in in_code:
        field.setdefault("mode", "NULLABLE")
    assert mirrored == in_code
    tf = (TF_DIR / "data_stores.tf").read_text()
    assert f'field = "{PARTITION_FIELD}"' in tf
    assert f"clustering = {json.dumps(list(CLUSTERING_FIELDS))}" in tf

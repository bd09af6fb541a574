"""MlWorkspace: the JupyterHub release's values (login, profiles, culling, storage, pod security,
network policy, workload identity), the checks against the team's quota and the chart's schema,
and the client secret kept secret."""

from __future__ import annotations

import json

import pulumi
import pytest

import platform_lib.k8s.ml_workspace as ml_workspace
from platform_lib.core.errors import ComponentArgsError
from platform_lib.k8s.helm import CHARTS, chart_schema
from platform_lib.k8s.ml_workspace import MAX_USER_STORAGE_GIB, MlWorkspace, jupyterhub_bytes
from platform_lib.preview import PreviewError
from platform_lib.testing import find, preview

LABELS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
SECRET = "oidc-client-s3cr3t"
OIDC = {
    "client_id": "jupyterhub-fraud",
    "client_secret": SECRET,
    "authorize_url": "https://login.example.com/oauth2/v1/authorize",
    "token_url": "https://login.example.com/oauth2/v1/token",
    "userdata_url": "https://login.example.com/oauth2/v1/userinfo",
}
QUOTA = {"cpu": 16, "memory_gib": 64, "gpu": 2, "storage_gib": 200}
CPU = {"slug": "cpu-medium", "display_name": "Medium", "cpu": 2, "memory_gib": 8}
GPU = {"slug": "gpu-1", "cpu": 4, "memory_gib": 32, "gpu": 1, "node_selector": {"platform.example.com/pool": "gpu"}}


def _args(**overrides) -> dict:
    return {"namespace": "fraud", "labels": LABELS, "identity_group": "ml-fraud-engineers", "quota": QUOTA, "oidc": OIDC,
            "hostname": "fraud.notebooks.example.com", **overrides}


def _release(**overrides):
    plan = preview(lambda: MlWorkspace("fraud-notebooks", **_args(**overrides)))
    return plan, find(plan, "kubernetes:helm.sh/v3:Release", "fraud-notebooks-hub")


def _values(**overrides) -> dict:
    return _release(**overrides)[1].inputs["values"]


def _error(**overrides) -> tuple[ComponentArgsError, list[str]]:
    with pytest.raises(PreviewError) as caught:
        preview(lambda: MlWorkspace("fraud-notebooks", **_args(**overrides)))
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    return error, [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"]


def test_the_release_is_the_pinned_jupyterhub_chart_in_the_team_namespace():
    _, release = _release()
    chart = CHARTS["jupyterhub"]
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["repositoryOpts"]["repo"]) == ("jupyterhub", "4.4.0", "https://hub.jupyter.org/helm-chart/")
    assert chart.version == "4.4.0" and chart.schema == "jupyterhub-4.4.0.values.schema.json"
    assert (release.inputs["namespace"], release.inputs["name"], release.inputs["createNamespace"]) == ("fraud", "jupyterhub", False)
    assert release.inputs["atomic"] is True


def test_only_the_team_identity_group_may_log_in_through_oidc():
    hub = _values()["hub"]["config"]
    assert hub["JupyterHub"] == {"authenticator_class": "generic-oauth", "admin_access": False, "authenticate_prometheus": False}
    oauth = hub["GenericOAuthenticator"]
    assert oauth["allowed_groups"] == ["ml-fraud-engineers"]
    assert oauth["admin_groups"] == []
    assert (oauth["manage_groups"], oauth["auth_state_groups_key"]) == (True, "oauth_user.groups")
    assert oauth["oauth_callback_url"] == "https://fraud.notebooks.example.com/hub/oauth_callback"
    assert (oauth["client_id"], oauth["authorize_url"], oauth["token_url"], oauth["userdata_url"]) == (
        "jupyterhub-fraud", OIDC["authorize_url"], OIDC["token_url"], OIDC["userdata_url"])
    assert oauth["scope"] == ["openid", "profile", "email", "groups"]


def test_an_admin_group_and_another_groups_claim_are_passed_through():
    oauth = _values(oidc={**OIDC, "admin_group": "ml-platform-admins", "groups_claim": "roles"})["hub"]["config"]["GenericOAuthenticator"]
    assert (oauth["admin_groups"], oauth["auth_state_groups_key"]) == (["ml-platform-admins"], "oauth_user.roles")


def test_the_client_secret_is_secret_in_the_plan_and_never_printed():
    plan, release = _release()
    assert "values.hub.config.GenericOAuthenticator.client_secret" in release.secret_inputs
    assert SECRET not in json.dumps(plan.to_json())
    assert SECRET not in repr(MlWorkspace.validate_args("x", **_args()).oidc)


def test_profiles_fit_the_quota_and_gpu_profiles_request_gpus_on_gpu_nodes():
    profiles = _values(profiles=[CPU, {**GPU, "default": True}])["singleuser"]["profileList"]
    cpu, gpu = profiles
    assert (cpu["slug"], cpu["display_name"], cpu["default"]) == ("cpu-medium", "Medium", False)
    assert cpu["kubespawner_override"] == {"cpu_guarantee": 2, "cpu_limit": 4, "mem_guarantee": "8G", "mem_limit": "8G"}
    assert gpu["default"] is True
    assert gpu["kubespawner_override"]["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["kubespawner_override"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert gpu["kubespawner_override"]["node_selector"] == {"platform.example.com/pool": "gpu"}
    assert "extra_resource_limits" not in cpu["kubespawner_override"]


def test_the_default_profile_sets_the_servers_default_resources():
    singleuser = _values(profiles=[CPU])["singleuser"]
    assert singleuser["cpu"] == {"guarantee": 2, "limit": 4}
    assert singleuser["memory"] == {"guarantee": "8G", "limit": "8G"}


def test_a_gpu_profile_without_gpus_in_the_quota_is_refused_and_nothing_registers():
    error, registered = _error(quota={**QUOTA, "gpu": 0}, profiles=[CPU, GPU])
    assert [str(issue) for issue in error.issues] == [
        "MlWorkspace(fraud-notebooks).profiles[1].gpu: got 1; expected 0: the team's quota has no GPUs (quota.gpu is 0), so a GPU profile could never start"]
    assert registered == []


def test_profiles_above_the_quota_are_refused_at_their_field():
    error, registered = _error(profiles=[{**GPU, "gpu": 4}, {"slug": "huge", "cpu": 12, "memory_gib": 8}, {"slug": "fat", "cpu": 1, "memory_gib": 8, "memory_limit_gib": 96}])
    assert [str(issue) for issue in error.issues] == [
        "MlWorkspace(fraud-notebooks).profiles[0].gpu: got 4; expected at most the team quota's gpu (2 GPUs)",
        "MlWorkspace(fraud-notebooks).profiles[1].cpu: got 12.0; expected a CPU limit (24 vCPU) at most the team quota's cpu (16 vCPU)",
        "MlWorkspace(fraud-notebooks).profiles[2].memory_limit_gib: got 96.0; expected a memory limit (96 GiB) at most the team quota's memory_gib (64 GiB)",
    ]
    assert registered == []


def test_idle_servers_are_culled():
    assert _values()["cull"] == {"enabled": True, "users": False, "timeout": 3600, "every": 600}
    assert _values(idle_timeout_seconds=900)["cull"] == {"enabled": True, "users": False, "timeout": 900, "every": 150}
    error, _ = _error(idle_timeout_seconds=60)
    assert [str(issue) for issue in error.issues] == ["MlWorkspace(fraud-notebooks).idle_timeout_seconds: got 60; expected a number at least 300 seconds"]


def test_each_user_gets_a_bounded_dynamic_volume():
    storage = _values(user_storage_gib=50, storage_class="gp3")["singleuser"]["storage"]
    assert storage == {"type": "dynamic", "capacity": "50Gi", "dynamic": {"storageClass": "gp3", "storageAccessModes": ["ReadWriteOnce"]}}
    error, _ = _error(user_storage_gib=MAX_USER_STORAGE_GIB + 1)
    assert [str(issue) for issue in error.issues] == [f"MlWorkspace(fraud-notebooks).user_storage_gib: got {MAX_USER_STORAGE_GIB + 1}; expected a number at most {MAX_USER_STORAGE_GIB} GiB"]
    error, _ = _error(user_storage_gib=300)
    assert [str(issue) for issue in error.issues] == ["MlWorkspace(fraud-notebooks).user_storage_gib: got 300; expected at most the team quota's storage_gib (200 GiB)"]


def test_notebook_pods_meet_the_restricted_pod_security_standard():
    values = _values()
    singleuser, spawner = values["singleuser"], values["hub"]["config"]["KubeSpawner"]
    assert (singleuser["uid"], singleuser["fsGid"], singleuser["allowPrivilegeEscalation"]) == (1000, 100, False)
    assert spawner["pod_security_context"] == {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 100, "seccompProfile": {"type": "RuntimeDefault"}}
    assert spawner["container_security_context"] == {"runAsNonRoot": True, "runAsUser": 1000, "allowPrivilegeEscalation": False,
                                                      "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    assert spawner["automount_service_account_token"] is False
    # The chart's metadata-blocking init container is privileged: off, the NetworkPolicy blocks it instead.
    assert singleuser["cloudMetadata"]["blockWithIptables"] is False
    error, _ = _error(uid=0)
    assert [str(issue) for issue in error.issues] == ["MlWorkspace(fraud-notebooks).uid: got 0; expected a number at least 1000"]


def test_network_policies_are_on_and_notebooks_reach_no_metadata_server_nor_the_internet_by_default():
    values = _values()
    policy = values["singleuser"]["networkPolicy"]
    assert policy["enabled"] is True and values["hub"]["networkPolicy"]["enabled"] is True and values["proxy"]["chp"]["networkPolicy"]["enabled"] is True
    rules = policy["egressAllowRules"]
    assert (rules["cloudMetadataServer"], rules["privateIPs"], rules["nonPrivateIPs"]) == (False, False, False)
    assert values["hub"]["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] is False
    opened = _values(egress_https_cidrs=["10.20.0.0/16"], allow_internet_egress=True)["singleuser"]["networkPolicy"]
    assert opened["egress"] == [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 443}]}]
    assert opened["egressAllowRules"]["nonPrivateIPs"] is True


def test_notebooks_run_as_the_team_workload_identity_with_the_team_labels():
    def program():
        service_account = pulumi.Output.from_input("fraud-workload")
        MlWorkspace("fraud-notebooks", **_args(namespace=pulumi.Output.from_input("fraud"), service_account_name=service_account))

    release = find(preview(program), "kubernetes:helm.sh/v3:Release")
    assert release.inputs["namespace"] == "fraud"
    singleuser = release.inputs["values"]["singleuser"]
    assert singleuser["serviceAccountName"] == "fraud-workload"
    assert singleuser["extraLabels"] == {**LABELS, "managed-by": "pulumi", "hub.jupyter.org/network-access-hub": "true"}


def test_nothing_cluster_wide_and_no_load_balancer():
    values = _values()
    assert values["scheduling"] == {"userScheduler": {"enabled": False}, "userPlaceholder": {"enabled": False}}
    assert values["prePuller"] == {"hook": {"enabled": False}, "continuous": {"enabled": False}}
    assert values["proxy"]["service"] == {"type": "ClusterIP"}
    assert values["ingress"] == {"enabled": False}


def test_an_ingress_for_the_hostname_when_a_class_is_given():
    ingress = _values(ingress_class_name="alb")["ingress"]
    assert ingress == {"enabled": True, "ingressClassName": "alb", "hosts": ["fraud.notebooks.example.com"],
                       "tls": [{"hosts": ["fraud.notebooks.example.com"], "secretName": "jupyterhub-tls"}]}


def test_sections_the_component_sets_whole_have_the_keys_the_schema_requires():
    """validate_chart_values leaves ``required`` to Helm (the chart's defaults fill it); where the
    values replace a required key's object (cull, singleuser.cloudMetadata), they must set it."""
    from jsonschema import Draft7Validator

    schema = chart_schema(CHARTS["jupyterhub"])
    values = ml_workspace.workspace_values(MlWorkspace.validate_args("x", **_args(profiles=[CPU, GPU])), "jupyterhub", client_secret="[secret]")
    errors = [e.message for e in Draft7Validator(schema["properties"]["cull"]).iter_errors(values["cull"])]
    errors += [e.message for e in Draft7Validator(schema["properties"]["singleuser"]["properties"]["cloudMetadata"]).iter_errors(values["singleuser"]["cloudMetadata"])]
    assert errors == []


def test_values_the_chart_schema_refuses_fail_at_construction(monkeypatch):
    real = ml_workspace.workspace_values

    def with_a_typo(args, release_name, **kwargs):
        values = real(args, release_name, **kwargs)
        values["cull"]["timout"] = 60
        values["singleuser"]["storage"]["type"] = "ephemeral"
        return values

    monkeypatch.setattr(ml_workspace, "workspace_values", with_a_typo)
    error, registered = _error()
    messages = [str(issue) for issue in error.issues]
    assert messages[0].startswith("MlWorkspace(fraud-notebooks).helm_values.cull.timout: got 60; expected no such key: the chart allows no other keys here; did you mean timeout?")
    assert messages[1].startswith("MlWorkspace(fraud-notebooks).helm_values.singleuser.storage.type: got 'ephemeral'; expected one of")
    assert all("(values.schema.json of jupyterhub 4.4.0)" in message for message in messages)
    assert registered == []


@pytest.mark.parametrize(("gib", "expected"), [(4, "4G"), (0.5, "512M"), (1.25, "1280M")])
def test_memory_sizes_use_jupyterhubs_binary_units(gib, expected):
    assert jupyterhub_bytes(gib) == expected


def test_bad_login_settings_are_refused():
    error, registered = _error(oidc={**OIDC, "token_url": "http://login.example.com/token"}, identity_group="system:authenticated", hostname="Not A Host")
    paths = [issue.path for issue in error.issues]
    assert paths == ["MlWorkspace(fraud-notebooks).identity_group", "MlWorkspace(fraud-notebooks).oidc.token_url", "MlWorkspace(fraud-notebooks).hostname"]
    assert registered == []


def test_the_client_secret_can_come_from_a_kubernetes_secret_instead():
    oidc = {key: value for key, value in OIDC.items() if key != "client_secret"}
    hub = _values(oidc={**oidc, "client_secret_ref": {"name": "jupyterhub-oidc", "key": "client-secret"}})["hub"]
    assert "client_secret" not in hub["config"]["GenericOAuthenticator"]
    assert hub["extraEnv"] == {"OAUTH_CLIENT_SECRET": {"valueFrom": {"secretKeyRef": {"name": "jupyterhub-oidc", "key": "client-secret"}}}}
    error, registered = _error(oidc=oidc)
    assert [str(issue) for issue in error.issues] == ["MlWorkspace(fraud-notebooks).oidc.client_secret: got 'neither'; expected exactly one of client_secret and client_secret_ref"]
    assert registered == []


def test_on_gke_notebooks_reach_only_the_gke_metadata_server_ports():
    policy = _values(workload_identity="gke")["singleuser"]["networkPolicy"]
    assert policy["egress"] == [
        {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"protocol": "TCP", "port": 80}]},
        {"to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}], "ports": [{"protocol": "TCP", "port": 988}]},
    ]
    assert policy["egressAllowRules"]["cloudMetadataServer"] is False  # not every port of it


def test_a_profile_node_selector_must_be_kubernetes_labels():
    error, registered = _error(profiles=[{**CPU, "node_selector": {"pool": "GPU nodes!"}}])
    assert [str(issue) for issue in error.issues] == [
        "MlWorkspace(fraud-notebooks).profiles[0].node_selector: got {'pool': 'GPU nodes!'}; expected node labels (Kubernetes label keys and values; bad: pool=GPU nodes!)"]
    assert registered == []

"""Secrets stay secret in everything the preview prints or writes (issue 10), and ``secure:`` config
values are decrypted as the Pulumi CLI's passphrase provider does, or named as unavailable offline."""

from __future__ import annotations

import base64
import json
import os
import stat
import textwrap

import pytest
import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from typer.testing import CliRunner

from platform_lib.cli import EXIT_USER_ERROR, app
from platform_lib.preview import ProjectError, load_stack, run_preview
from platform_lib.preview.plan import mask, property_path
from platform_lib.preview.render_k8s import MARKER_FILE

runner = CliRunner()

#: The secret of the program below; long enough to be recognised inside any text.
PASSWORD = "hunter2-correct-horse"

SECRET_PROGRAM = f"""
import pulumi
import pulumi_kubernetes as k8s

cfg = pulumi.Config()
password = pulumi.Output.secret({PASSWORD!r})
k8s.core.v1.Secret("db", metadata={{"name": "db", "namespace": "team"}}, string_data={{"password": password}},
                   data={{"plain": "cGxhaW4="}})
k8s.apps.v1.Deployment("app", metadata={{"name": "app", "namespace": "team"}}, spec={{
    "selector": {{"matchLabels": {{"app": "app"}}}},
    "template": {{"metadata": {{"labels": {{"app": "app"}}}}, "spec": {{"containers": [{{
        "name": "app", "image": "nginx",
        "env": [{{"name": "DB_URL", "value": password.apply(lambda p: "postgres://app:" + p + "@db")}},
                {{"name": "MODE", "value": "serve"}}],
    }}]}}}},
}})
pulumi.export("password", password)
pulumi.export("nested", {{"token": cfg.require_secret("token"), "plain": "visible"}})
pulumi.export("leaked", "token=" + cfg.require("token"))
"""

#: A pack whose policy builds its message from the secret value, as a careless policy would.
LEAKY_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def check(args, report_violation):
    if args.resource_type == "kubernetes:core/v1:Secret":
        report_violation("the password " + args.props["stringData"]["password"] + " is too weak")

PolicyPack(name="leaky", enforcement_level=EnforcementLevel.MANDATORY, policies=[
    ResourceValidationPolicy(name="weak-password", description="Passwords are strong.", validate=check)])
"""


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200", "NO_COLOR": "1", **(env or {})})


@pytest.fixture
def secret_project(make_project, tmp_path):
    project = make_project(SECRET_PROGRAM, {"dev": {"token": {"secure": "v1:AAAA:BBBB"}}})
    # "token" cannot be decrypted (no encryptionsalt): the program gets the placeholder.
    pack = tmp_path / "leaky-pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (pack / "__main__.py").write_text(LEAKY_PACK)
    return project, pack


def _all_files(directory):
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_a_secret_never_appears_in_the_console_json_reports_or_manifests(secret_project, tmp_path):
    project, pack = secret_project
    out = tmp_path / "out"
    out.mkdir()  # an output file's directory must exist
    files = {"--json": out / "plan.json", "--sarif": out / "report.sarif", "--markdown": out / "summary.md"}
    render = out / "k8s"
    arguments = [a for option, path in files.items() for a in (option, str(path))]
    result = invoke("preview", "--cwd", str(project), "--policy-pack", str(pack), *arguments, "--render-k8s", str(render))
    assert result.exit_code == 3, result.output  # the leaky policy is mandatory
    assert PASSWORD not in result.output
    assert "the password [secret] is too weak" in result.output, result.output[-3000:]
    written = [*files.values(), *_all_files(render)]
    assert len(written) == 6  # three reports, two manifests and the renderer's marker file
    assert render / MARKER_FILE in written
    for path in written:
        assert PASSWORD not in path.read_text(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(render.stat().st_mode) == 0o700 and stat.S_IMODE((render / "team").stat().st_mode) == 0o700
    assert "the password [secret] is too weak" in files["--sarif"].read_text()
    assert "the password [secret] is too weak" in files["--markdown"].read_text()

    plan = json.loads(files["--json"].read_text())
    assert plan["secrets_shown"] is False
    assert plan["outputs"]["password"] == "[secret]" and plan["outputs"]["nested"] == {"token": "[secret]", "plain": "visible"}
    assert sorted(plan["secret_outputs"]) == ["nested.token", "password"]
    by_name = {r["name"]: r for r in plan["resources"]}
    assert by_name["db"]["inputs"]["stringData"] == "[secret]"  # the Kubernetes SDK marks it secret whole
    assert "stringData" in by_name["db"]["secret_inputs"]
    env = by_name["app"]["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "DB_URL", "value": "[secret]"}, {"name": "MODE", "value": "serve"}]
    assert by_name["app"]["secret_inputs"] == ["spec.template.spec.containers[0].env[0].value"]

    secret = yaml.safe_load((render / "team" / "secret-db.yaml").read_text())
    assert secret["stringData"] == {"password": "[secret]"} and secret["data"] == {"plain": "[secret]"}
    deployment = yaml.safe_load((render / "team" / "deployment-app.yaml").read_text())
    assert deployment["spec"]["template"]["spec"]["containers"][0]["env"][0] == {"name": "DB_URL", "value": "[secret]"}


def test_show_secrets_writes_them_in_clear(secret_project, tmp_path):
    project, _ = secret_project
    plan_file, render = tmp_path / "plan.json", tmp_path / "k8s"
    result = invoke("preview", "--cwd", str(project), "--no-policy", "--show-secrets", "--json", str(plan_file), "--render-k8s", str(render))
    assert result.exit_code == 0, result.output
    assert PASSWORD in result.output
    plan = json.loads(plan_file.read_text())
    assert plan["secrets_shown"] is True and plan["outputs"]["password"] == PASSWORD
    assert "password" in plan["secret_outputs"]  # still says which values were secret
    assert yaml.safe_load((render / "team" / "secret-db.yaml").read_text())["stringData"] == {"password": PASSWORD}


def test_the_policy_pack_still_judges_the_real_value(secret_project):
    from platform_lib.policy.gate import PolicyGate

    project, pack = secret_project
    plan, _ = run_preview(project, "dev")
    with PolicyGate(pack, project=plan.project, stack=plan.stack) as gate:
        violations = gate.analyze(plan)
    assert [v["message"] for v in violations] == [f"the password {PASSWORD} is too weak"]
    assert plan.masked_violations()[0]["message"] == "the password [secret] is too weak"


def test_a_secret_config_value_read_in_clear_is_masked_inside_other_text(make_project, tmp_path, monkeypatch):
    salt, secure = _encrypt_stack("s3cr3t-passphrase", {"token": "tok-0123456789"})
    project = make_project(SECRET_PROGRAM, {"dev": {"token": secure["token"]}})
    _add_salt(project / "Pulumi.dev.yaml", salt)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "s3cr3t-passphrase")
    plan, _ = run_preview(project, "dev")
    assert plan.outputs["leaked"] == "token=tok-0123456789"  # read with require(): not marked secret by the SDK
    assert plan.to_json()["outputs"]["leaked"] == "token=[secret]"
    assert plan.masked_outputs()["nested"]["token"] == "[secret]"


def test_property_paths_and_masking():
    assert property_path(["spec", "containers", 0, "env", 2, "value"]) == "spec.containers[0].env[2].value"
    assert property_path(["data", "tls.crt"]) == 'data["tls.crt"]'
    value = {"a": {"b": [1, {"c": "x"}]}, "d": "the key abcd-efgh here"}
    assert mask(value, ["a.b[1]"], {"abcd-efgh"}) == {"a": {"b": [1, "[secret]"]}, "d": "the key [secret] here"}


# ---------------------------------------------------------------- secure: config values

def _encrypt_stack(passphrase: str, values: dict[str, str]) -> tuple[str, dict[str, dict[str, str]]]:
    """Encrypt as the Pulumi CLI's passphrase provider does, written here from its description
    (PBKDF2-HMAC-SHA256, 1,000,000 iterations, 8-byte salt; AES-256-GCM, 12-byte nonce;
    ``v1:<b64 nonce>:<b64 ciphertext+tag>``; the state ``v1:<b64 salt>:<"pulumi" encrypted>``)."""
    salt = os.urandom(8)
    key = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=1_000_000).derive(passphrase.encode())

    def encrypt(text: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, text.encode(), None)
        return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"

    state = f"v1:{base64.b64encode(salt).decode()}:{encrypt('pulumi')}"
    return state, {name: {"secure": encrypt(text)} for name, text in values.items()}


def _add_salt(stack_file, salt: str) -> None:
    document = yaml.safe_load(stack_file.read_text())
    document["encryptionsalt"] = salt
    stack_file.write_text(yaml.safe_dump(document))


CONFIG_PROGRAM = """
import pulumi
cfg = pulumi.Config()
pulumi.export("token", cfg.require_secret("token"))
pulumi.export("database", cfg.require_secret_object("database"))
"""


@pytest.mark.parametrize("source", ["variable", "file"])
def test_secure_values_are_decrypted_with_the_passphrase_and_stay_secret(make_project, tmp_path, monkeypatch, source):
    salt, secure = _encrypt_stack("correct horse", {"token": "tok-abcdef", "password": "pw-123456"})
    # The nested form `pulumi config set --path --secret database.password` writes.
    project = make_project(CONFIG_PROGRAM, {"dev": {"token": secure["token"], "database": {"user": "app", "password": secure["password"]}}})
    _add_salt(project / "Pulumi.dev.yaml", salt)
    if source == "variable":
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "correct horse")
    else:
        phrase_file = tmp_path / "phrase"
        phrase_file.write_text("correct horse\n")
        monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(phrase_file))
    settings = load_stack(project, "dev")
    assert settings.config["team-project:token"] == "tok-abcdef"
    assert json.loads(settings.config["team-project:database"]) == {"user": "app", "password": "pw-123456"}
    assert sorted(settings.secret_keys) == ["team-project:database", "team-project:token"] and settings.notes == []

    plan, logs = run_preview(project, "dev")
    assert plan.outputs == {"token": "tok-abcdef", "database": {"user": "app", "password": "pw-123456"}}
    assert sorted(plan.secret_outputs) == ["database", "token"]
    shown = json.dumps(plan.to_json())
    assert "tok-abcdef" not in shown and "pw-123456" not in shown


def test_a_wrong_passphrase_is_a_user_error(make_project, monkeypatch):
    salt, secure = _encrypt_stack("right", {"token": "tok-abcdef"})
    project = make_project(CONFIG_PROGRAM, {"dev": {"token": secure["token"], "database": "{}"}})
    _add_salt(project / "Pulumi.dev.yaml", salt)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "wrong")
    with pytest.raises(ProjectError, match="incorrect passphrase"):
        load_stack(project, "dev")
    result = invoke("preview", "--cwd", str(project), "--no-policy", env={"PULUMI_CONFIG_PASSPHRASE": "wrong"})
    assert result.exit_code == EXIT_USER_ERROR and "incorrect passphrase" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({}, "neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set"),
        ({"secretsprovider": "awskms://alias/pulumi?region=us-east-1", "encryptedkey": "AQID"}, "secrets provider awskms://"),
        ({"no-salt": True}, "has no encryptionsalt"),
    ],
    ids=["no-passphrase", "kms-provider", "service-provider"],
)
def test_without_a_way_to_decrypt_the_program_gets_a_placeholder_and_a_note(make_project, monkeypatch, document, reason):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    salt, secure = _encrypt_stack("right", {"token": "tok-abcdef"})
    project = make_project(CONFIG_PROGRAM, {"dev": {"token": secure["token"], "database": {"password": secure["token"]}}})
    stack_file = project / "Pulumi.dev.yaml"
    loaded = yaml.safe_load(stack_file.read_text())
    loaded.update({"encryptionsalt": salt} if not document else {k: v for k, v in document.items() if k != "no-salt"})
    stack_file.write_text(yaml.safe_dump(loaded))
    settings = load_stack(project, "dev")
    assert settings.config["team-project:token"] == "[secret]"
    assert json.loads(settings.config["team-project:database"]) == {"password": "[secret]"}
    assert len(settings.notes) == 2 and all(reason in note for note in settings.notes)
    assert any(note.startswith("config key 'team-project:token' is a secure value the offline preview cannot decrypt") for note in settings.notes)

    result = invoke("preview", "--cwd", str(project), "--no-policy")
    assert result.exit_code == 0, result.output
    assert "warning: config key 'team-project:token' is a secure value" in result.output


def test_an_undecryptable_platform_key_is_a_clear_config_error(repo_root, make_project, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    config = yaml.safe_load((repo_root / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    config["mlplat:teams"] = {"secure": "v1:AAAA:BBBB"}
    project = make_project((repo_root / "stacks" / "__main__.py").read_text(), {"dev": config}, name="ml-platform")
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "mlplat:teams: got '[secret]'; expected a value the offline preview can read; this secure: value was not decrypted" in result.output
    assert "valid YAML/JSON" not in result.output


def test_decrypted_values_are_masked_in_error_messages(repo_root, make_project, monkeypatch):
    salt, secure = _encrypt_stack("phrase", {"environment": "qa-environment-secret"})
    config = yaml.safe_load((repo_root / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    config["mlplat:environment"] = secure["environment"]
    project = make_project((repo_root / "stacks" / "__main__.py").read_text(), {"dev": config}, name="ml-platform")
    _add_salt(project / "Pulumi.dev.yaml", salt)
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy", env={"PULUMI_CONFIG_PASSPHRASE": "phrase"})
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "mlplat:environment: got '[secret]'" in result.output
    assert "qa-environment-secret" not in result.output

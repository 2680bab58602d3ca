"""How a server starts, or refuses to: key variables, permissions, --print-config.

Driven in process through the CLI (`cli.main(service, argv=..., environ=...)` returns the exit code);
tests/servers/test_stdio.py runs each console script once for real.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from servicekit import a_service, services_where
from unizo_mcp_core import cli
from unizo_mcp_core.errors import ExitCode
from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE, server_name
from unizo_mcp_core.spec import ServiceSpec
from unizo_testkit import preserved_logging

SERVICES = services_where()


def _sandbox_env(sandbox: Any) -> dict[str, str]:
    """The sandbox's base URL, CA and environment, without its key."""
    return {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_API_KEY"}


def _run(spec: ServiceSpec | None, argv: list[str], env: dict[str, str], capsys: Any) -> tuple[int, str, str]:
    with preserved_logging(["unizo_mcp"]):
        code = cli.main(spec, argv=argv, environ=env)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_server_reads_only_its_own_key_variable(sandbox: Any, capsys: Any) -> None:
    spec = a_service()
    other = next(s for s in SERVICES if s.name != spec.name) if len(SERVICES) > 1 else None
    variable = other.key_variable if other else "UNIZO_SOMETHING_ELSE_API_KEY"
    before = len(sandbox.requests())
    code, out, err = _run(spec, [], {**_sandbox_env(sandbox), variable: sandbox.keys["full"]}, capsys)
    assert code == ExitCode.CONFIG != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and spec.key_variable in lines[0], err
    assert variable not in err
    assert out == ""
    assert len(sandbox.requests()) == before, "a server without its key must not call the API"


def test_service_key_variable_wins_over_the_generic_one(sandbox: Any, capsys: Any) -> None:
    spec = a_service()
    env = {**_sandbox_env(sandbox), spec.key_variable: sandbox.keys["full"], "UNIZO_API_KEY": "not-a-key"}
    code, out, err = _run(spec, ["--test-auth"], env, capsys)
    assert code == 0, out + err
    assert f"from {spec.key_variable}" in out


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_key_without_permission_refuses_to_start_like_test_auth(
    spec: ServiceSpec, sandbox: Any, new_key: Any, capsys: Any
) -> None:
    others = [s.name for s in SERVICES if s.name != spec.name] or ["platform"]
    key = await new_key({others[0]: ["read"]}, name=f"no-{spec.name}")
    env = {**_sandbox_env(sandbox), spec.key_variable: key}
    # cli.main runs its own event loop: run it in a worker thread, as a console script would
    code, out, err = await asyncio.to_thread(_run, spec, [], env, capsys)
    auth_code, auth_out, _ = await asyncio.to_thread(_run, spec, ["--test-auth"], env, capsys)
    assert code == auth_code == ExitCode.FORBIDDEN, (err, auth_out)
    assert out == ""
    (result,) = [line for line in auth_out.splitlines() if line.startswith("Result: FAILED: ")]
    message = result.removeprefix("Result: FAILED: ")
    assert f"{spec.package}: {message}" in err.splitlines(), (err, message)
    assert spec.name in message and spec.key_variable in message
    assert key not in err + auth_out


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_print_config_shows_the_entry_without_the_key(spec: ServiceSpec, sandbox: Any, capsys: Any) -> None:
    key = sandbox.keys["full"]
    code, out, err = _run(spec, ["--print-config"], {**_sandbox_env(sandbox), spec.key_variable: key}, capsys)
    assert code == 0, err
    entry = json.loads(out)["mcpServers"][server_name(spec)]
    assert entry["command"] == cli.command_path(spec.package)  # absolute: desktop apps have a short PATH
    assert entry["command"].endswith(f"/{spec.package}")
    assert "absolute path" in err
    assert entry["env"]["UNIZO_API_KEY"] == f"${{{spec.key_variable}}}"
    assert entry["env"]["UNIZO_BASE_URL"] == sandbox.base_url.rstrip("/")
    assert key not in out + err
    assert "chmod 600" in err


def test_print_config_can_name_the_command_alone(sandbox: Any, capsys: Any) -> None:
    spec = a_service()
    env = {**_sandbox_env(sandbox), spec.key_variable: sandbox.keys["full"]}
    code, out, _ = _run(spec, ["--print-config", "--bare-command"], env, capsys)
    assert code == 0 and json.loads(out)["mcpServers"][server_name(spec)]["command"] == spec.package


def test_all_in_one_entry_cannot_shadow_a_real_key(sandbox: Any, capsys: Any) -> None:
    """No `"UNIZO_API_KEY": "${UNIZO_API_KEY}"`: in a client that passes its environment but expands
    nothing, that literal would stand in for the real key."""
    code, out, err = _run(None, ["--print-config"], sandbox.env("full"), capsys)
    assert code == 0, err
    entry = json.loads(out)["mcpServers"]["unizo"]
    assert not any(name.endswith("_API_KEY") for name in entry["env"])
    assert "UNIZO_API_KEY" in err and sandbox.keys["full"] not in out + err


def test_all_in_one_refuses_an_unknown_service(sandbox: Any, capsys: Any) -> None:
    wanted = f"{SERVICES[0].name},nope"
    code, out, err = _run(None, ["--services", wanted], sandbox.env("full"), capsys)
    assert code == ExitCode.CONFIG and out == ""
    assert "nope" in err and "installed: " in err
    assert all(spec.name in err.split("installed: ")[1] for spec in SERVICES), err
    assert err.startswith(f"{ALL_IN_ONE_PACKAGE}: error: ")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        (
            "HTTPS_PROXY",
            "socks5://proxy.corp:1080",
            "Invalid HTTPS_PROXY: socks5:// proxies are not supported",
        ),
        ("HTTPS_PROXY", "http://u:Br4cket-Pw@[proxy.corp:3128", "Invalid HTTPS_PROXY: not a URL"),
        ("UNIZO_CA_BUNDLE", "not a certificate\n", "Invalid UNIZO_CA_BUNDLE: expected a PEM file"),
    ],
    ids=["socks-proxy", "malformed-proxy", "ca-bundle-not-pem"],
)
@pytest.mark.parametrize("argv", [[], ["--test-auth"]], ids=["serve", "test-auth"])
async def test_a_setting_no_request_can_be_sent_with_stops_the_start(
    argv: list[str],
    variable: str,
    value: str,
    says: str,
    sandbox: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    """A configuration error, exit code 2, before any request: not "the key could not be checked now,
    retry later", and never a server started with every call bound to fail."""
    spec = a_service()
    env = {**_sandbox_env(sandbox), spec.key_variable: sandbox.keys["full"]}
    if variable == "UNIZO_CA_BUNDLE":
        (tmp_path / "ca.pem").write_text(value)
        env[variable] = str(tmp_path / "ca.pem")
    else:
        monkeypatch.setenv(variable, value)  # the client reads the proxy variables from the process
    before = len(sandbox.requests())
    code, out, err = await asyncio.to_thread(_run, spec, argv, env, capsys)
    assert code == ExitCode.CONFIG, out + err
    assert says in out + err, out + err
    assert "checked now" not in out + err and "retry later" not in out + err, out + err
    assert "Br4cket-Pw" not in out + err
    assert len(sandbox.requests()) == before, "a request was sent"

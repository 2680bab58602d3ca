"""Config hygiene: `--print-config` never contains a key; docs and config writers insist on mode 600."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from .support import (
    ALL_IN_ONE,
    SERVERS,
    SERVICES,
    SINGLE_SERVERS,
    assert_no_leaks,
    base_env,
    script,
    secret_values,
)

ROOT = Path(__file__).resolve().parents[2]
MODE_600 = re.compile(r"chmod 600|mode 600|\b0o?600\b")


async def print_config(server: str, env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        script(server),
        "--print-config",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(cwd),
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


@pytest.mark.slow
async def test_print_config_never_contains_a_key(sandbox: Any, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(sandbox.keys["readonly"] + "\n")
    key_file.chmod(0o600)
    proxy_password = "proxy-pw-never-shown-42"
    everything = {
        **sandbox.env("full"),
        "UNIZO_API_KEY": sandbox.keys["full"],
        "HTTPS_PROXY": f"http://user:{proxy_password}@127.0.0.1:3128",
        "UNIZO_READ_ONLY": "true",
        "UNIZO_RETRY_ATTEMPTS": "5",
    }
    for spec in SERVICES:  # service-specific keys too
        everything[spec.key_variable] = sandbox.keys["development"]
    variants = {
        "literal keys": (everything, ()),
        "key file": ({**everything, "UNIZO_API_KEY_FILE": str(key_file)}, ()),
        "key file flag": (everything, ("--api-key-file", str(key_file))),
        "no key at all": ({k: v for k, v in everything.items() if not k.endswith("_API_KEY")}, ()),
    }
    runs = []
    for label, (env, args) in variants.items():
        # every server with literal keys; the key-file and no-key paths are shared code: two servers
        for server in SERVERS if label == "literal keys" else (SINGLE_SERVERS[0], ALL_IN_ONE):
            runs.append((label, server, print_config(server, base_env(tmp_path, env), tmp_path, *args)))
    results = await asyncio.gather(*(coroutine for _label, _server, coroutine in runs))
    outputs: dict[str, str] = {}
    for (label, server, _), (code, out, err) in zip(runs, results, strict=True):
        assert code == 0, f"{server} ({label}): exit {code}: {err}"
        entry = json.loads(out)["mcpServers"]
        (name,) = entry
        env = entry[name]["env"]
        for variable, value in env.items():
            if variable.endswith("_API_KEY"):
                assert re.fullmatch(r"\$\{UNIZO_[A-Z_]*API_KEY\}", value), f"{server}: {variable}={value!r}"
        assert MODE_600.search(err), f"{server} ({label}): --print-config does not tell to chmod 600: {err!r}"
        outputs[f"{server} ({label}) stdout"] = out
        outputs[f"{server} ({label}) stderr"] = err
    secrets = secret_values(sandbox.keys.values(), [("user", proxy_password)])
    assert_no_leaks(outputs, secrets)


def test_print_config_in_process_never_contains_a_key(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from unizo_mcp_core.cli import main

    spec = SERVICES[0]
    env = {**sandbox.env("full"), spec.key_variable: sandbox.keys["development"]}
    assert main(spec, argv=["--print-config"], environ=env) == 0
    assert main(None, argv=["--print-config"], environ=env) == 0
    captured = capsys.readouterr()
    assert_no_leaks({"stdout": captured.out, "stderr": captured.err}, secret_values(sandbox.keys.values()))
    assert "[REDACTED]" not in captured.out + captured.err  # nothing secret in these settings


def test_print_config_says_a_redis_password_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """The entry is copied into a client's config: a password shown as [REDACTED] must be said to be one."""
    from unizo_mcp_core.cli import main

    password = "redis-pw-never-shown-17"
    env = {"UNIZO_RATE_LIMIT_BACKEND": f"redis://:{password}@redis.internal:6379/0"}
    assert main(SERVICES[0], argv=["--print-config"], environ=env) == 0
    captured = capsys.readouterr()
    backend = json.loads(captured.out)["mcpServers"]
    (entry,) = backend.values()
    assert entry["env"]["UNIZO_RATE_LIMIT_BACKEND"] == "redis://:[REDACTED]@redis.internal:6379/0"
    assert "UNIZO_RATE_LIMIT_BACKEND's) is shown as [REDACTED]" in captured.err, captured.err
    assert password not in captured.out + captured.err


def readmes() -> list[Path]:
    """The READMEs that show an mcpServers entry (the package README of every server does)."""
    found = [ROOT / "README.md", *sorted((ROOT / "packages").glob("*/README.md"))]
    return [path for path in found if "mcpServers" in path.read_text(encoding="utf-8")]


@pytest.mark.parametrize("readme", readmes(), ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_tell_users_to_keep_client_config_private(readme: Path) -> None:
    """Every README that shows an mcpServers entry tells users to keep that file at mode 600."""
    text = readme.read_text(encoding="utf-8")
    assert MODE_600.search(text), f"{readme} shows an mcpServers entry but never says chmod 600"


def test_demo_config_writer_uses_mode_600(tmp_path: Path) -> None:
    """The demo writes a real mcpServers file: owner-only, even over an existing world-readable file."""
    path = ROOT / "demo" / "run_demo.py"
    spec = importlib.util.spec_from_file_location("unizo_demo_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    target = tmp_path / "mcp.json"
    target.write_text("{}")
    target.chmod(0o644)
    old_umask = os.umask(0)
    try:
        module.write_private(target, json.dumps({"mcpServers": {}}))
        fresh = tmp_path / "sub" / "fresh.json"
        module.write_private(fresh, "{}")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600

"""Fixtures of the `unizo` tests: the command run in process (`unizo`), its environment against the sandbox
(`admin_env`), plain HTTPS calls to the sandbox from synchronous tests (`call_api`), a temporary HOME."""

from __future__ import annotations

import io
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_testkit import Result
from unizo_cli.app import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME, also the working directory (no project file of the repository is found)."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def admin_env(sandbox: Any, home: Path) -> dict[str, str]:
    """The sandbox's URL, CA and environment, and the full key as UNIZO_ADMIN_API_KEY; nothing else."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env.update(sandbox.env("full"))
    env["UNIZO_ADMIN_API_KEY"] = env.pop("UNIZO_API_KEY")
    return env


@pytest.fixture
def unizo(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`unizo("api-keys", "list", env=...)` -> Result(code, out, err), run in this process."""

    def run(*argv: str, env: Mapping[str, str], stdin: io.StringIO | None = None) -> Result:
        monkeypatch.setattr(sys, "stdin", stdin if stdin is not None else io.StringIO(""))
        capsys.readouterr()
        code = main(list(argv), environ=dict(env))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def call_api(sandbox: Any) -> Callable[..., tuple[int, Any]]:
    """`call_api("GET", "/api/v1/...", key=..., body=None, integration=None)` -> (status, JSON body)."""
    context = ssl.create_default_context(cafile=str(sandbox.ca_file))

    def call(
        method: str,
        path: str,
        *,
        key: str | None = None,
        body: Any = None,
        integration: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"apikey": key or sandbox.keys["full"], "Content-Type": "application/json"}
        if integration:
            headers["integrationId"] = integration
        data = json.dumps(body).encode() if body is not None else None
        url = sandbox.base_url + path
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    return call


@pytest.fixture
def new_key_record(call_api: Callable[..., tuple[int, Any]]) -> Callable[..., dict[str, Any]]:
    """`new_key_record({"<service>": ["read"]}, name=..., ipAllowlist=[...])`: the new record, with "key"."""

    def create(
        permissions: Mapping[str, list[str]], name: str = "MCP-20260101", **extra: Any
    ) -> dict[str, Any]:
        status, body = call_api(
            "POST", "/api/v1/apiKeys", body={"name": name, "permissions": dict(permissions), **extra}
        )
        assert status == 201, body
        return dict(body)

    return create

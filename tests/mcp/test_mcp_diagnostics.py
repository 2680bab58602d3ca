"""`--test-auth` and `--verify-connection` through the CLI in process, against the sandbox (and a real proxy).

What these paths import is checked in a real interpreter by test_mcp_cli_fast.py.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from mcp_helpers import closed_port, other_service, run_main, sandbox_env
from servicekit import a_service
from unizo_mcp_core.diagnostics import Report
from unizo_mcp_core.errors import ConnectError
from unizo_mcp_core.keys import fingerprint
from unizo_mcp_core.spec import ServiceSpec
from unizo_testkit import Proxy

Capsys = pytest.CaptureFixture[str]

LABELS = [
    "settings",
    "DNS",
    "TCP connect",
    "TLS handshake",
    "health",
    "key",
    "permission",
    "read",
    "rate limit",
    "latency",
]
LINE = re.compile(r"^(✓|✗|!|-) ([A-Za-z ]+): (.*)$")


def checklist(stdout: str) -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines():
        match = LINE.match(line)
        assert match, f"not a checklist line: {line!r}"
        rows[match.group(2)] = (match.group(1), match.group(3))
    return rows


# --- --test-auth ---------------------------------------------------------------------------------


def other_service_key(sandbox: Any, new_key: Callable[..., Any], served: ServiceSpec) -> str:
    """A new key with every permission on another service but none on `served`."""
    other = other_service(served)
    return str(asyncio.run(new_key({other.name: ["read", "write", "delete"]})))


def test_test_auth_healthy(sandbox: Any, capsys: Capsys) -> None:
    spec = a_service()
    key = sandbox.keys["full"]
    result = run_main(capsys, spec, ["--test-auth"], sandbox_env(sandbox))
    assert result.code == 0, result
    out = result.stdout
    assert f"key           {fingerprint(key)} from UNIZO_API_KEY" in out
    assert "name          demo-full" in out
    assert "environment   production" in out
    assert re.search(r"expires       2036-01-01T00:00:00Z \(in \d+ days\)", out)
    assert "organization  Acme Security (org-" in out
    assert f"permissions   {spec.name}: read, write, delete" in out
    assert out.endswith(f"Result: OK: the key is valid and can use {spec.name}.\n")
    assert key not in out and key not in result.stderr


@pytest.mark.parametrize(
    ("role", "extra", "code", "words"),
    [
        ("revoked", {}, 3, "AP-4010005"),
        ("full", {"UNIZO_API_KEY": "uz_prod_0123abcd_" + "A" * 32}, 3, "AP-4010003"),
        ("development", {}, 3, "development"),
        ("ip_restricted", {}, 4, "AP-4030003"),
        ("full", {"UNIZO_BASE_URL": "https://127.0.0.1:{closed}"}, 5, "could not connect"),
    ],
)
def test_test_auth_failures(
    sandbox: Any, capsys: Capsys, role: str, extra: dict[str, str], code: int, words: str
) -> None:
    extra = {k: v.format(closed=closed_port()) for k, v in extra.items()}
    result = run_main(capsys, a_service(), ["--test-auth"], sandbox_env(sandbox, role, **extra))
    assert result.code == code, result
    last = result.stdout.splitlines()[-1]
    assert last.startswith("Result: FAILED: ") and words in last
    assert sandbox.keys[role] not in result.stdout + result.stderr


def test_test_auth_without_permission_on_the_service(sandbox: Any, new_key: Any, capsys: Capsys) -> None:
    spec = a_service()
    key = other_service_key(sandbox, new_key, spec)
    result = run_main(capsys, spec, ["--test-auth"], sandbox_env(sandbox, UNIZO_API_KEY=key))
    assert result.code == 4, result
    last = result.stdout.splitlines()[-1]
    assert last.startswith("Result: FAILED: ") and f"has no permission on the {spec.name} service" in last
    assert key not in result.stdout + result.stderr


def test_startup_refusal_says_what_test_auth_says(sandbox: Any, new_key: Any, capsys: Capsys) -> None:
    spec = a_service()
    env = sandbox_env(sandbox, UNIZO_API_KEY=other_service_key(sandbox, new_key, spec))
    check = run_main(capsys, spec, ["--test-auth"], env)
    serve = run_main(capsys, spec, [], env)
    assert check.code == serve.code == 4
    message = check.stdout.splitlines()[-1].removeprefix("Result: FAILED: ")
    assert serve.stderr_lines[-1] == f"{spec.package}: {message}"
    assert serve.stdout == ""


# --- --verify-connection ---------------------------------------------------------------------------


def test_verify_connection_healthy(sandbox: Any, capsys: Capsys) -> None:
    spec = a_service()
    result = run_main(capsys, spec, ["--verify-connection"], sandbox_env(sandbox))
    assert result.code == 0, result
    rows = checklist(result.stdout)
    assert list(rows) == LABELS
    assert all(mark == "✓" for mark, _ in rows.values()), result.stdout
    assert (
        "CN=unizo-sandbox" in rows["TLS handshake"][1]
        and "issued by O=Unizo Sandbox" in rows["TLS handshake"][1]
    )
    assert str(sandbox.ca_file) in rows["TLS handshake"][1]
    assert re.search(r"\d+ of 100 requests left this minute", rows["rate limit"][1])
    integrations = sandbox.integrations(spec.name)
    connectors = sorted({i["serviceProfile"]["name"] for i in integrations})
    counts = ", ".join(
        f"{c}: {sum(1 for i in integrations if i['serviceProfile']['name'] == c)}" for c in connectors
    )
    assert rows["read"][1] == f"{spec.name}: {len(integrations)} integration(s) ({counts})"
    assert rows["permission"][1] == f"{spec.name}: read, write, delete"
    assert sandbox.keys["full"] not in result.stdout


@pytest.mark.parametrize(
    ("case", "role", "extra", "code", "failed", "remedy"),
    [
        ("no key", "full", {"UNIZO_API_KEY": ""}, 2, "settings", "--help lists every setting"),
        ("bad key", "expired", {}, 3, "key", "generate a new key"),
        (
            "no permission",
            "full",
            {"UNIZO_API_KEY": "{other_key}"},
            4,
            "permission",
            "grant the key {service}:read",
        ),
        ("TLS", "full", {"UNIZO_CA_BUNDLE": ""}, 5, "TLS handshake", "set UNIZO_CA_BUNDLE"),
        (
            "closed port",
            "full",
            {"UNIZO_BASE_URL": "https://127.0.0.1:{closed}"},
            5,
            "TCP connect",
            "check UNIZO_BASE_URL",
        ),
        ("DNS", "full", {"UNIZO_BASE_URL": "https://no-such-host.invalid"}, 5, "DNS", "did not resolve"),
    ],
)
def test_verify_connection_failures(
    sandbox: Any,
    new_key: Any,
    capsys: Capsys,
    case: str,
    role: str,
    extra: dict[str, str],
    code: int,
    failed: str,
    remedy: str,
) -> None:
    spec = a_service()
    values = {"closed": closed_port(), "service": spec.name}
    if "{other_key}" in str(extra):
        values["other_key"] = other_service_key(sandbox, new_key, spec)
    extra = {k: v.format(**values) for k, v in extra.items()}
    result = run_main(capsys, spec, ["--verify-connection"], sandbox_env(sandbox, role, **extra))
    assert result.code == code, result
    rows = checklist(result.stdout)
    assert [label for label, (mark, _) in rows.items() if mark == "✗"] == [failed], result.stdout
    detail = rows[failed][1]
    assert " Remedy: " in detail and remedy.format(**values) in detail
    before = LABELS[: LABELS.index(failed)]
    assert all(rows[label][0] == "✓" for label in before)
    if failed in ("DNS", "TCP connect", "TLS handshake"):
        assert all(rows[label][0] == "-" for label in LABELS[LABELS.index(failed) + 1 :])


# --- through a real proxy (proxy.py) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(start_proxy: Callable[[str, str], Proxy]) -> int:
    return start_proxy("agent", "pr0xy-s3cret").port


def test_verify_connection_through_proxy(
    sandbox: Any, proxy: int, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = a_service()
    monkeypatch.setenv("HTTPS_PROXY", f"http://agent:pr0xy-s3cret@127.0.0.1:{proxy}")  # read from os.environ
    result = run_main(capsys, spec, ["--verify-connection"], sandbox_env(sandbox))
    assert result.code == 0, result
    rows = checklist(result.stdout)
    assert all(mark == "✓" for mark, _ in rows.values()), result.stdout
    assert rows["TCP connect"][1].startswith(f"connected through the proxy http://127.0.0.1:{proxy} ")
    assert "pr0xy-s3cret" not in result.stdout + result.stderr
    auth = run_main(capsys, spec, ["--test-auth"], sandbox_env(sandbox))
    assert auth.code == 0 and "pr0xy-s3cret" not in auth.stdout + auth.stderr


def test_proxy_refusing_the_tunnel(
    sandbox: Any, proxy: int, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://agent:wrong@127.0.0.1:{proxy}")
    result = run_main(capsys, a_service(), ["--verify-connection"], sandbox_env(sandbox))
    assert result.code == 5, result
    rows = checklist(result.stdout)
    assert rows["TCP connect"][0] == "✓"
    mark, detail = rows["TLS handshake"]
    assert (
        mark == "✗" and f"The proxy http://127.0.0.1:{proxy} refused the tunnel" in detail and "407" in detail
    )
    assert "check HTTPS_PROXY/HTTP_PROXY, its credentials" in detail
    assert "wrong" not in detail


# --- pure helpers ----------------------------------------------------------------------------------


def test_report_falls_back_to_ascii_marks() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    report = Report(out)
    report.ok("DNS", "fine")
    report.fail("TCP connect", ConnectError("Cannot connect to h:1"))
    out.flush()
    assert raw.getvalue().decode().splitlines() == [
        "[ok] DNS: fine",
        "[fail] TCP connect: Cannot connect to h:1. Remedy: " + ConnectError.default_hint,
    ]
    assert report.exit_code == 5

"""Key verification against both sandbox profiles: the full one (with the emulator's own
/v1/auth/verify) and the documented one (only what Unizo documents: no verify endpoint, gateway-style
401/403 bodies). Every row of the verification decision must come out the same way on both, because a
real Unizo answers like the documented profile.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp_helpers import enabled_services, other_service, run_main, sandbox_env
from servicekit import a_service
from unizo_mcp_core.errors import ExitCode

SPEC = a_service()


def role_for(case: str) -> str:
    # a key with every right on another service only: the real read of SPEC's category is refused
    return f"{other_service(SPEC).name}_only" if case == "other service only" else case


CASES = [
    # (key, --test-auth exit code, words its last line holds)
    ("full", ExitCode.OK, "Result: OK"),
    ("readonly", ExitCode.OK, "Result: OK"),
    ("revoked", ExitCode.AUTH, "Result: FAILED"),
    ("expired", ExitCode.AUTH, "Result: FAILED"),
    ("other service only", ExitCode.FORBIDDEN, "Result: FAILED"),
]


@pytest.mark.parametrize(("case", "code", "words"), CASES, ids=[c[0] for c in CASES])
def test_test_auth_decides_alike_on_both_profiles(
    any_sandbox: Any, capsys: pytest.CaptureFixture[str], case: str, code: int, words: str
) -> None:
    run = run_main(capsys, SPEC, ["--test-auth"], sandbox_env(any_sandbox, role_for(case)))
    assert run.code == code, run
    assert words in run.stdout.strip().splitlines()[-1], run.stdout
    assert any_sandbox.keys[role_for(case)] not in run.stdout + run.stderr


def test_documented_profile_decides_by_the_real_read(
    documented_sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without /v1/auth/verify the key is checked by reading SPEC's own integrations, and says so."""
    documented_sandbox.clear_requests()
    run = run_main(capsys, SPEC, ["--test-auth"], sandbox_env(documented_sandbox))
    assert run.code == ExitCode.OK, run
    paths = [r.path for r in documented_sandbox.requests()]
    assert "/api/v1/integrations/search" in paths, paths
    assert not any(r.status >= 500 for r in documented_sandbox.requests())


def test_a_disabled_service_is_refused_on_the_full_profile(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from servicekit import services_where

    enabled = enabled_services(sandbox, "service_disabled")
    lacking = [spec for spec in services_where() if spec.name not in enabled]
    assert lacking, "the second organization enables every installed service; the sandbox seeds one it lacks"
    run = run_main(capsys, lacking[0], ["--test-auth"], sandbox_env(sandbox, "service_disabled"))
    assert run.code == ExitCode.FORBIDDEN, run


@pytest.mark.parametrize("case", ["full", "revoked", "other service only"])
def test_server_start_decides_alike_on_both_profiles(
    any_sandbox: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """A server start refuses exactly the keys --test-auth refuses, and names the key variable it used."""
    from unizo_mcp_core import transport

    served: list[Any] = []

    async def instead_of_stdio(server: Any) -> None:
        served.append(server)

    monkeypatch.setattr(transport, "serve_stdio", instead_of_stdio)
    run = run_main(capsys, SPEC, [], sandbox_env(any_sandbox, role_for(case)))
    expected = {"full": ExitCode.OK, "revoked": ExitCode.AUTH, "other service only": ExitCode.FORBIDDEN}[case]
    assert run.code == expected, run
    assert bool(served) == (expected == ExitCode.OK)
    assert "from UNIZO_API_KEY" in run.stderr, run.stderr  # the variable the key came from


@pytest.mark.parametrize(("case", "code"), [("full", ExitCode.OK), ("revoked", ExitCode.AUTH)])
def test_verify_connection_decides_alike_on_both_profiles(
    any_sandbox: Any, capsys: pytest.CaptureFixture[str], case: str, code: int
) -> None:
    """A valid key passes every check on the documented API too (a missing health or verify endpoint is
    no failure); a refused key fails on both."""
    run = run_main(capsys, SPEC, ["--verify-connection"], sandbox_env(any_sandbox, case))
    assert run.code == code, run
    assert any_sandbox.keys[case] not in run.stdout + run.stderr

"""`unizo logs api-usage`: requests, errors by status, by service or by hour, with a per-hour sparkline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cli_testkit import Result
from servicekit import a_service, is_top_list, tools_where
from unizo_mcp_core.errors import ExitCode

SPEC = a_service(lambda spec: bool(tools_where(spec, is_top_list)))
LIST_PATH = "/api/v1" + tools_where(SPEC, is_top_list)[0].path


@pytest.fixture
def busy_key(
    call_api: Callable[..., tuple[int, Any]], new_key_record: Callable[..., dict[str, Any]], sandbox: Any
) -> dict[str, Any]:
    """A key that made four good reads, one 404 and one integrations search."""
    key = new_key_record({SPEC.name: ["read"]})
    integration = sandbox.integrations(SPEC.name)[0]["id"]
    for _ in range(4):
        assert call_api("GET", LIST_PATH, key=key["key"], integration=integration)[0] == 200
    assert call_api("GET", LIST_PATH + "/missing-4242", key=key["key"], integration=integration)[0] == 404
    assert call_api("POST", "/api/v1/integrations/search", key=key["key"], body={})[0] == 200
    return key


def test_the_default_view_counts_and_draws_the_hours(
    unizo: Callable[..., Result], admin_env: dict[str, str], busy_key: dict[str, Any]
) -> None:
    result = unizo("logs", "api-usage", "--key-id", busy_key["id"], "--since", "24h", env=admin_env)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"key {busy_key['id']}, last 24h (")
    assert lines[1] == "requests  6" and lines[2] == "errors    1 (16.7%)"
    spark = lines[3].split()[2]
    assert lines[3].startswith("per hour  ") and len(spark) == 25
    assert spark.count("█") == 1 and spark.count("▁") == 24 and "█" in spark[-2:]  # this hour (or the last)
    table = "\n".join(lines[5:])
    assert "status  requests  share" in table
    assert "200         5  83.3%" in table and "404         1  16.7%" in table


def test_by_service_hour_and_json(
    unizo: Callable[..., Result], admin_env: dict[str, str], busy_key: dict[str, Any]
) -> None:
    by_service = unizo("logs", "api-usage", "--key-id", busy_key["id"], "--by", "service", env=admin_env)
    assert by_service.code == 0
    assert any(line.split()[:3] == [SPEC.name, "5", "1"] for line in by_service.out.splitlines())
    assert any(line.split()[:3] == ["other", "1", "0"] for line in by_service.out.splitlines())
    by_hour = unizo(
        "logs", "api-usage", "--key-id", busy_key["id"], "--since", "3h", "--by", "hour", env=admin_env
    )
    assert by_hour.code == 0
    rows = [line for line in by_hour.out.splitlines() if line[:2] == "20"]
    busy = [row for row in rows if row.split()[2:4] == ["6", "1"]]
    assert len(rows) == 4 and len(busy) == 1 and "█" * 30 in busy[0] and busy[0] in rows[-2:]
    data = unizo(
        "logs", "api-usage", "--key-id", busy_key["id"], "--since", "7d", "--json", env=admin_env
    ).json
    assert (data["requests"], data["errors"], data["byStatus"]) == (6, 1, {"200": 5, "404": 1})
    assert len(data["byHour"]) == 169


@pytest.mark.parametrize(
    ("since", "says"), [("8d", "longer than the 7d allowed"), ("7x", "not a duration"), ("24", "no unit")]
)
def test_bad_windows_are_refused_locally(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, since: str, says: str
) -> None:
    result = unizo("logs", "api-usage", "--key-id", sandbox.key_id("full"), "--since", since, env=admin_env)
    assert result.code == ExitCode.CONFIG and says in result.err
    assert not [r for r in sandbox.requests() if "/usage" in r.path]


def test_an_unknown_key_is_the_apis_404(unizo: Callable[..., Result], admin_env: dict[str, str]) -> None:
    result = unizo("logs", "api-usage", "--key-id", "0badc0de", env=admin_env)
    assert result.code == ExitCode.API and "'0badc0de' was not found" in result.err

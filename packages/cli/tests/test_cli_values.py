"""The values `unizo` parses before sending anything: durations, expiry, permissions, IP ranges, alert
conditions, and the pure helpers (dated names, tables, sparklines, client file locations, JSONC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unizo_cli import api
from unizo_cli.clients import CLIENTS, guess_client, placeholder_variable, placeholders, strip_jsonc
from unizo_cli.conditions import Condition, ConditionError, parse_condition
from unizo_cli.output import render_table, sparkline
from unizo_cli.parsing import format_duration, parse_duration, parse_expiry, parse_networks, parse_permissions
from unizo_cli.rotate import dated_name, successor_expiry
from unizo_cli.usage_cmd import since_parameter
from unizo_mcp_core.errors import ConfigError, ExitCode

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("24h", 86_400), ("7d", 604_800), ("2w", 1_209_600), ("1.5h", 5400),
     ("10 minutes", 600), ("1 hour", 3600), ("day", 86_400)],
)  # fmt: skip
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text, what="--since") == seconds


@pytest.mark.parametrize(
    ("text", "says"),
    [("90", "has no unit"), ("3mo", "months"), ("soon", "not a duration"), ("0h", "longer than zero"),
     ("-1h", "not a duration"), ("8d", "longer than")],
)  # fmt: skip
def test_bad_durations(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        parse_duration(text, what="--since", maximum=7 * 86_400)
    assert raised.value.exit_code is ExitCode.CONFIG
    assert text in raised.value.message


def test_zero_is_a_duration_only_where_allowed_and_durations_print_back() -> None:
    assert parse_duration("0", what="--grace", allow_zero=True) == 0
    assert [format_duration(s) for s in (0, 59, 3600, 5400, 604_800)] == ["0s", "59s", "1h", "1h 30m", "7d"]


def test_expiry_from_a_duration_a_date_or_a_date_time() -> None:
    assert parse_expiry("90d", now=NOW) == NOW + timedelta(days=90)
    assert parse_expiry("2027-01-31", now=NOW) == datetime(2027, 1, 31, tzinfo=UTC)
    assert parse_expiry("2027-01-31T10:00:00+02:00", now=NOW) == datetime(2027, 1, 31, 8, tzinfo=UTC)
    for bad, says in (("2020-01-01", "in the past"), ("2027-13-01", "not a date"), ("6 months", "months")):
        with pytest.raises(ConfigError, match=says):
            parse_expiry(bad, now=NOW)


def test_permissions_from_repeated_and_combined_values() -> None:
    assert parse_permissions(["svc_a:read,write", "svc_b:read"]) == {
        "svc_a": ["read", "write"],
        "svc_b": ["read"],
    }
    assert parse_permissions(["svc_a:write,read,svc_b:read", "svc_a:delete"]) == {
        "svc_a": ["read", "write", "delete"],
        "svc_b": ["read"],
    }
    assert parse_permissions(["platform:*"]) == {"platform": ["read", "write", "delete"]}
    assert parse_permissions(["SVC_A:READ"]) == {"svc_a": ["read"]}


@pytest.mark.parametrize(
    ("values", "says"),
    [(["svc_a"], "name the service before its actions"), (["read,write"], "name the service"),
     (["svc_a:admin"], "unknown action 'admin'"), (["svc a:read"], "not a service name"),
     ([":read"], "not a service name"), (["svc_a:"], "no action for svc_a"), ([""], "is empty"),
     (["svc-a:read"], "not a service name")],
)  # fmt: skip
def test_bad_permissions_say_what_to_write(values: list[str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_permissions(values)


def test_ip_ranges() -> None:
    assert parse_networks(["203.0.113.7", "10.0.0.0/8,10.0.0.0/8", "2001:db8::/32"]) == [
        "203.0.113.7/32",
        "10.0.0.0/8",
        "2001:db8::/32",
    ]
    with pytest.raises(ConfigError, match="not an IP address"):
        parse_networks(["300.1.1.1"])


# --- alert conditions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api_requests > 1000/hour", Condition("api_requests", ">", 1000, 3600)),
        ("api_errors >= 50 per 10m", Condition("api_errors", ">=", 50, 600)),
        ("error_rate > 5% over 15 minutes", Condition("error_rate", ">", 5, 900)),
        ("rate_limited>0/1m", Condition("rate_limited", ">", 0, 60)),
        ("  API_REQUESTS = 2k / day ", Condition("api_requests", "==", 2000, 86_400)),
        ("forbidden != 0 in 1.5h", Condition("forbidden", "!=", 0, 5400)),
        ("server_errors <= 1,000 every 7 days", Condition("server_errors", "<=", 1000, 604_800)),
        ("api_requests < 1/h", Condition("api_requests", "<", 1, 3600)),
    ],
)
def test_conditions(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "says", "column"),
    [
        ("api_request > 1000/hour", "unknown metric 'api_request' (did you mean api_requests?)", 0),
        ("", "expected a metric", 0),
        ("> 1000/hour", "expected a metric", 0),
        ("api_requests 1000/hour", "expected a comparison", 13),
        ("api_requests => 1000/hour", "write >=, not =>", 13),
        ("api_requests > many/hour", "expected a threshold number after >, not 'many'", 15),
        ("api_requests > 5%/hour", "% applies to error_rate only", 16),
        ("api_requests > 2.5/hour", "must be a whole number", 15),
        ("error_rate > 101%/hour", "the threshold must be 0 to 100", 13),
        ("api_requests > 1000", "missing the window", 19),
        ("api_requests > 1000 hour", "expected the window after the threshold", 20),
        ("api_requests > 1000/fortnight", "unknown window unit 'fortnight'", 20),
        ("api_requests > 1000/hr!", "unexpected '!' after the window", 22),
        ("api_requests > 1000/30s", "whole number of minutes", 20),
        ("api_requests > 1000/90s", "whole number of minutes", 20),
        ("api_requests > 1000/8d", "at most 7d", 20),
        ("api_requests > 1000/", "expected a window unit", 20),
    ],
)
def test_bad_conditions_point_at_the_problem(text: str, says: str, column: int) -> None:
    with pytest.raises(ConditionError) as raised:
        parse_condition(text)
    error = raised.value
    assert says in error.reason, error.reason
    assert error.position == column, (error.position, error.message)
    assert error.exit_code is ExitCode.CONFIG
    lines = error.message.splitlines()
    assert lines[1] == f"    {text}" and lines[2] == "    " + " " * column + "^"


@given(
    metric=st.sampled_from(sorted(api.METRICS)),
    operator=st.sampled_from(api.OPERATORS),
    threshold=st.integers(0, 100),
    minutes=st.integers(1, 7 * 24 * 60),
)
def test_a_condition_prints_as_text_that_parses_back(
    metric: str, operator: str, threshold: int, minutes: int
) -> None:
    condition = Condition(metric, operator, threshold, minutes * 60)
    assert parse_condition(condition.text()) == condition


# --- helpers ------------------------------------------------------------------------------------------------


def test_successor_names_and_lifetimes() -> None:
    assert dated_name("MCP-20260101", NOW) == "MCP-20261130"
    assert dated_name("ci_20251231", NOW) == "ci_20261130"
    assert dated_name("laptop", NOW) == "laptop-20261130"
    assert len(dated_name("x" * 100, NOW)) == 100
    old = {"createdAt": "2026-01-01T00:00:00Z", "expiresAt": "2026-04-01T00:00:00Z"}
    assert successor_expiry(old, NOW) == NOW + timedelta(days=90)
    assert successor_expiry({"createdAt": "2026-01-01T00:00:00Z", "expiresAt": None}, NOW) is None


def test_since_parameter_table_and_sparkline() -> None:
    assert [since_parameter(s) for s in (604_800, 86_400, 5400, 90)] == ["7d", "1d", "90m", "90s"]
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0]) == "▁▁" and sparkline([3, 0], ascii_only=True) == "@_"
    table = render_table(("name", "count"), [("a", 5), ("bb", 1234), ("c", None)]).splitlines()
    assert table == ["name  count", "----  -----", "a         5", "bb    1,234", "c         -"]


def test_user_configuration_files_per_platform(tmp_path: Path) -> None:
    home = tmp_path
    env = {"APPDATA": str(tmp_path / "Roaming")}

    def where(client: str, platform: str) -> Path:
        return CLIENTS[client].user_config(home, env, platform)

    support = home / "Library" / "Application Support"
    assert where("claude-desktop", "darwin") == support / "Claude" / "claude_desktop_config.json"
    assert where("claude-desktop", "win32") == tmp_path / "Roaming" / "Claude" / "claude_desktop_config.json"
    assert where("claude-desktop", "linux") == home / ".config" / "Claude" / "claude_desktop_config.json"
    assert CLIENTS["claude-desktop"].user_config(home, {"XDG_CONFIG_HOME": "/x"}, "linux") == Path(
        "/x/Claude/claude_desktop_config.json"
    )
    assert where("vscode", "darwin") == support / "Code" / "User" / "mcp.json"
    assert where("vscode", "win32") == tmp_path / "Roaming" / "Code" / "User" / "mcp.json"
    assert where("vscode", "linux") == home / ".config" / "Code" / "User" / "mcp.json"
    for platform in ("darwin", "win32", "linux"):
        assert where("claude-code", platform) == home / ".claude.json"
        assert where("cursor", platform) == home / ".cursor" / "mcp.json"
        assert where("windsurf", platform) == home / ".codeium" / "windsurf" / "mcp_config.json"
    for client in CLIENTS.values():
        assert guess_client(client.user_config(home, env, "linux")) is client
    assert guess_client(home / "x.json", {"servers": {}}) is CLIENTS["vscode"]
    assert guess_client(home / "x.json", {"mcpServers": {}}) is None


def test_placeholders_are_told_apart_per_client() -> None:
    text = "${A} ${env:B} ${input:c} ${file:/k} ${userHome} $D ${E:-x}"
    kinds = [kind for _, kind in placeholders(text, CLIENTS["vscode"])]
    assert kinds == ["bare", "env", "input", "file", "predefined", "dollar", "bare"]
    assert [kind for _, kind in placeholders("${userHome}", CLIENTS["claude-code"])] == ["bare"]
    values = ("${A}", "${env:B}", "${C:-x}", "$D", "x${A}", "${input:k}")
    assert [placeholder_variable(v) for v in values] == ["A", "B", "C", "D", None, None]


def test_jsonc_comments_and_trailing_commas_are_stripped_outside_strings() -> None:
    text = '{\n  // a comment\n  "a": "http://x//y", /* block */ "b": [1, 2,],\n}'
    plain, changed = strip_jsonc(text)
    assert changed and plain.replace(" ", "").replace("\n", "") == '{"a":"http://x//y","b":[1,2]}'
    assert strip_jsonc('{"a": "/* not a comment */"}') == ('{"a": "/* not a comment */"}', False)


def test_lists_are_read_page_by_page() -> None:
    import asyncio
    from types import SimpleNamespace

    pages = {0: ([{"id": str(i)} for i in range(100)], 100), 100: ([{"id": "100"}], None)}
    asked: list[dict[str, Any]] = []

    class Client:
        async def request(self, method: str, path: str, *, params: dict[str, Any]) -> Any:
            asked.append({"method": method, "path": path, **params})
            data, following = pages[params["offset"]]
            return SimpleNamespace(data={"data": data, "pagination": {"next": following}})

    keys = asyncio.run(api.list_keys(Client()))  # type: ignore[arg-type]
    assert [k["id"] for k in keys] == [str(i) for i in range(101)]
    assert asked == [
        {"method": "GET", "path": "/apiKeys", "offset": 0, "limit": 100},
        {"method": "GET", "path": "/apiKeys", "offset": 100, "limit": 100},
    ]

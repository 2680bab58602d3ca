"""A server counts its own calls: alerts past UNIZO_ALERT_REQUESTS_PER_HOUR, a per-session budget past
UNIZO_MAX_CALLS_PER_SESSION (an assistant in a loop is the unusual activity an MCP user meets first)."""

from __future__ import annotations

from typing import Any

from mcp import Client
from unizo_mcp_core.monitor import HOUR, CallMonitor
from unizo_mcp_core.responses import KeyInfo
from unizo_mcp_core.server import prepare_server
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.spec import ServiceSpec, list_tool

KEY = "uz_prod_0123abcd_" + "M" * 32
LOOPS = ServiceSpec(
    "loops",
    "Loops",
    "Things.",
    (list_tool("loops_list_things", "List things.", "/loops/things"),),
    "unizo-mcp-loops",
    "0.0.1",
)


class QuietClient:
    async def verify_key(self, category: str | None = None) -> KeyInfo:
        return KeyInfo(valid=True)

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        class Answer:
            status, headers, correlation_id = 200, {}, None
            data = {"data": []}

        return Answer()

    async def close(self) -> None:
        pass


def test_the_hourly_alert_is_said_once_an_hour() -> None:
    now = [0.0]
    monitor = CallMonitor(per_hour=3, per_session=None, clock=lambda: now[0])
    alerts = [monitor.record("s").alert for _ in range(6)]
    assert alerts[:3] == [None] * 3 and alerts[3] and alerts[4:] == [None, None]
    assert "4 tool calls in the last hour" in str(alerts[3])
    now[0] += HOUR + 1
    assert [monitor.record("s").alert for _ in range(4)][3], "a new hour, a new alert"


def test_off_by_default() -> None:
    monitor = CallMonitor(per_hour=None, per_session=None)
    assert not monitor.enabled and monitor.record("s").refusal is None


async def test_the_session_budget_refuses_and_tells_the_client() -> None:
    notes: list[Any] = []

    async def on_log(params: Any) -> None:
        notes.append(params)

    env = {"UNIZO_API_KEY": KEY, "UNIZO_INTEGRATION_ID": "i", "UNIZO_MAX_CALLS_PER_SESSION": "2"}
    server = await prepare_server(load_settings(None, env), [LOOPS], client=QuietClient())  # type: ignore[arg-type]
    async with Client(server.mcp, mode="legacy", logging_callback=on_log) as client:
        results = [await client.call_tool("loops_list_things", {}) for _ in range(4)]
    assert [r.is_error for r in results] == [False, False, True, True]
    text = results[2].content[0].text
    assert "budget of 2 tool calls" in text and "UNIZO_MAX_CALLS_PER_SESSION" in text
    assert len(notes) == 1 and notes[0].level == "warning" and "budget of 2" in str(notes[0].data)
    again = await prepare_server(load_settings(None, env), [LOOPS], client=QuietClient())  # type: ignore[arg-type]
    async with Client(again.mcp, mode="legacy") as fresh:  # a new server process: a new session
        assert not (await fresh.call_tool("loops_list_things", {})).is_error


def test_sessions_are_counted_apart() -> None:
    monitor = CallMonitor(per_hour=None, per_session=1)
    assert monitor.record("a").refusal is None and monitor.record("b").refusal is None
    assert monitor.record("a").refusal is not None

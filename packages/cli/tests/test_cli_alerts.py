"""`unizo alerts create | list | describe | delete`: the condition grammar is parsed before anything is sent;
an alert fires against recorded usage and its webhook arrives signed."""

from __future__ import annotations

import http.server
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_testkit import Result, Terminal
from unizo_mcp_core.errors import ExitCode
from unizo_mcp_core.webhooks import verify_webhook

SECRET = "whsec_cli_alert_secret"  # noqa: S105


class Receiver:
    """A loopback HTTP endpoint that queues the deliveries it gets."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        received = self.deliveries

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/unizo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next(self, timeout: float = 10.0) -> tuple[dict[str, str], bytes]:
        return self.deliveries.get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def secret_file(home: Path) -> Path:
    path = home / "webhook.secret"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    return path


def test_an_alert_fires_a_signed_webhook(
    unizo: Callable[..., Result], admin_env: dict[str, str], call_api: Any, new_key_record: Any,
    receiver: Receiver, secret_file: Path,
) -> None:  # fmt: skip
    key = new_key_record({"platform": ["read"]})
    created = unizo(
        "alerts", "create", "--condition", "api_requests > 2/hour", "--key-id", key["id"],
        "--notify", f"webhook:{receiver.url}", "--webhook-secret-file", str(secret_file), "--json",
        env=admin_env,
    )  # fmt: skip
    assert created.code == 0, created.err
    alert = created.json
    assert alert["condition"] == {
        "metric": "api_requests",
        "operator": ">",
        "threshold": 2,
        "windowSeconds": 3600,
    }
    assert alert["keyId"] == key["id"] and alert["notify"] == [{"type": "webhook", "url": receiver.url}]
    assert SECRET not in created.text
    for _ in range(3):
        assert call_api("GET", "/api/v1/apiKeys?limit=1", key=key["key"])[0] == 200
    headers, body = receiver.next()
    verify_webhook(SECRET, body, headers)  # signed with our secret, fresh
    assert headers["x-unizo-event-type"] == "alert:fired"
    listed = unizo("alerts", "list", env=admin_env)
    row = next(line for line in listed.out.splitlines() if line.startswith(alert["id"]))
    assert "api_requests > 2/1h" in row and " firing " in row and receiver.url in row
    described = unizo("alerts", "describe", "--alert-id", alert["id"], env=admin_env)
    assert "state           firing" in described.out and "fired           1" in described.out


def test_a_generated_secret_is_shown_once(
    unizo: Callable[..., Result], admin_env: dict[str, str], call_api: Any, receiver: Receiver
) -> None:
    created = unizo(
        "alerts",
        "create",
        "--condition",
        "error_rate >= 50% per 10m",
        "--notify",
        f"webhook:{receiver.url}",
        env=admin_env,
    )
    assert created.code == 0, created.err
    [line] = [line for line in created.out.splitlines() if line.startswith("webhook secret for")]
    secret = line.rsplit(" ", 1)[1]
    assert secret.startswith("whsec_") and "shown this once" in created.err
    assert "every key of the organization" in created.out and "error_rate >= 50%/10m" in created.out
    listed = unizo("alerts", "list", "--json", env=admin_env).json
    assert secret not in str(listed) and listed[0]["name"] == "error_rate >= 50%/10m"


def test_delete_asks_first(unizo: Callable[..., Result], admin_env: dict[str, str]) -> None:
    alert = unizo(
        "alerts", "create", "--condition", "forbidden > 0/5m", "--name", "denied", "--json", env=admin_env
    ).json
    args = ("alerts", "delete", "--alert-id", alert["id"])
    assert unizo(*args, env=admin_env).code == ExitCode.CONFIG
    assert unizo(*args, env=admin_env, stdin=Terminal("no\n")).code == ExitCode.CONFIG
    assert unizo("alerts", "list", "--json", env=admin_env).json[0]["id"] == alert["id"]
    deleted = unizo(*args, "--yes", env=admin_env)
    assert deleted.code == 0 and f"deleted  {alert['id']} (denied)" in deleted.out
    assert unizo("alerts", "list", "--json", env=admin_env).json == []
    again = unizo(*args, "--yes", env=admin_env)
    assert again.code == ExitCode.API and "was not found" in again.err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--condition", "api_requests > 1000/hr"], None),  # valid: the control case
        (["--condition", "requests > 1000/hour"], "unknown metric 'requests'"),
        (["--condition", "api_requests > 1000"], "missing the window"),
        (["--condition", "api_requests >> 1000/hour"], "expected a threshold number"),
        (
            ["--condition", "api_requests > 1000/hour", "--notify", "email:ops@example.com"],
            "expected webhook:URL",
        ),
        (["--condition", "api_requests > 1000/hour", "--notify", "webhook:ftp://x"], "http(s) URL"),
        (["--condition", "api_requests > 1000/hour", "--key-id", "a/b"], "Refused --key-id"),
        (["--condition", "api_requests > 1000/hour", "--webhook-secret-file", "/nonexistent"], "cannot read"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, args: list[str], says: str | None
) -> None:
    result = unizo("alerts", "create", *args, env=admin_env)
    posts = [r for r in sandbox.requests() if r.method == "POST" and r.path == "/api/v1/alerts"]
    if says is None:
        assert result.code == 0 and len(posts) == 1
        return
    assert result.code == ExitCode.CONFIG, result.err
    assert says in result.err and posts == []


def test_the_api_checks_what_the_grammar_cannot(
    unizo: Callable[..., Result], admin_env: dict[str, str]
) -> None:
    unknown_key = unizo(
        "alerts", "create", "--condition", "api_requests > 1/hour", "--key-id", "0badc0de", env=admin_env
    )
    assert unknown_key.code == ExitCode.API and "keyId" in unknown_key.err
    remote = unizo(
        "alerts",
        "create",
        "--condition",
        "api_requests > 1/hour",
        "--notify",
        "webhook:https://example.com/h",
        env=admin_env,
    )
    assert remote.code == ExitCode.API and "loopback" in remote.err  # the sandbox delivers to loopback only

"""For tests that talk to the sandbox over real HTTPS: a small client returning status, headers and body,
and a loopback receiver for webhook deliveries. The pytest plugin serves them as `sandbox_client` and
`webhook_receiver`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
from aiohttp import web
from multidict import CIMultiDictProxy

if TYPE_CHECKING:
    from unizo_mcp_sandbox.handle import SandboxHandle

API = "/api/v1"


@attrs.frozen
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def error(self) -> dict[str, Any]:
        """The single Unizo error of a non-2xx answer."""
        errors = self.json["errors"]
        if len(errors) != 1:
            raise AssertionError(f"expected one error, got {errors}")
        return dict(errors[0])

    @property
    def message(self) -> str:
        """The gateway's `{"message": ...}` of a non-2xx answer (the documented profile's 401, 403 and
        unknown routes)."""
        body = self.json
        if set(body) != {"message"}:
            raise AssertionError(f"expected a gateway answer, got {body}")
        return str(body["message"])


class SandboxClient:
    """Calls with the key of a seeded role (`role=`) or any key (`key=`), and an `integrationId`."""

    def __init__(self, sandbox: SandboxHandle, session: aiohttp.ClientSession) -> None:
        self.sandbox = sandbox
        self.session = session

    def integration(self, service: str, connector: str | None = None, role: str = "full") -> str:
        """The id of the first integration of `service` (of `connector`, if given) visible to `role`."""
        candidates = self.sandbox.integrations(service, role)
        if connector is not None:
            candidates = [item for item in candidates if item["serviceProfile"]["name"] == connector]
        if not candidates:
            raise LookupError(f"no {service} integration {connector or ''} for role {role}")
        return str(candidates[0]["id"])

    async def call(
        self,
        method: str,
        path: str,
        *,
        role: str | None = "full",
        key: str | None = None,
        integration: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        sent: dict[str, str] = {}
        if key is not None:
            sent["apikey"] = key
        elif role is not None:
            sent["apikey"] = self.sandbox.keys[role]
        if integration is not None:
            sent["integrationId"] = integration
        sent.update(headers or {})
        async with self.session.request(
            method, self.sandbox.base_url + path, headers=sent, **kwargs
        ) as response:
            return Reply(response.status, response.headers, await response.text())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("DELETE", path, **kwargs)

    async def first(self, path: str, integration: str, **params: str) -> dict[str, Any]:
        """The first record of a list (the default order, unless `sort` is given)."""
        reply = await self.get(path, integration=integration, params={"limit": "1", **params})
        if reply.status != 200 or not reply.json["data"]:
            raise AssertionError(f"GET {path}: {reply.status} {reply.text[:300]}")
        return dict(reply.json["data"][0])


@asynccontextmanager
async def sandbox_client(
    sandbox: SandboxHandle, *, force_close: bool = False
) -> AsyncIterator[SandboxClient]:
    """A client trusting the sandbox's CA. `force_close`: never reuse a connection (aiohttp silently
    resends an idempotent request once when a reused connection drops)."""
    connector = aiohttp.TCPConnector(ssl=sandbox.ssl_context(), force_close=force_close)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield SandboxClient(sandbox, session)


@attrs.frozen
class Delivery:
    headers: Mapping[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class WebhookReceiver:
    """A plain-HTTP endpoint on loopback (`url` + any suffix) that records deliveries and can fail the
    first few with a 500."""

    def __init__(self) -> None:
        self.deliveries: asyncio.Queue[Delivery] = asyncio.Queue()
        self.failures_left = 0
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        await self.deliveries.put(Delivery(dict(request.headers), await request.read()))
        if self.failures_left:
            self.failures_left -= 1
            return web.Response(status=500)
        return web.Response(status=204)

    async def next(self, timeout: float = 10.0) -> Delivery:
        return await asyncio.wait_for(self.deliveries.get(), timeout)


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/hooks/{name:.*}", receiver._handle)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
        yield receiver
    finally:
        await runner.cleanup()

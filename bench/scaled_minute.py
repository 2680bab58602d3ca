"""Run a Unizo MCP server whose rate limiter counts a minute as BENCH_MINUTE_SECONDS real seconds.

    BENCH_MINUTE_SECONDS=5 python bench/scaled_minute.py unizo_mcp_edr [server flags]

Figure 4 scales the API's per-minute window down (the sandbox's `rate_window`) so that a run takes
seconds, not minutes; the server must count in the same minute, or it would pace itself for 60 s
windows. Only the time base of the core's limiter changes: `SystemClock.now()` and `.sleep()` run
60 / BENCH_MINUTE_SECONDS times faster, `time()` (the wall clock of the UTC day) is left alone. The
bucket, the reserve, the `X-RateLimit-*` adaptation and the concurrency cap are the shipped code. One
caveat: header values in seconds (`X-RateLimit-Reset-After`, `Retry-After`) are real seconds read as
scaled ones, so the adaptation corrects less than it would in a real minute; the pacing does not
depend on it when the configured limits match the API's.
"""

from __future__ import annotations

import asyncio
import os
import runpy
import sys
import time

from unizo_mcp_core import ratelimit

SPEEDUP = 60.0 / float(os.environ["BENCH_MINUTE_SECONDS"])


def _now(self: ratelimit.SystemClock) -> float:
    return time.monotonic() * SPEEDUP


async def _sleep(self: ratelimit.SystemClock, seconds: float) -> None:
    await asyncio.sleep(seconds / SPEEDUP)


# Patch the class itself: the client imported the name, so replacing the module attribute would not do.
ratelimit.SystemClock.now = _now  # type: ignore[method-assign]
ratelimit.SystemClock.sleep = _sleep  # type: ignore[method-assign]

if __name__ == "__main__":
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)

"""Publishing is not part of the request: after commit, doorbells go to this bounded in-process
publisher, whose worker rings the broker with retries and backoff.

A slow or absent broker then adds nothing to a webhook's or an API call's answer time. A
doorbell only says "order N has news up to seq S": the hub reads what is new from the database
and repairs gaps, so doorbells for one order are coalesced (the newest one is enough), and one
dropped when the queue is full (or given up on) is repaired by the next doorbell for that order
or a (re)connect. Queue length and drops are metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict

from realtime.broker import Broker, BrokerUnavailable

from .metrics import Metrics

log = logging.getLogger(__name__)

CAPACITY = 10_000  # orders with a doorbell waiting
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 2.0
FLUSH_SECONDS = 2.0  # how long a shutdown waits for the doorbells still queued


class Publisher:
    def __init__(self, broker: Broker, metrics: Metrics, capacity: int = CAPACITY) -> None:
        self.broker = broker
        self.metrics = metrics
        self.capacity = capacity
        self._pending: OrderedDict[str, bytes] = OrderedDict()
        self._ready = asyncio.Event()
        self.running = False

    @property
    def idle(self) -> bool:
        """No doorbell waiting to be rung."""
        return not self._pending

    def offer(self, channel: str, message: bytes) -> None:
        """Queue a doorbell; never waits. A newer one for the same channel replaces the older."""
        if channel in self._pending:
            self._pending[channel] = message
        elif len(self._pending) >= self.capacity:
            self.metrics.publish_dropped.inc()
            return
        else:
            self._pending[channel] = message
        self.metrics.publish_queue.set(len(self._pending))
        self._ready.set()

    async def run(self) -> None:
        """Ring the broker for every queued doorbell until cancelled (then flush briefly)."""
        self.running = True
        try:
            while True:
                await self._ready.wait()
                await self._drain()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(FLUSH_SECONDS):
                    await self._drain()
            raise
        finally:
            self.running = False

    async def _drain(self) -> None:
        delay = RETRY_BASE_SECONDS
        while self._pending:
            channel, message = next(iter(self._pending.items()))
            try:
                await self.broker.publish(channel, message)
            except BrokerUnavailable:
                self.metrics.publish_failures.inc()
                await asyncio.sleep(delay)
                delay = min(RETRY_CAP_SECONDS, delay * 2)
                continue
            delay = RETRY_BASE_SECONDS
            self.metrics.events_published.inc()
            # Only if no newer doorbell for the channel came while this one was being rung.
            if self._pending.get(channel) is message:
                del self._pending[channel]
            self.metrics.publish_queue.set(len(self._pending))
        self._ready.clear()

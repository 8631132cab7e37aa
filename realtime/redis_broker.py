"""Redis pub/sub broker: one subscriber connection read by one task, publishes over a pool.

Pub/sub is a doorbell, not a log: whatever is published while the subscriber connection is
down is lost. So after every reconnect the reader re-subscribes every channel, waits until Redis
confirmed them, and only then awaits ``on_reconnect`` so the application can catch up from its
own store. That order matters: anything published after the confirmation is heard, anything
before it is covered by the catch-up.

Only this module imports ``redis``; :func:`realtime.broker.create_broker` imports it lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, ConnectionPool, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from realtime.broker import BrokerUnavailable, MessageHandler, ReconnectHandler, redact_url

logger = logging.getLogger(__name__)

# What a dead, unreachable or hung server looks like from here. asyncio.TimeoutError is the
# builtin TimeoutError on Python 3.11+.
_DOWN = (RedisError, OSError, TimeoutError)


def backoff_delay(attempt: int, initial: float, cap: float) -> float:
    """Capped exponential backoff with "equal jitter" for reconnect attempt ``attempt`` (0-based).

    Half the delay is fixed so a flapping server can never make the reader spin; the other
    half is random so many processes do not reconnect in lockstep after a Redis restart.
    """
    ceiling = min(cap, initial * 2 ** min(attempt, 32))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class RedisBroker:
    """A :class:`realtime.broker.Broker` over Redis pub/sub (``redis.asyncio``).

    - One subscriber connection carries every subscription; a reader task dispatches each
      message to ``on_message`` in arrival order. A failing handler is logged, never fatal.
    - The reader notices a lost connection (closed socket, or no answer to its keepalive PING
      within two ``keepalive_interval``), reconnects with capped exponential backoff and
      jitter, re-subscribes, then awaits ``on_reconnect``.
    - ``subscribe`` returns once Redis confirmed the subscription, so a caller may read its
      store right after and miss nothing. While Redis is down it records the channel and
      returns at once; the reconnect subscribes it and ``on_reconnect`` covers the gap.
    - ``publish`` uses a separate connection pool without retries and raises
      :class:`BrokerUnavailable` within ``publish_timeout`` when Redis cannot take it.
    - Connections are named ``{client_name}-sub`` / ``{client_name}-pub`` in CLIENT LIST.
    """

    def __init__(
        self,
        url: str,
        on_message: MessageHandler,
        on_reconnect: ReconnectHandler | None = None,
        *,
        client_name: str = "realtime",
        publish_timeout: float = 0.5,
        connect_timeout: float = 1.0,
        subscribe_timeout: float = 2.0,
        keepalive_interval: float = 15.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        parse_url(url)  # a malformed URL fails here, at configuration time, not in the reader
        self._url = url
        self._safe_url = redact_url(url)
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._client_name = client_name
        self._publish_timeout = publish_timeout
        self._connect_timeout = connect_timeout
        self._subscribe_timeout = subscribe_timeout
        self._keepalive = keepalive_interval
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max

        self._channels: set[str] = set()  # what we want to hear; the truth for re-subscribing
        # Per channel, one future per SUBSCRIBE sent and not yet confirmed. Redis confirms
        # in command order, so FIFO matching pairs each confirmation with its command.
        self._waiters: dict[str, deque[asyncio.Future[None]]] = {}
        self._conn: AbstractConnection | None = None  # the live subscriber connection
        self._send_lock = asyncio.Lock()  # commands leave in the order they were asked for
        self._reader: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Event | None = None
        self._publisher: Redis | None = None
        self._publish_pool: ConnectionPool | None = None
        self._connected_before = False
        self._down_since_logged = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the reader and wait for its first connection attempt (never raises for it)."""
        if self._reader is not None:
            return
        no_retry = Retry(NoBackoff(), 0)  # fail fast; the reader does its own backoff
        self._publish_pool = ConnectionPool.from_url(
            self._url,
            socket_connect_timeout=self._publish_timeout,
            socket_timeout=self._publish_timeout,
            retry=no_retry,
            client_name=f"{self._client_name}-pub",
        )
        self._publisher = Redis(connection_pool=self._publish_pool)
        self._first_attempt = asyncio.Event()
        self._reader = asyncio.create_task(self._run(), name="realtime-redis-reader")
        try:
            async with asyncio.timeout(self._connect_timeout * 2):
                await self._first_attempt.wait()
        except TimeoutError:
            pass  # still trying in the background; ping() says False meanwhile

    async def stop(self) -> None:
        """Stop the reader, forget every subscription and close all connections."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.wait([reader])
        self._channels.clear()
        self._release_waiters()
        publisher, self._publisher = self._publisher, None
        pool, self._publish_pool = self._publish_pool, None
        if publisher is not None:
            await publisher.aclose()
        if pool is not None:
            await pool.disconnect()
        self._connected_before = False

    # -- the Broker operations -------------------------------------------------------------

    async def publish(self, channel: str, message: bytes) -> None:
        """PUBLISH ``message``; BrokerUnavailable within ``publish_timeout`` if Redis can't."""
        publisher = self._publisher
        if publisher is None:
            raise BrokerUnavailable("the Redis broker is not started")
        try:
            async with asyncio.timeout(self._publish_timeout):
                await publisher.publish(channel, message)
        except _DOWN as exc:
            raise BrokerUnavailable(
                f"cannot publish on {channel!r} via {self._safe_url} ({type(exc).__name__}: {exc})"
            ) from exc

    async def subscribe(self, channel: str) -> None:
        """Subscribe to ``channel``; returns once Redis confirmed it, or at once while down."""
        if channel in self._channels:
            pending = self._waiters.get(channel)
            if pending:
                # Someone else's SUBSCRIBE is in flight: this caller must not go ahead early.
                await self._confirmation(pending[-1], channel)
            return
        self._channels.add(channel)
        conn = self._conn
        if conn is None:
            return  # down: the reconnect subscribes it, then on_reconnect repairs
        waiter = self._expect(channel)
        try:
            await self._send(conn, "SUBSCRIBE", channel)
        except _DOWN as exc:
            logger.debug("SUBSCRIBE %r not sent (%r); the reader will reconnect", channel, exc)
            return
        await self._confirmation(waiter, channel)

    async def unsubscribe(self, channel: str) -> None:
        """Unsubscribe from ``channel``; messages still in flight for it are dropped."""
        if channel not in self._channels:
            return
        self._channels.discard(channel)
        conn = self._conn
        if conn is None:
            return  # down: the reconnect simply won't subscribe it again
        try:
            await self._send(conn, "UNSUBSCRIBE", channel)
        except _DOWN as exc:
            logger.debug("UNSUBSCRIBE %r not sent (%r); the reader will reconnect", channel, exc)

    async def ping(self) -> bool:
        """True when the subscriber connection is up and Redis answers PING in time."""
        publisher = self._publisher
        if publisher is None or self._conn is None:
            return False
        try:
            async with asyncio.timeout(self._publish_timeout):
                return bool(await publisher.ping())
        except _DOWN:
            return False

    @property
    def subscriptions(self) -> frozenset[str]:
        """The channels this broker wants to hear (also while reconnecting)."""
        return frozenset(self._channels)

    # -- subscription bookkeeping ----------------------------------------------------------

    def _expect(self, channel: str) -> asyncio.Future[None]:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, deque()).append(waiter)
        return waiter

    def _confirmed(self, channel: str) -> None:
        pending = self._waiters.get(channel)
        if not pending:
            return
        waiter = pending.popleft()
        if not pending:
            del self._waiters[channel]
        if not waiter.done():
            waiter.set_result(None)

    def _release_waiters(self) -> None:
        # The connection is gone: nobody should wait for confirmations that won't come. The
        # channels stay wanted; the next connection subscribes them and calls on_reconnect.
        waiters, self._waiters = self._waiters, {}
        for pending in waiters.values():
            for waiter in pending:
                if not waiter.done():
                    waiter.set_result(None)

    async def _confirmation(self, waiter: asyncio.Future[None], channel: str) -> None:
        try:
            async with asyncio.timeout(self._subscribe_timeout):
                # Shielded: the future may be shared by several callers; one giving up
                # (timeout, cancellation) must not cancel it for the others.
                await asyncio.shield(waiter)
        except TimeoutError:
            logger.warning("Redis did not confirm SUBSCRIBE %r in time", channel)

    async def _send(self, conn: AbstractConnection, *args: str) -> None:
        async with self._send_lock:
            # A connection the reader has given up on must not be revived by a send:
            # redis-py would silently reconnect it without our subscriptions.
            if conn is not self._conn or not conn.is_connected:
                raise ConnectionError("the subscriber connection is down")
            async with asyncio.timeout(self._subscribe_timeout):
                await conn.send_command(*args, check_health=False)

    # -- the reader --------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        factory = ConnectionPool.from_url(
            self._url,
            socket_connect_timeout=self._connect_timeout,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{self._client_name}-sub",
        )
        loop = asyncio.get_running_loop()
        while True:
            # A fresh connection object each time: nothing of the old one's state survives.
            conn = factory.make_connection()
            began = loop.time()
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await conn.connect()
            except _DOWN as exc:
                await self._discard(conn)
                self._log_down("cannot connect to", exc)
            else:
                try:
                    await self._session(conn)
                except _DOWN as exc:
                    self._log_down("lost the connection to", exc)
                except Exception:
                    # A bug here must not end live updates for the whole process.
                    logger.exception("Redis reader failed; reconnecting")
                finally:
                    self._conn = None
                    self._release_waiters()
                    await self._discard(conn)
                if loop.time() - began >= self._backoff_max:
                    attempt = 0  # it was healthy for a while: start the backoff over
            if self._first_attempt is not None:
                self._first_attempt.set()
            await asyncio.sleep(backoff_delay(attempt, self._backoff_initial, self._backoff_max))
            attempt += 1

    async def _session(self, conn: AbstractConnection) -> None:
        """Subscribe everything wanted on ``conn`` and read until it fails (always raises)."""
        channels = sorted(self._channels)
        pending = [self._expect(channel) for channel in channels]
        # Published before the SUBSCRIBE goes out, so a concurrent subscribe() sends its own.
        self._conn = conn
        if channels:
            await self._send(conn, "SUBSCRIBE", *channels)
        # Catch up after any outage, and after a first connection that found channels
        # recorded while Redis was unreachable.
        must_notify = self._connected_before or bool(channels)
        self._connected_before = True
        if self._first_attempt is not None:
            self._first_attempt.set()
        if self._down_since_logged:
            logger.info("connected to Redis at %s again", self._safe_url)
            self._down_since_logged = False
        ping_sent = False
        while True:
            if must_notify and all(waiter.done() for waiter in pending):
                must_notify = False
                pending = []
                await self._notify_reconnect()
            if not conn.is_connected:
                raise ConnectionError("the subscriber connection was closed")
            response = await conn.read_response(timeout=self._keepalive, push_request=True)
            if response is None:
                # Quiet for a whole interval: a half-open TCP connection looks exactly like
                # this, so ask, and give up if the previous question went unanswered.
                if ping_sent:
                    raise TimeoutError("Redis did not answer PING")
                ping_sent = True
                await self._send(conn, "PING")
                continue
            ping_sent = False
            await self._dispatch(response)

    async def _dispatch(self, response: Any) -> None:
        if not isinstance(response, list) or len(response) < 2:
            return  # +PONG outside subscribed mode
        kind = _text(response[0])
        if kind == "message" and len(response) >= 3:
            channel = _text(response[1])
            if channel not in self._channels:
                return  # in flight while we unsubscribed
            data = response[2]
            message = data if isinstance(data, bytes) else str(data).encode()
            try:
                await self._on_message(channel, message)
            except Exception:
                logger.exception("message handler failed for channel %r", channel)
        elif kind == "subscribe":
            self._confirmed(_text(response[1]))

    async def _notify_reconnect(self) -> None:
        if self._on_reconnect is None:
            return
        try:
            await self._on_reconnect()
        except Exception:
            logger.exception("reconnect handler failed")

    async def _discard(self, conn: AbstractConnection) -> None:
        # It is being thrown away: if even closing fails there is nothing left to tidy.
        with contextlib.suppress(*_DOWN):
            await conn.disconnect(nowait=True)

    def _log_down(self, what: str, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        # One warning per outage; the retries in between would only flood the log.
        if self._down_since_logged:
            logger.debug("still %s Redis at %s (%s)", what, self._safe_url, reason)
        else:
            logger.warning("%s Redis at %s (%s); retrying", what, self._safe_url, reason)
            self._down_since_logged = True

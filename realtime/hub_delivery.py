"""Sending to viewers for :class:`realtime.hub.Hub`: at once when idle, else in order behind
the send that waits; dropping a viewer closes it after its sender stopped (never two writers
on one socket)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any

from realtime.eager import start_eagerly
from realtime.hub_parts import CLOSE_INTERNAL_ERROR, Frame, Viewer, _cancel, _Member, _Topic

logger = logging.getLogger("realtime.hub")


class Delivery:
    """The hub's sending half (a mixin: :class:`realtime.hub.Hub` sets these attributes)."""

    _counts: dict[str, int]
    _close_timeout: float
    _background: set[asyncio.Task[None]]

    def _send_now(self, topic: _Topic, member: _Member, frames: list[Frame]) -> bool:
        """Send ``frames`` to an idle viewer from here; False if a send raised at once.

        A send that has to wait becomes the viewer's sender task, with the frames after it
        queued behind it.
        """
        for index, frame in enumerate(frames):
            if frame.seq <= member.last_seq:
                continue  # the snapshot already had it
            try:
                waiting = start_eagerly(member.viewer.send(frame.data))
            except Exception as exc:
                logger.debug("dropping a viewer of %r: send failed: %r", topic.name, exc)
                return False
            if waiting is not None:
                member.queue(frames[index + 1 :])
                sender = asyncio.create_task(self._drain(topic, member, waiting, frame.seq))
                # A sender cancelled before it first ran never awaited the waiting send, so
                # cancel that too: the socket must not get a frame after its close frame.
                sender.add_done_callback(partial(_cancel, waiting))
                member.sender = sender
                return True
            member.last_seq = frame.seq
        return True

    async def _drain(
        self, topic: _Topic, member: _Member, waiting: asyncio.Task[None] | None, seq: int
    ) -> None:
        """The viewer's sender: finish the send ``waiting`` (of frame ``seq``), then send its
        backlog in order; gone again once the backlog is empty. (The backlog is looked up
        each time: dropping the viewer lets go of it.)"""
        try:
            if waiting is not None:
                await waiting
                member.last_seq = seq
            while member.backlog:
                frame = member.backlog.popleft()
                if frame.seq <= member.last_seq:
                    continue  # the snapshot already had it
                await member.viewer.send(frame.data)
                member.last_seq = frame.seq
        except Exception as exc:
            if member.closing is None:
                self._counts["send_failed"] += 1
                logger.debug("dropping a viewer of %r: send failed: %r", topic.name, exc)
                member.closing = CLOSE_INTERNAL_ERROR
                topic.members.discard(member)
                member.backlog = None
                await self._close_quietly(member.viewer, CLOSE_INTERNAL_ERROR)
        finally:
            member.sender = None
            if not member.backlog:
                member.backlog = None  # an empty deque is not kept for hours

    def _drop(self, topic: _Topic, member: _Member, code: int) -> None:
        """Let go of ``member`` now and close its socket with ``code`` in the background."""
        if member.closing is not None:
            return
        member.closing = code
        topic.members.discard(member)
        member.backlog = None
        if not member.ready:
            return  # watch() is still sending the snapshot and will close it itself
        sender = member.sender
        if sender is not None:
            sender.cancel()  # it may be stuck in send() to this very (slow) socket
        self._spawn(self._close_after(sender, member.viewer, code))

    async def _close_after(
        self, sender: asyncio.Task[None] | None, viewer: Viewer, code: int
    ) -> None:
        if sender is not None:
            await asyncio.wait([sender])  # never two writers on one socket
        await self._close_quietly(viewer, code)

    async def _close_quietly(self, viewer: Viewer, code: int) -> None:
        try:
            async with asyncio.timeout(self._close_timeout):
                await viewer.close(code)
        except Exception as exc:
            # Already gone, or too stuck to take a close frame; its server side will time out.
            logger.debug("closing a viewer with %d failed: %r", code, exc)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._background.discard)

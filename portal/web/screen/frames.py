"""The order screen's live frames: only what changed since the frame before.

Every viewer of an order's screen has had every frame since its snapshot, in order (the hub
closes a viewer that falls behind; its browser comes back to a fresh snapshot). So a frame
may be the difference from the one before it: the parts the doorbell names, and of those only
the ones whose HTML changed; the timeline gets its new entries inserted where they belong,
the notifications their new and changed notices. A snapshot (first connect) and a repair
(a gap, a broker reconnect, a retry) are every part.

A snapshot numbered v shows at least what frame v showed, maybe more (its read came later).
So a snapshot does not reset what viewers are known to show: a part it shows otherwise is
marked unknown (sent whole with the next frame that names it), and an entry it already has
may come again in a frame: the browser skips an inserted entry whose id is on the page
(static/screen.js), so the result is the same as a reload.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from ...services.screen.view import NotificationView, ScreenView
from ...services.views import EventView
from ..render import _insert_position, visible_events
from .render import MARK, OOB, PARTS, ScreenRenderer, extension_part

EXTENSIONS = "extensions"  # the sections other features add (render.SCREEN_SECTIONS)
EVERYTHING = frozenset((*PARTS, EXTENSIONS))
TOPICS_KEPT = 1000  # orders whose last frame is remembered; the others start from a whole one


def _digest(html: str) -> bytes:
    return hashlib.blake2b(html.encode(), digest_size=16).digest()


@dataclass(slots=True)
class _Shown:
    """What every viewer of one order's screen shows since the last frame."""

    parts: dict[str, bytes | None]  # part (or "ext:key") -> digest of its HTML; None: unknown
    events: list[EventView]  # timeline entries
    notes: dict[int, NotificationView | None]  # by id; None: some viewer may show another


class ScreenFrames:
    """Renders whole and partial frames, remembering per order what the last one showed."""

    def __init__(self, renderer: ScreenRenderer) -> None:
        self.renderer = renderer
        self._shown: OrderedDict[str, _Shown] = OrderedDict()

    def whole(
        self,
        topic: str,
        screen: ScreenView,
        now: datetime,
        extensions: list[tuple[str, str]],
        *,
        snapshot: bool,
    ) -> str:
        """Every part as an out-of-band swap: a snapshot, or a repair sent to every viewer."""
        pieces = {key: self.renderer.part(key, screen, now, None) for key in PARTS}
        pieces.update({f"ext:{key}": extension_part(key, html) for key, html in extensions})
        state = _Shown(
            {key: _digest(html) for key, html in pieces.items() if key != "timeline"},
            visible_events(screen.order),
            {n.id: n for n in screen.notifications},
        )
        old = self._shown.get(topic)
        if snapshot and old is not None:
            state = _merged(old, state)
        self._remember(topic, state)
        return "".join(pieces.values()).replace(MARK, OOB)

    def changes(
        self,
        topic: str,
        screen: ScreenView,
        now: datetime,
        extensions: list[tuple[str, str]] | None,
        keys: frozenset[str],
    ) -> str | None:
        """What changed in the parts named ``keys`` since the last frame (maybe nothing);
        None when this order's last frame is not known (send a whole one: see knows)."""
        shown = self._shown.get(topic)
        if shown is None:
            return None
        self._shown.move_to_end(topic)
        out: list[str] = []
        for key in PARTS:
            if key not in keys:
                continue
            if key == "timeline":
                out.append(self._timeline(shown, screen, now))
            elif key == "notifications":
                out.append(self._notifications(shown, screen, now))
            else:
                out.append(self._if_changed(shown, key, self.renderer.part(key, screen, now, None)))
        for key, html in extensions or []:
            out.append(self._if_changed(shown, f"ext:{key}", extension_part(key, html)))
        return "".join(out)

    def knows(self, topic: str) -> bool:
        """Whether a frame for ``topic`` may be its changes (else it has to be whole)."""
        return topic in self._shown

    def _remember(self, topic: str, state: _Shown) -> None:
        self._shown[topic] = state
        self._shown.move_to_end(topic)
        while len(self._shown) > TOPICS_KEPT:
            self._shown.popitem(last=False)

    def _if_changed(self, shown: _Shown, key: str, html: str) -> str:
        digest = _digest(html)
        if shown.parts.get(key) == digest:
            return ""
        shown.parts[key] = digest
        return html.replace(MARK, OOB)

    def _whole_part(self, shown: _Shown, key: str, screen: ScreenView, now: datetime) -> str:
        if key == "timeline":
            shown.events = visible_events(screen.order)
        else:
            shown.notes = {n.id: n for n in screen.notifications}
        return self.renderer.part(key, screen, now, None).replace(MARK, OOB)

    def _timeline(self, shown: _Shown, screen: ScreenView, now: datetime) -> str:
        events = visible_events(screen.order)
        seen = {e.seq for e in shown.events}
        new = sorted((e for e in events if e.seq not in seen), key=lambda e: e.seq)
        if not new and len(events) == len(shown.events):
            return ""
        if not shown.events or len(events) != len(seen) + len(new):
            return self._whole_part(shown, "timeline", screen, now)  # none before, or one gone
        renderer = self.renderer
        pieces = [renderer.timeline_heading(len(events))]
        placed = list(shown.events)
        for event in new:
            entry = renderer.event_items([event], screen)
            pieces.append(f'<div hx-swap-oob="{_insert_position(placed, event)}">{entry}</div>')
            placed.append(event)
        shown.events = events
        return "".join(pieces)

    def _notifications(self, shown: _Shown, screen: ScreenView, now: datetime) -> str:
        notes = screen.notifications  # newest first
        known = shown.notes
        new = [n for n in notes if n.id not in known]
        if not known or len(notes) != len(known) + len(new) or any(n.id < max(known) for n in new):
            return self._whole_part(shown, "notifications", screen, now)
        changed = [n for n in notes if n.id in known and known[n.id] != n]
        pieces = []
        renderer = self.renderer
        if new:
            pieces.append(renderer.notifications_heading(len(notes)))
            items = renderer.notification_items(new, screen, oob=False)
            pieces.append(f'<div hx-swap-oob="afterend:#notifications-heading">{items}</div>')
        if changed:
            pieces.append(renderer.notification_items(changed, screen, oob=True))
        shown.notes = {n.id: n for n in notes}
        return "".join(pieces)


def _merged(old: _Shown, snapshot: _Shown) -> _Shown:
    """What viewers show once a snapshot joined them: frames' viewers show ``old``."""
    parts = {
        key: digest if old.parts.get(key) == digest else None
        for key, digest in snapshot.parts.items()
    }
    notes = {
        nid: note if snapshot.notes.get(nid) == note else None for nid, note in old.notes.items()
    }
    return _Shown(parts, old.events, notes)

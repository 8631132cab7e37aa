"""What the tracking page's live region needs besides the order: its forms' CSRF tokens and
the review link. One builder for the page, the socket's snapshot and its increments."""

from __future__ import annotations

from ..security import sign
from ..services.review import ReviewVia, review_link
from ..settings import Settings
from .render import LiveContext


def feedback_csrf(secret_key: str, order_number: str) -> str:
    return sign(secret_key, "feedback", order_number)


def choice_csrf(secret_key: str, order_number: str) -> str:
    return sign(secret_key, "delay-choice", order_number)


def inquiry_csrf(secret_key: str, order_number: str) -> str:
    return sign(secret_key, "inquiry", order_number)


def live_context(
    settings: Settings,
    order_number: str,
    *,
    feedback_error: str | None = None,
    choice_error: str | None = None,
) -> LiveContext:
    """The live region's context for one order (errors only on a page answering a form)."""
    return LiveContext(
        feedback_csrf=feedback_csrf(settings.secret_key, order_number),
        review_url=review_link(settings, order_number, ReviewVia.PAGE),
        feedback_error=feedback_error,
        choice_csrf=choice_csrf(settings.secret_key, order_number),
        choice_error=choice_error,
    )

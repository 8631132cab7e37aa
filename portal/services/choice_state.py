"""Whether staff acted on a customer's delay choice, as one SQL expression (no I/O here)."""

from __future__ import annotations

import sqlalchemy as sa

from ..domain.inquiries import InquiryState
from ..domain.interactions import Direction
from ..models import table_of
from ..models_inquiries import Inquiry, InquiryMessage
from ..models_records import DelayChoice

CHOICES, INQUIRIES, MESSAGES = table_of(DelayChoice), table_of(Inquiry), table_of(InquiryMessage)

# Staff acted on a choice: marked it arranged, or answered or moved the inquiry it opened.
# One SQL expression over delay_choices, used by the order view (outer-joined) and here.
STAFF_ACTED = sa.or_(
    CHOICES.c.handled_at.is_not(None),
    sa.exists().where(
        INQUIRIES.c.id == CHOICES.c.inquiry_id, INQUIRIES.c.state != InquiryState.OPEN.value
    ),
    sa.exists().where(
        MESSAGES.c.inquiry_id == CHOICES.c.inquiry_id,
        MESSAGES.c.direction == Direction.OUTBOUND.value,
    ),
)

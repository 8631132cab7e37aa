"""Channel clients: SMTP email, HTTP SMS and voice, and the log files used without providers.

Each client has `async def send(message) -> SendResult` and raises TemporaryFailure (retry) or
PermanentFailure (do not retry).
"""

from __future__ import annotations

from portal.notify.channels.base import (
    ChannelError,
    EmailSender,
    OutgoingCall,
    OutgoingEmail,
    OutgoingSms,
    PermanentFailure,
    SendResult,
    SmsSender,
    TemporaryFailure,
    VoiceCaller,
)
from portal.notify.channels.factory import Channels

__all__ = [
    "ChannelError",
    "Channels",
    "EmailSender",
    "OutgoingCall",
    "OutgoingEmail",
    "OutgoingSms",
    "PermanentFailure",
    "SendResult",
    "SmsSender",
    "TemporaryFailure",
    "VoiceCaller",
]

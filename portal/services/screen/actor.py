"""Who did something: a signed-in staff user, or an API key on behalf of the shop's CRM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """``name`` is what the CRM log and the links list show (an email, or ``api:<key>``)."""

    name: str
    staff_user_id: int | None = None

    @classmethod
    def api_key(cls, key_name: str) -> Actor:
        return cls(f"api:{key_name}")

"""One typed settings object, read from the environment and validated at start."""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .domain.sla import DEFAULT_POLICY, SlaPolicy
from .proxies import Network, parse_networks
from .sla_policy import PolicyError, load_policy_file

log = logging.getLogger(__name__)

DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")
REDIS_SCHEMES = ("redis", "rediss", "unix")
SMTP_SCHEMES = ("smtp", "smtps")
_INSTANCE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_EMAIL_FROM = "Order updates <no-reply@localhost>"
DEFAULT_SMS_FROM = "PORTAL"
DEFAULT_INSTANCE = "portal"
DEFAULT_SHOP_NAME = "Our shop"
DEFAULT_SUPPORT_EMAIL = "support@localhost"
DEFAULT_AUDIT_INTERVAL = 3600.0

_warned: list[bool] = []  # the generated-key warning is said once per process


class SettingsError(ValueError):
    """A setting has a value the portal cannot run with; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """Everything the portal reads from its environment (DESIGN.md, Public contract)."""

    database_url: str
    secret_key: str
    base_url: str = DEFAULT_BASE_URL
    redis_url: str | None = None
    smtp_url: str | None = None
    email_from: str = DEFAULT_EMAIL_FROM
    sms_url: str | None = None
    sms_from: str = DEFAULT_SMS_FROM
    voice_url: str | None = None
    instance: str = DEFAULT_INSTANCE
    instance_dir: Path = Path("instance")
    webhook_secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    shop_name: str = DEFAULT_SHOP_NAME
    support_email: str = DEFAULT_SUPPORT_EMAIL
    review_url: str | None = None
    shop_timezone: str = "UTC"
    notification_rules_file: Path | None = None
    secret_key_generated: bool = False
    db_busy_timeout: float = 10.0
    trusted_proxies: tuple[Network, ...] = ()
    body_timeout: float = 10.0
    # While the broker is down, open sockets are brought up to date from the database this often.
    broker_fallback_interval: float = 3.0
    # Seconds between scheduled audits in the server (0: none; `portal audit` still works).
    audit_interval: float = DEFAULT_AUDIT_INTERVAL
    sla_policy: SlaPolicy = DEFAULT_POLICY
    # Replies to email come back here: Reply-To is <local>+<tag>@<domain> (portal mail-in).
    inbound_address: str | None = None
    # PORTAL_AUTO_MIGRATE=1: the server upgrades the schema at start.
    auto_migrate: bool = False
    # PORTAL_DISPATCHER=0: this server process sends no notifications.
    dispatcher: bool = True
    # Tracking sockets joining: snapshot reads at once, sockets waiting for one (beyond: 1013),
    # and how long a snapshot may serve later sockets of its order while nothing newer happened.
    ws_catchup_concurrency: int = 16
    ws_catchup_queue: int = 2000
    ws_snapshot_reuse: float = 1.0
    # PORTAL_WS_ACCESS_LOG=1: uvicorn's INFO line per websocket handshake (off: ~13% of a
    # connect's CPU in a reconnect storm).
    ws_access_log: bool = False
    # How long the first link look-up or snapshot read of a moment waits for others to share
    # its query (a reconnect storm: 0.86 -> 0.6-0.7 ms of server CPU per connect at 5 ms).
    ws_batch_window: float = 0.005

    @property
    def base_origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def secrets_for(self, carrier: str) -> tuple[str, ...]:
        return self.webhook_secrets.get(carrier.lower(), ())

    def url(self, path: str) -> str:
        """An absolute link for customers: PORTAL_BASE_URL plus path."""
        return self.base_url.rstrip("/") + path


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _check_scheme(name: str, value: str, allowed: tuple[str, ...]) -> None:
    scheme = urlsplit(value).scheme
    if scheme not in allowed:
        raise SettingsError(
            f"{name} has the scheme {scheme or '(none)'!r}; expected one of: "
            + ", ".join(f"{s}://" for s in allowed)
        )


def _check_http_url(name: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http:// or https:// URL with a host, got {value!r}")


def _database_url(env: Mapping[str, str], instance_dir: Path) -> str:
    value = _optional(env, "PORTAL_DATABASE_URL")
    if value is None:
        return f"sqlite+aiosqlite:///{(instance_dir / 'portal.db').resolve()}"
    if value.startswith("postgresql://") or value.startswith("postgres://"):
        raise SettingsError(
            "PORTAL_DATABASE_URL must name the async driver: postgresql+asyncpg://..."
        )
    _check_scheme("PORTAL_DATABASE_URL", value, DATABASE_SCHEMES)
    return value


def _secret_key(env: Mapping[str, str], instance_dir: Path) -> tuple[str, bool]:
    value = _optional(env, "PORTAL_SECRET_KEY")
    if value is not None:
        if len(value) < 32:
            raise SettingsError("PORTAL_SECRET_KEY must be at least 32 characters long")
        return value, False
    path = instance_dir / _SECRET_FILE
    if path.exists():
        return path.read_text().strip(), True
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key, True


def _webhook_secrets(env: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    prefix = "PORTAL_WEBHOOK_SECRET_"
    found: dict[str, tuple[str, ...]] = {}
    for name, value in env.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            keys = tuple(part.strip() for part in value.split(",") if part.strip())
            if keys:
                found[name[len(prefix) :].lower()] = keys
    return found


def _trusted_proxies(env: Mapping[str, str]) -> tuple[Network, ...]:
    try:
        return parse_networks(env.get("PORTAL_TRUSTED_PROXIES", ""))
    except ValueError as exc:
        raise SettingsError(f"PORTAL_TRUSTED_PROXIES: {exc}") from None


def _seconds(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    high: float = 3600,
    zero_is_off: bool = False,
) -> float:
    """A number of seconds in (0, high], or [0, high] where 0 turns the thing off."""
    value = _optional(env, name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {value!r}") from None
    low_ok = seconds >= 0 if zero_is_off else seconds > 0
    if not (low_ok and seconds <= high):
        low = "0 (off)" if zero_is_off else "0"
        raise SettingsError(f"{name} must be between {low} and {high:g} seconds, got {value!r}")
    return seconds


def _count(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _optional(env, name)
    if value is None:
        return default
    try:
        count = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= count <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value!r}")
    return count


def _shop_timezone(env: Mapping[str, str]) -> str:
    value = _optional(env, "PORTAL_SHOP_TIMEZONE") or "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"PORTAL_SHOP_TIMEZONE must be an IANA time zone such as Europe/London, got {value!r}"
        ) from None
    return value


def _audit_interval(env: Mapping[str, str]) -> float:
    value = _optional(env, "PORTAL_AUDIT_INTERVAL")
    if value is None:
        return DEFAULT_AUDIT_INTERVAL
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(
            f"PORTAL_AUDIT_INTERVAL must be a number of seconds, got {value!r}"
        ) from None
    if not seconds >= 0 or seconds == float("inf"):
        raise SettingsError("PORTAL_AUDIT_INTERVAL must be 0 (off) or a positive number of seconds")
    return seconds


def _sla_policy(env: Mapping[str, str]) -> SlaPolicy:
    value = _optional(env, "PORTAL_SLA_POLICIES")
    if value is None:
        return DEFAULT_POLICY
    try:
        return load_policy_file(Path(value))
    except PolicyError as exc:
        raise SettingsError(f"PORTAL_SLA_POLICIES: {exc}") from None


def _inbound_address(env: Mapping[str, str]) -> str | None:
    value = _optional(env, "PORTAL_INBOUND_ADDRESS")
    if value is not None and not re.fullmatch(r"[^@\s+]+@[^@\s]+\.?[^@\s]*", value):
        raise SettingsError(
            "PORTAL_INBOUND_ADDRESS must be a plain address without a '+' tag, "
            f"e.g. support@shop.example; got {value!r}"
        )
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _optional(env, name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1 or 0, got {value!r}")


def _optional_url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = _optional(env, name)
    if value is not None:
        _check_scheme(name, value, schemes)
    return value


def _optional_http_url(env: Mapping[str, str], name: str) -> str | None:
    value = _optional(env, name)
    if value is not None:
        _check_http_url(name, value)
    return value


def _instance(env: Mapping[str, str]) -> str:
    instance = _optional(env, "PORTAL_INSTANCE") or DEFAULT_INSTANCE
    if not _INSTANCE_NAME.match(instance):
        raise SettingsError("PORTAL_INSTANCE may hold only letters, digits, '.', '_' and '-'")
    return instance


def _warn_generated_key(instance_dir: Path) -> None:
    """Once per process: production must set its own key."""
    if _warned:
        return
    _warned.append(True)
    log.warning(
        "PORTAL_SECRET_KEY is not set: using a generated key kept in %s; "
        "set PORTAL_SECRET_KEY in production",
        instance_dir / _SECRET_FILE,
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raises SettingsError with a clear message."""
    env = os.environ if env is None else env
    instance_dir = Path(env.get("PORTAL_INSTANCE_DIR", "instance")).resolve()
    base_url = _optional(env, "PORTAL_BASE_URL") or DEFAULT_BASE_URL
    _check_http_url("PORTAL_BASE_URL", base_url)
    redis_url = _optional_url(env, "PORTAL_REDIS_URL", REDIS_SCHEMES)
    smtp_url = _optional_url(env, "PORTAL_SMTP_URL", SMTP_SCHEMES)
    sms_url = _optional_http_url(env, "PORTAL_SMS_URL")
    voice_url = _optional_http_url(env, "PORTAL_VOICE_URL")
    instance = _instance(env)
    rules_file = _optional(env, "PORTAL_NOTIFICATION_RULES")
    review_url = _optional_http_url(env, "PORTAL_REVIEW_URL")
    shop_timezone = _shop_timezone(env)
    database_url = _database_url(env, instance_dir)
    secret_key, generated = _secret_key(env, instance_dir)
    if generated:
        _warn_generated_key(instance_dir)
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        base_url=base_url.rstrip("/"),
        redis_url=redis_url,
        smtp_url=smtp_url,
        email_from=_optional(env, "PORTAL_EMAIL_FROM") or DEFAULT_EMAIL_FROM,
        sms_url=sms_url,
        sms_from=_optional(env, "PORTAL_SMS_FROM") or DEFAULT_SMS_FROM,
        voice_url=voice_url,
        instance=instance,
        instance_dir=instance_dir,
        webhook_secrets=_webhook_secrets(env),
        shop_name=_optional(env, "PORTAL_SHOP_NAME") or DEFAULT_SHOP_NAME,
        support_email=_optional(env, "PORTAL_SUPPORT_EMAIL") or DEFAULT_SUPPORT_EMAIL,
        review_url=review_url,
        shop_timezone=shop_timezone,
        notification_rules_file=Path(rules_file) if rules_file else None,
        secret_key_generated=generated,
        db_busy_timeout=_seconds(env, "PORTAL_DB_BUSY_TIMEOUT", 10.0),
        trusted_proxies=_trusted_proxies(env),
        body_timeout=_seconds(env, "PORTAL_BODY_TIMEOUT", 10.0),
        broker_fallback_interval=_seconds(env, "PORTAL_BROKER_FALLBACK_INTERVAL", 3.0),
        audit_interval=_audit_interval(env),
        sla_policy=_sla_policy(env),
        inbound_address=_inbound_address(env),
        auto_migrate=_flag(env, "PORTAL_AUTO_MIGRATE", False),
        dispatcher=_flag(env, "PORTAL_DISPATCHER", True),
        ws_catchup_concurrency=_count(env, "PORTAL_WS_CATCHUP_CONCURRENCY", 16, 1, 1000),
        ws_catchup_queue=_count(env, "PORTAL_WS_CATCHUP_QUEUE", 2000, 0, 100_000),
        ws_snapshot_reuse=_seconds(env, "PORTAL_WS_SNAPSHOT_REUSE", 1.0, high=60, zero_is_off=True),
        ws_access_log=_flag(env, "PORTAL_WS_ACCESS_LOG", False),
        ws_batch_window=_seconds(env, "PORTAL_WS_BATCH_WINDOW", 0.005, high=1, zero_is_off=True),
    )

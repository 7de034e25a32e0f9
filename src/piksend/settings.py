"""Settings, read once from the environment and the command line, then passed explicitly."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SECRET_KEY_FILE = "secret.key"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    public_url: str
    secret_key: str
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 30 * 24 * 3600
    code_ttl: int = 120
    # Issue 10, item 5 (oauth/refresh_grace.py): a rotated refresh token presented again this
    # many seconds after its rotation, its successor unused, gets the same successor; 0 = off.
    refresh_grace_seconds: int = 60
    pending_authorization_ttl: int = 600
    # Issue 14, item 5 (accounts/sessions.py): a browser session ends after this many days
    # without a page view, and this many days after sign-in whatever happens; the security
    # log is kept this many days.
    session_idle_days: int = 7
    session_max_days: int = 30
    security_log_days: int = 90
    max_body_bytes: int = 64 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    # Issue 15, item 2: images decoded at once per process; more uploads wait their turn.
    image_decodes: int = 2
    db_pool_size: int = 10
    trim_interval: float = 300.0  # seconds between rounds of trimming expired rows; 0 = off
    webhooks_allow_private_targets: bool = False
    webhook_worker_enabled: bool = True
    webhook_poll_interval: float = 2.0
    webhook_backoff_base: float = 30.0
    webhook_backoff_cap: float = 6 * 3600.0
    webhook_max_attempts: int = 8
    webhook_timeout: float = 10.0
    # Client addresses: X-Forwarded-For is read only from peers in these CIDRs.
    trusted_proxies: tuple[str, ...] = ()
    redis_url: str | None = None  # shared counters in Redis instead of the database
    # Sign-in throttling (accounts/throttle.py): attempts per window of `signin_window` s.
    signin_window: int = 15 * 60
    signin_max_per_address: int = 100
    signin_max_per_account_and_address: int = 10
    signin_max_per_account: int = 50  # from browsers without the account's device cookie
    device_cookie_ttl: int = 365 * 24 * 3600
    # Requests per client address per `request_window` s.
    signups_per_address: int = 10
    resets_per_address: int = 5
    request_window: int = 3600
    # Issue 10, items 2-3: how long a SQLite writer waits for the write lock before its request
    # is answered 503 (seconds); /readyz caches its verdict this long, and calls a disk with
    # less free space than this not ready.
    sqlite_busy_timeout: float = 5.0
    readiness_cache_seconds: float = 1.0
    readiness_min_free_bytes: int = 16 * 1024 * 1024
    db_connect_timeout: float = 5.0  # seconds to open a PostgreSQL connection, then 503
    # Issue 10, item 6: a delivery's lease is this short and renewed while it is being sent,
    # so one cut by a crash is claimed again within about this long.
    webhook_lease: float = 10.0
    # Issue 10, item 4: an unreferenced blob file goes only once it is this old (seconds;
    # uploads in flight are younger), swept in batches during the trim rounds.
    blob_sweep_grace: float = 3600.0
    blob_sweep_batch: int = 500
    # Issue 11, item 6: where the blobs are: empty for <data dir>/blobs, or
    # s3://bucket/prefix?endpoint=…&region=… shared by every node (credentials from AWS_*).
    blob_url: str | None = None
    # Outgoing e-mail (piksend.mail): smtp:// or smtps:// with credentials; None writes each
    # message to <data dir>/outbox/ as an .eml file (development mode).
    smtp_url: str | None = None
    mail_from: str = "PikSend <no-reply@localhost>"
    mail_worker_enabled: bool = True
    mail_poll_interval: float = 2.0
    mail_backoff_base: float = 30.0
    mail_max_attempts: int = 8
    mail_timeout: float = 20.0
    # Issue 13: apps that become clients without a person. Dynamic registration (RFC 7591):
    # off | public (public clients with loopback or private-use redirects) | open; at most
    # `registrations_per_address` per `request_window`; a registered app that no one
    # authorized within `dynamic_client_ttl` days is trimmed. Client ID metadata documents
    # are fetched at most `metadata_document_timeout` s and cached within the bounds given.
    dynamic_registration: str = "public"
    registrations_per_address: int = 20
    dynamic_client_ttl: int = 3
    metadata_document_timeout: float = 5.0
    metadata_document_cache_size: int = 1000
    metadata_document_min_ttl: int = 60
    metadata_document_max_ttl: int = 24 * 3600
    # Issue 15: /metrics answers only `Authorization: Bearer <metrics_token>` (404 without one).
    # App logos are fetched once when set, at most `logo_max_bytes` within `logo_fetch_timeout`
    # s, and re-encoded as a PNG of at most `logo_size` pixels a side.
    metrics_token: str | None = None
    logo_fetch_timeout: float = 5.0
    logo_max_bytes: int = 1024 * 1024
    logo_size: int = 128
    # Issue 15, item 1 (web/rate_limits.py): past a limit, 429 with Retry-After (RFC 6585 §4).
    # Failed client authentications at the token, introspection and revocation endpoints, per
    # client_id and per client address, per `client_auth_window` s.
    client_auth_failures_per_client: int = 20
    client_auth_failures_per_address: int = 100
    client_auth_window: int = 15 * 60
    # API requests per access token and per app, per `api_window` s (0: no limit); the hot
    # GET /api/v1/me is counted only with `api_limit_me` (a counter is a write per request).
    api_requests_per_token: int = 600
    api_requests_per_app: int = 6000
    api_window: int = 60
    api_limit_me: bool = False
    # Webhooks: receivers one app may hold for one user; test events per user per minute.
    webhooks_per_app: int = 10
    webhook_tests_per_minute: int = 5
    # Uploads per user: images and bytes per hour, and the bytes a user may store in all.
    uploads_per_hour: int = 200
    upload_bytes_per_hour: int = 500 * 1024 * 1024
    storage_quota_bytes: int = 5 * 1024 * 1024 * 1024
    # Issue 15, item 5 (oauth/grant_lifetime.py): a grant ends `grant_max_age` s after it was
    # made; `refresh_token_ttl` (PIKSEND_GRANT_IDLE_TIMEOUT) is its idle timeout.
    grant_max_age: int = 90 * 24 * 3600

    @property
    def issuer(self) -> str:
        """RFC 8414 §2: the issuer is an https URL with no query or fragment (http on loopback)."""
        return self.public_url.rstrip("/")

    @property
    def session_ttl(self) -> int:
        """A session's cookie and row last at most ``session_max_days`` (seconds)."""
        return self.session_max_days * 24 * 3600

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _default_sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'piksend.db').resolve()}"


def load_secret_key(data_dir: Path) -> str:
    """The signing secret: from the environment, else generated once into the data dir."""
    env = os.environ.get("PIKSEND_SECRET_KEY")
    if env:
        return env
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def settings_from_env(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    public_url: str | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("PIKSEND_DATA_DIR", "./piksend-data")).resolve()
    # Issue 17, item 8: the owner's only (0700), as are the files made in it (0600).
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database_url = env.get("PIKSEND_DATABASE_URL") or _default_sqlite_url(data_dir)
    shown_host = f"[{host}]" if ":" in host else host
    if shown_host in ("0.0.0.0", "[::]"):
        shown_host = "127.0.0.1"
    url = public_url or env.get("PIKSEND_PUBLIC_URL") or f"http://{shown_host}:{port}"
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        public_url=url.rstrip("/"),
        secret_key=load_secret_key(data_dir),
        webhooks_allow_private_targets=env.get("PIKSEND_WEBHOOKS_ALLOW_PRIVATE", "") == "1",
        db_pool_size=db_pool_size(env),
        trim_interval=float(env.get("PIKSEND_TRIM_INTERVAL", "300")),
        image_decodes=_int(env, "PIKSEND_IMAGE_DECODES", Settings.image_decodes),
        webhook_poll_interval=float(env.get("PIKSEND_WEBHOOK_POLL_INTERVAL", "2")),
        webhook_backoff_base=float(env.get("PIKSEND_WEBHOOK_BACKOFF_BASE", "30")),
        webhook_max_attempts=int(env.get("PIKSEND_WEBHOOK_MAX_ATTEMPTS", "8")),
        sqlite_busy_timeout=float(env.get("PIKSEND_SQLITE_BUSY_TIMEOUT", "5")),
        readiness_cache_seconds=float(env.get("PIKSEND_READINESS_CACHE_SECONDS", "1")),
        readiness_min_free_bytes=int(env.get("PIKSEND_READINESS_MIN_FREE_BYTES", "16777216")),
        db_connect_timeout=float(env.get("PIKSEND_DB_CONNECT_TIMEOUT", "5")),
        webhook_lease=float(env.get("PIKSEND_WEBHOOK_LEASE", "10")),
        blob_sweep_grace=float(env.get("PIKSEND_BLOB_SWEEP_GRACE", "3600")),
        blob_sweep_batch=int(env.get("PIKSEND_BLOB_SWEEP_BATCH", "500")),
        blob_url=env.get("PIKSEND_BLOB_URL") or None,
        smtp_url=env.get("PIKSEND_SMTP_URL") or None,
        mail_from=env.get("PIKSEND_MAIL_FROM") or f"PikSend <no-reply@{_mail_host(url)}>",
        mail_poll_interval=float(env.get("PIKSEND_MAIL_POLL_INTERVAL", "2")),
        mail_backoff_base=float(env.get("PIKSEND_MAIL_BACKOFF_BASE", "30")),
        mail_max_attempts=int(env.get("PIKSEND_MAIL_MAX_ATTEMPTS", "8")),
        dynamic_registration=dynamic_registration(env.get("PIKSEND_DYNAMIC_REGISTRATION", "")),
        dynamic_client_ttl=int(env.get("PIKSEND_DYNAMIC_CLIENT_TTL", "3")),
        trusted_proxies=trusted_proxies(env.get("PIKSEND_TRUSTED_PROXIES", "")),
        redis_url=env.get("PIKSEND_REDIS_URL") or None,
        refresh_grace_seconds=refresh_grace_seconds(env.get("PIKSEND_REFRESH_GRACE_SECONDS", "")),
        signin_window=_int(env, "PIKSEND_SIGNIN_WINDOW", Settings.signin_window),
        signin_max_per_address=_int(
            env, "PIKSEND_SIGNIN_MAX_PER_ADDRESS", Settings.signin_max_per_address
        ),
        signin_max_per_account_and_address=_int(
            env,
            "PIKSEND_SIGNIN_MAX_PER_ACCOUNT_AND_ADDRESS",
            Settings.signin_max_per_account_and_address,
        ),
        signin_max_per_account=_int(
            env, "PIKSEND_SIGNIN_MAX_PER_ACCOUNT", Settings.signin_max_per_account
        ),
        device_cookie_ttl=_int(env, "PIKSEND_DEVICE_COOKIE_TTL", Settings.device_cookie_ttl),
        signups_per_address=_int(env, "PIKSEND_SIGNUPS_PER_ADDRESS", Settings.signups_per_address),
        resets_per_address=_int(env, "PIKSEND_RESETS_PER_ADDRESS", Settings.resets_per_address),
        request_window=_int(env, "PIKSEND_REQUEST_WINDOW", Settings.request_window),
        metrics_token=env.get("PIKSEND_METRICS_TOKEN") or None,
        **_limits_from_env(env),
        session_idle_days=_int(env, "PIKSEND_SESSION_IDLE_DAYS", Settings.session_idle_days),
        session_max_days=_int(env, "PIKSEND_SESSION_MAX_DAYS", Settings.session_max_days),
        security_log_days=_int(env, "PIKSEND_SECURITY_LOG_DAYS", Settings.security_log_days),
    )


_LIMITS = {  # issue 15: rate limits, quotas and grant lifetimes (README "Configuration")
    "client_auth_failures_per_client": "PIKSEND_CLIENT_AUTH_FAILURES_PER_CLIENT",
    "client_auth_failures_per_address": "PIKSEND_CLIENT_AUTH_FAILURES_PER_ADDRESS",
    "client_auth_window": "PIKSEND_CLIENT_AUTH_WINDOW",
    "api_requests_per_token": "PIKSEND_API_REQUESTS_PER_TOKEN",
    "api_requests_per_app": "PIKSEND_API_REQUESTS_PER_APP",
    "api_window": "PIKSEND_API_WINDOW",
    "webhooks_per_app": "PIKSEND_WEBHOOKS_PER_APP",
    "webhook_tests_per_minute": "PIKSEND_WEBHOOK_TESTS_PER_MINUTE",
    "uploads_per_hour": "PIKSEND_UPLOADS_PER_HOUR",
    "upload_bytes_per_hour": "PIKSEND_UPLOAD_BYTES_PER_HOUR",
    "storage_quota_bytes": "PIKSEND_STORAGE_QUOTA_BYTES",
    "grant_max_age": "PIKSEND_GRANT_MAX_AGE",
    "refresh_token_ttl": "PIKSEND_GRANT_IDLE_TIMEOUT",
}


def _limits_from_env(env) -> dict[str, Any]:
    values: dict[str, Any] = {
        field: _int(env, name, getattr(Settings, field)) for field, name in _LIMITS.items()
    }
    values["api_limit_me"] = env.get("PIKSEND_API_LIMIT_ME", "") == "1"
    return values


def refresh_grace_seconds(value: str) -> int:
    """PIKSEND_REFRESH_GRACE_SECONDS: whole seconds, 0 (grace retries off) or more."""
    seconds = int(value) if value.strip() else Settings.refresh_grace_seconds
    if seconds < 0:
        raise ValueError("PIKSEND_REFRESH_GRACE_SECONDS must be 0 or more")
    return seconds


def trusted_proxies(value: str) -> tuple[str, ...]:
    """Comma-separated CIDRs (or single addresses); a typo stops the start, never trusts."""
    networks = []
    for item in value.split(","):
        if item.strip():
            try:
                networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError:
                message = f"PIKSEND_TRUSTED_PROXIES: {item.strip()!r} is not a CIDR"
                raise ValueError(message) from None
    return tuple(networks)


def _int(env, name: str, default: int) -> int:
    return int(env[name]) if env.get(name) else default


def dynamic_registration(value: str) -> str:
    """PIKSEND_DYNAMIC_REGISTRATION: off, public (the default) or open."""
    value = value.strip().lower() or "public"
    if value not in ("off", "public", "open"):
        raise ValueError("PIKSEND_DYNAMIC_REGISTRATION must be off, public or open")
    return value


def _mail_host(public_url: str) -> str:
    """The domain of the default sender address: the public URL's host (a name, not an IP)."""
    host = urlsplit(public_url).hostname or "localhost"
    return "localhost" if host.replace(".", "").isdigit() or ":" in host else host


def db_pool_size(env) -> int:
    """Connections per worker process: PIKSEND_DB_POOL_SIZE, else the total budget
    PIKSEND_DB_MAX_CONNECTIONS (default 40, well under PostgreSQL's default 100) shared
    among the PIKSEND_WORKERS processes that ``serve --workers`` starts."""
    if env.get("PIKSEND_DB_POOL_SIZE"):
        return max(1, int(env["PIKSEND_DB_POOL_SIZE"]))
    budget = int(env.get("PIKSEND_DB_MAX_CONNECTIONS", "40"))
    workers = max(1, int(env.get("PIKSEND_WORKERS", "1")))
    return max(2, budget // workers)

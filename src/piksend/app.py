"""The composition root: ``create_app(settings)`` wires everything, once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from piksend import __version__
from piksend.accounts.throttle import SignInThrottle, ThrottlePolicy
from piksend.clients.metadata_documents import DocumentPolicy, MetadataDocuments
from piksend.clock import utcnow
from piksend.gallery.blob_sweep import BlobSweeper, SweepPolicy
from piksend.gallery.blobs import open_blob_store
from piksend.gallery.delivery import DeliveryPolicy, DeliveryWorker
from piksend.gallery.media import Decoder
from piksend.gallery.stats import trim_visitors
from piksend.mail.transports import transport_for
from piksend.mail.worker import MailPolicy, MailWorker
from piksend.oauth.types import TokenPolicy
from piksend.settings import Settings
from piksend.storage.counters import Counters, build_counters
from piksend.storage.engine import Database
from piksend.storage.maintenance import (
    TrimPolicy,
    trim_dead_sessions,
    trim_forever,
    trim_security_log,
    trim_unauthorized_clients,
)
from piksend.web import ops
from piksend.web.auth import SignInRequired, answer_sign_in_required
from piksend.web.context import AppContext
from piksend.web.cors import CorsMiddleware
from piksend.web.errors import install_error_handlers
from piksend.web.hot import HotFront, HotRoutes, PiksendApp, hot_routes
from piksend.web.json_body import UniqueJsonKeysMiddleware
from piksend.web.mcp import build_mcp
from piksend.web.routes import (
    account,
    api_v1,
    app_logos,
    apps_api,
    connected_apps,
    docs,
    gallery_pages,
    integration,
    oauth,
    pages,
    portal,
    registration,
    resource_metadata,
    security,
)
from piksend.web.routes.api_docs import install_openapi
from piksend.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware

log = logging.getLogger("piksend")
WEB = Path(__file__).parent / "web"


def sign_in_throttle(settings: Settings, counters: Counters) -> SignInThrottle:
    policy = ThrottlePolicy(
        window=settings.signin_window,
        per_address=settings.signin_max_per_address,
        per_account_and_address=settings.signin_max_per_account_and_address,
        per_account=settings.signin_max_per_account,
        signups_per_address=settings.signups_per_address,
        resets_per_address=settings.resets_per_address,
        request_window=settings.request_window,
        device_ttl=settings.device_cookie_ttl,
    )
    return SignInThrottle(counters, policy, secret_key=settings.secret_key)


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        busy_timeout=settings.sqlite_busy_timeout,
        connect_timeout=settings.db_connect_timeout,
    )
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    policy = TokenPolicy(
        issuer=settings.issuer,
        access_token_ttl=settings.access_token_ttl,
        refresh_token_ttl=settings.refresh_token_ttl,
        code_ttl=settings.code_ttl,
        grant_max_age=settings.grant_max_age,
        refresh_grace_seconds=settings.refresh_grace_seconds,
    )

    metrics = ops.build_metrics()
    throttle = sign_in_throttle(settings, build_counters(db, settings.redis_url))
    blobs = open_blob_store(settings.blob_url, settings.data_dir)
    decoder = Decoder(concurrency=settings.image_decodes)
    worker = DeliveryWorker(
        db,
        policy=DeliveryPolicy(
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_base,
            backoff_cap=settings.webhook_backoff_cap,
            timeout=settings.webhook_timeout,
            lease=settings.webhook_lease,
            allow_private=settings.webhooks_allow_private_targets,
        ),
        clock=clock,
        poll_interval=settings.webhook_poll_interval,
    )
    mailer = MailWorker(
        db,
        transport=transport_for(
            settings.smtp_url, data_dir=settings.data_dir, timeout=settings.mail_timeout
        ),
        policy=MailPolicy(
            sender=settings.mail_from,
            max_attempts=settings.mail_max_attempts,
            backoff_base=settings.mail_backoff_base,
            timeout=settings.mail_timeout,
        ),
        clock=clock,
        poll_interval=settings.mail_poll_interval,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        trimmer = None
        if settings.trim_interval > 0:
            policy = TrimPolicy(
                interval=settings.trim_interval,
                unauthorized_client_ttl=timedelta(days=settings.dynamic_client_ttl),
            )
            # Every counter's window is at most this long (sign-in, sign-up, resets, registration,
            # and web/rate_limits.py's, whose longest fixed window is an hour).
            counted_for = timedelta(
                seconds=max(
                    settings.signin_window,
                    settings.request_window,
                    settings.client_auth_window,
                    settings.api_window,
                    3600,
                )
            )
            sweeper = BlobSweeper(
                db,
                blobs,
                SweepPolicy(grace=settings.blob_sweep_grace, batch=settings.blob_sweep_batch),
            )
            trimmer = asyncio.create_task(
                trim_forever(
                    db,
                    clock=clock,
                    policy=policy,
                    sweeps=[
                        sweeper.sweep,
                        lambda: trim_unauthorized_clients(db, now=clock(), policy=policy),
                        lambda: trim_security_log(
                            db,
                            now=clock(),
                            keep=timedelta(days=settings.security_log_days),
                            policy=policy,
                        ),
                        lambda: trim_dead_sessions(
                            db,
                            now=clock(),
                            idle=timedelta(days=settings.session_idle_days),
                            absolute=timedelta(days=settings.session_max_days),
                            policy=policy,
                        ),
                        lambda: throttle.counters.sweep(before=clock() - counted_for),
                        lambda: trim_visitors(db, today=clock().date()),
                    ],
                )
            )
        if settings.webhook_worker_enabled:
            worker.start()
        if settings.mail_worker_enabled:
            mailer.start()
        try:
            async with mcp.run():  # the MCP transport's task group (stateless: per request)
                yield
        finally:
            await mailer.stop()
            await worker.stop()
            if trimmer is not None:
                trimmer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await trimmer
            await throttle.counters.close()
            decoder.close()
            await blobs.close()
            await db.dispose()
            access_log = getattr(_app, "access_log", None)
            if access_log is not None:
                access_log.close()  # what the last requests logged reaches the log

    app = PiksendApp(
        title="PikSend API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # /api/docs is piksend's own page (web/routes/api_docs.py)
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.ctx = AppContext(
        settings=settings,
        db=db,
        templates=templates,
        policy=policy,
        clock=clock,
        blobs=blobs,
        throttle=throttle,
        decoder=decoder,
    )
    mcp = build_mcp(app.state.ctx)
    app.state.mcp = mcp
    app.router.routes.append(mcp.route)  # MCP Streamable HTTP at /mcp
    app.state.webhook_worker = worker
    app.state.mail_worker = mailer
    app.state.metrics = metrics
    app.state.metadata_documents = MetadataDocuments(
        DocumentPolicy(
            timeout=settings.metadata_document_timeout,
            allow_private=settings.webhooks_allow_private_targets,
            cache_size=settings.metadata_document_cache_size,
            min_ttl=settings.metadata_document_min_ttl,
            max_ttl=settings.metadata_document_max_ttl,
        )
    )
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    # HTML pages, health and metrics are not part of the API contract (/api/openapi.json).
    for router in (
        ops.router,
        pages.router,
        account.router,
        integration.router,  # before portal.router: /settings/oauth/test-callback is no app's id
        portal.router,
        connected_apps.router,
        security.router,
        docs.router,
        apps_api.router,
        registration.router,
        resource_metadata.router,
        app_logos.router,
    ):
        app.include_router(router, include_in_schema=False)
    app.add_exception_handler(SignInRequired, answer_sign_in_required)
    for router in (oauth.router, api_v1.router, gallery_pages.router):
        app.include_router(router)
    # Innermost first: the routes marked @hot skip FastAPI's router, not the middlewares below.
    hot = hot_routes(app.routes)
    app.add_middleware(HotRoutes, owner=app, routes=hot)
    app.add_middleware(UniqueJsonKeysMiddleware)  # the hot routes read theirs in web.params
    app.add_middleware(CorsMiddleware, db=db)  # outside the hot dispatch: preflights first
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes + 64 * 1024,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(ops.MetricsMiddleware, metrics=metrics)  # outermost: times everything
    # Ahead of all of it, the hot routes' plain requests (web/hot.py): the same answers.
    app.hot_front = HotFront(
        app, hot, metrics=metrics, body_limit=settings.max_body_bytes, hsts=settings.secure_cookies
    )
    install_openapi(app)
    install_error_handlers(app)
    return app

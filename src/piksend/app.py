"""The composition root: ``create_app(settings)`` wires everything, once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from piksend import __version__
from piksend.clock import utcnow
from piksend.errors import DomainError
from piksend.gallery.blobs import LocalBlobStore
from piksend.gallery.delivery import DeliveryPolicy, DeliveryWorker
from piksend.mail.transports import transport_for
from piksend.mail.worker import MailPolicy, MailWorker
from piksend.oauth.errors import BearerTokenError, OAuthError
from piksend.oauth.types import TokenPolicy
from piksend.settings import Settings
from piksend.storage.engine import Database
from piksend.storage.maintenance import TrimPolicy, trim_forever
from piksend.web import ops
from piksend.web.auth import SignInRequired, answer_sign_in_required
from piksend.web.context import AppContext
from piksend.web.cors import CorsMiddleware
from piksend.web.hot import HotRoutes, hot_routes
from piksend.web.render import bearer_error_json, error_page, json_error, oauth_error_json
from piksend.web.routes import (
    account,
    api_v1,
    apps_api,
    connected_apps,
    docs,
    gallery_pages,
    integration,
    oauth,
    pages,
    portal,
)
from piksend.web.routes.api_docs import install_openapi
from piksend.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware

log = logging.getLogger("piksend")
WEB = Path(__file__).parent / "web"
NUL_IN_TEXT = "22021"  # PostgreSQL character_not_in_repertoire


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") and not path.startswith("/api/oauth/authorize")


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    policy = TokenPolicy(
        issuer=settings.issuer,
        access_token_ttl=settings.access_token_ttl,
        refresh_token_ttl=settings.refresh_token_ttl,
        code_ttl=settings.code_ttl,
    )

    metrics = ops.build_metrics()
    blobs = LocalBlobStore(settings.data_dir / "blobs")
    worker = DeliveryWorker(
        db,
        policy=DeliveryPolicy(
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_base,
            backoff_cap=settings.webhook_backoff_cap,
            timeout=settings.webhook_timeout,
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
            policy = TrimPolicy(interval=settings.trim_interval)
            trimmer = asyncio.create_task(trim_forever(db, clock=clock, policy=policy))
        if settings.webhook_worker_enabled:
            worker.start()
        if settings.mail_worker_enabled:
            mailer.start()
        try:
            yield
        finally:
            await mailer.stop()
            await worker.stop()
            if trimmer is not None:
                trimmer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await trimmer
            await db.dispose()

    app = FastAPI(
        title="PikSend API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.ctx = AppContext(
        settings=settings, db=db, templates=templates, policy=policy, clock=clock, blobs=blobs
    )
    app.state.webhook_worker = worker
    app.state.mail_worker = mailer
    app.state.metrics = metrics
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    # HTML pages, health and metrics are not part of the API contract (/api/openapi.json).
    for router in (
        ops.router,
        pages.router,
        account.router,
        integration.router,  # before portal.router: /settings/oauth/test-callback is no app's id
        portal.router,
        connected_apps.router,
        docs.router,
        apps_api.router,
    ):
        app.include_router(router, include_in_schema=False)
    app.add_exception_handler(SignInRequired, answer_sign_in_required)
    for router in (oauth.router, api_v1.router, gallery_pages.router):
        app.include_router(router)
    # Innermost first: the routes marked @hot skip FastAPI's router, not the middlewares below.
    app.add_middleware(HotRoutes, owner=app, routes=hot_routes(app.routes))
    app.add_middleware(CorsMiddleware, db=db)  # outside the hot dispatch: preflights first
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes + 64 * 1024,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ops.MetricsMiddleware, metrics=metrics)  # outermost: times everything
    install_openapi(app)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OAuthError)
    async def _oauth(request: Request, exc: OAuthError):
        return oauth_error_json(exc)

    @app.exception_handler(BearerTokenError)
    async def _bearer(request: Request, exc: BearerTokenError):
        return bearer_error_json(exc)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        if _wants_json(request):
            extra = {"field": exc.field} if exc.field else {}
            return json_error(exc.code, exc.description, exc.status, **extra)
        return error_page(request, exc.description, status=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        description = "; ".join(problems) or "The request is invalid"
        if _wants_json(request):
            return json_error("invalid_request", description, 400)
        return error_page(request, description, status=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        messages = {404: "Not found", 405: "Method not allowed"}
        description = messages.get(exc.status_code, str(exc.detail))
        if _wants_json(request) or request.url.path.startswith("/.well-known/"):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
            response = json_error(code, description, exc.status_code)
        else:
            response = error_page(request, description, status=exc.status_code, title=description)
        # RFC 9110 §15.5.6: a 405 names the methods that are allowed (Starlette puts them here).
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError):
        # PostgreSQL text cannot hold NUL (SQLSTATE 22021): such a value came from the
        # request, so it is the client's error, not the server's.
        if getattr(exc.orig, "sqlstate", None) == NUL_IN_TEXT:
            description = "The request contains a NUL character"
            if _wants_json(request):
                return json_error("invalid_request", description, 400)
            return error_page(request, description, status=400)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return json_error("server_error", "The server met an unexpected error", 500)
        return error_page(request, "The server met an unexpected error.", status=500)

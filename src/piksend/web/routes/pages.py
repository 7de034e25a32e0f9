"""People's pages: home, sign-up, sign-in, sign-out."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from piksend.accounts import security_log, sessions
from piksend.accounts import service as accounts
from piksend.accounts import signup as registration
from piksend.errors import TooManyRequests, ValidationError
from piksend.oauth.scopes import SCOPES
from piksend.web import csrf
from piksend.web.auth import (
    clear_session_cookie,
    load_user,
    safe_next,
    seen,
    session_cookie_name,
    set_session_cookie,
)
from piksend.web.client_address import client_address, client_network
from piksend.web.context import ctx
from piksend.web.device_cookie import read_device_cookie, set_device_cookie
from piksend.web.render import page, see_other

router = APIRouter()

MAX_FIELD = 4096


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded or multipart form as single values; CSRF checked before anything else."""
    form = await request.form(max_files=0, max_fields=200)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    c = ctx(request)
    csrf.verify(request, values.get("csrf_token"), c.settings.secret_key, c.settings.secure_cookies)
    return {k: v[:MAX_FIELD] for k, v in values.items()}


@router.get("/")
async def home(request: Request):
    async with ctx(request).db.unit_of_work() as s:
        await load_user(request, s)
    return page(request, "home.html", scopes=SCOPES)


@router.get("/signup")
async def signup_form(request: Request, next: str | None = None):
    async with ctx(request).db.unit_of_work() as s:
        await load_user(request, s)
    return page(
        request, "account/signup.html", no_store=True, next=safe_next(next), values={}, errors={}
    )


@router.post("/signup")
async def signup(request: Request):
    form = await read_form(request)
    c = ctx(request)
    # Counted before anything else, per client address; over the limit: TooManyRequests (429).
    await c.throttle.limit_signup(address=client_network(request), now=c.now())
    nxt = safe_next(form.get("next"))
    values = {"name": form.get("name", ""), "email": form.get("email", "")}
    errors = accounts.validate_signup(
        email=values["email"], password=form.get("password", ""), name=values["name"]
    )
    if not errors:
        try:
            async with c.db.unit_of_work() as s:
                await registration.sign_up(
                    s,
                    email=values["email"],
                    password=form.get("password", ""),
                    name=values["name"],
                    base_url=c.settings.public_url,
                    now=c.now(),
                )
        except ValidationError as exc:
            errors = {exc.field or "email": exc.description}
    if errors:
        return page(
            request,
            "account/signup.html",
            status=400,
            no_store=True,
            next=nxt,
            values=values,
            errors=errors,
        )
    # The same answer whether or not the address had an account (the e-mail tells its owner):
    # no session here, since the visitor has not shown they own an existing account.
    return page(
        request,
        "account/signup_sent.html",
        no_store=True,
        next=nxt,
        email=accounts.normalise_email(values["email"]),
    )


@router.get("/login")
async def login_form(request: Request, next: str | None = None):
    async with ctx(request).db.unit_of_work() as s:
        await load_user(request, s)
    return page(
        request, "account/login.html", no_store=True, next=safe_next(next), email="", error=None
    )


@router.post("/login")
async def login(request: Request):
    form = await read_form(request)
    c = ctx(request)
    nxt = safe_next(form.get("next"))
    email = form.get("email", "")
    try:
        user = await accounts.authenticate(
            c.db,
            c.throttle,
            email=email,
            password=form.get("password", ""),
            address=client_network(request),
            device=read_device_cookie(request),
            now=c.now(),
        )
    except TooManyRequests as exc:
        refused = page(
            request,
            "account/login.html",
            status=429,
            no_store=True,
            next=nxt,
            email=email,
            error=exc.description,
        )
        # RFC 6585 §4: at most one window from now, the attempt is counted afresh.
        refused.headers["Retry-After"] = str(c.throttle.policy.window)
        return refused
    if user is None:
        async with c.db.unit_of_work() as s:
            await security_log.record_failed_sign_in(
                s, email=email, seen=seen(request), now=c.now()
            )
        return page(
            request,
            "account/login.html",
            status=400,
            no_store=True,
            next=nxt,
            email=email,
            error="Invalid email or password",
        )
    async with c.db.unit_of_work() as s:
        session_value = await accounts.start_session(
            s, user_id=user.id, now=c.now(), ttl=c.settings.session_ttl
        )
        await sessions.describe_new(
            s,
            session_value,
            address=client_address(request),
            user_agent=request.headers.get("user-agent"),
            now=c.now(),
        )
        await security_log.record(
            s, user_id=user.id, kind=security_log.Kind.SIGNED_IN, seen=seen(request), now=c.now()
        )
    response = see_other(nxt)
    set_session_cookie(request, response, session_value)
    set_device_cookie(request, response, account_id=user.id)
    return response


@router.post("/logout")
async def logout(request: Request):
    await read_form(request)
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        await accounts.end_session(
            s, request.cookies.get(session_cookie_name(c.settings.secure_cookies))
        )
    response = see_other("/")
    clear_session_cookie(request, response)
    return response

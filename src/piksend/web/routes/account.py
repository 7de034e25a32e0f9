"""Account pages: confirming an address, the forgotten-password flow, changing the password and
the address. Links from e-mails open a page with a button (a GET changes nothing, so a mail
scanner that follows links uses no token); the tokens are never logged nor sent as referrers."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from piksend.accounts import password_reset, security_log, verification
from piksend.accounts.links import Purpose, is_usable
from piksend.errors import ValidationError
from piksend.web.auth import SignedIn, clear_session_cookie, load_user, seen, session_cookie_name
from piksend.web.client_address import client_network
from piksend.web.context import ctx
from piksend.web.render import page, see_other
from piksend.web.routes.pages import read_form

router = APIRouter()

NO_REFERRER = {"referrer-policy": "no-referrer"}


def _notice(request: Request, title: str, *paragraphs: str, link=None, status: int = 200):
    return page(
        request,
        "account/notice.html",
        status=status,
        no_store=True,
        headers=NO_REFERRER,
        title=title,
        paragraphs=paragraphs,
        link=link,
    )


def _invalid_link(request: Request, what: str, retry_href: str):
    return _notice(
        request,
        "This link no longer works",
        f"The {what} link was already used, has expired or is not one we sent.",
        link={"href": retry_href, "text": "Ask for a new link"},
        status=400,
    )


# -- verifying an address --------------------------------------------------------------------


@router.get("/verify")
async def verify_form(request: Request, token: str = ""):
    c = ctx(request)
    async with c.db.reader() as s:
        await load_user(request, s)
        usable = await is_usable(s, token, purpose=Purpose.VERIFY_EMAIL, now=c.now())
    if not usable:
        return _invalid_link(request, "verification", "/settings/email")
    return page(request, "account/verify.html", no_store=True, headers=NO_REFERRER, token=token)


@router.post("/verify")
async def verify(request: Request):
    form = await read_form(request)
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        await load_user(request, s)
        outcome = await verification.verify_address(
            s, form.get("token", ""), now=c.now(), seen=seen(request)
        )
    if outcome is verification.Verified.VERIFIED:
        return _notice(
            request,
            "Your address is verified",
            "Thank you. Apps you connect to PikSend are now told that your address is verified.",
            link={"href": "/", "text": "Continue to PikSend"},
        )
    if outcome is verification.Verified.TAKEN:
        return _notice(
            request,
            "This address cannot be used",
            "Another account uses this address now. Your address was not changed.",
            status=409,
        )
    return _invalid_link(request, "verification", "/settings/email")


# -- a forgotten password --------------------------------------------------------------------


@router.get("/password/forgot")
async def forgot_form(request: Request):
    async with ctx(request).db.reader() as s:
        await load_user(request, s)
    return page(request, "account/forgot.html", no_store=True, email="", error=None)


@router.post("/password/forgot")
async def forgot(request: Request):
    form = await read_form(request)
    c = ctx(request)
    # Counted per client address before anything else; over the limit: TooManyRequests (429).
    await c.throttle.limit_reset_request(address=client_network(request), now=c.now())
    email = form.get("email", "")
    async with c.db.unit_of_work() as s:
        await load_user(request, s)
        await password_reset.request_reset(
            s, email=email, base_url=c.settings.public_url, now=c.now()
        )
    # The same answer for every address: only its owner learns, from the e-mail.
    return _notice(
        request,
        "Check your inbox",
        "If an account uses this address, we sent it a link to choose a new password. "
        "The link works once, for 30 minutes.",
        link={"href": "/login", "text": "Back to sign in"},
    )


@router.get("/password/reset")
async def reset_form(request: Request, token: str = ""):
    c = ctx(request)
    async with c.db.reader() as s:
        await load_user(request, s)
        usable = await is_usable(s, token, purpose=Purpose.RESET_PASSWORD, now=c.now())
    if not usable:
        return _invalid_link(request, "password reset", "/password/forgot")
    return page(
        request, "account/reset.html", no_store=True, headers=NO_REFERRER, token=token, error=None
    )


@router.post("/password/reset")
async def reset(request: Request):
    form = await read_form(request)
    c = ctx(request)
    token = form.get("token", "")
    try:
        async with c.db.unit_of_work() as s:
            done = await password_reset.reset_password(
                s, token=token, password=form.get("password", ""), now=c.now(), seen=seen(request)
            )
    except ValidationError as exc:
        return page(
            request,
            "account/reset.html",
            status=400,
            no_store=True,
            headers=NO_REFERRER,
            token=token,
            error=exc.description,
        )
    if not done:
        return _invalid_link(request, "password reset", "/password/forgot")
    request.state.user = None
    response = _notice(
        request,
        "Your password was changed",
        "You were signed out everywhere. Sign in with your new password.",
        link={"href": "/login", "text": "Sign in"},
    )
    clear_session_cookie(request, response)
    return response


# -- settings: the password and the address --------------------------------------------------


@router.get("/settings/password")
async def password_form(request: Request, user: SignedIn):
    return page(request, "account/password.html", no_store=True, errors={}, done=False)


@router.post("/settings/password")
async def change_password(request: Request, user: SignedIn):
    form = await read_form(request)
    c = ctx(request)
    try:
        async with c.db.unit_of_work() as s:
            await password_reset.change_password(
                s,
                user_id=user.id,
                current=form.get("current_password", ""),
                new=form.get("new_password", ""),
                keep_session=request.cookies.get(session_cookie_name(c.settings.secure_cookies)),
                base_url=c.settings.public_url,
                now=c.now(),
            )
            changed = security_log.Kind.PASSWORD_CHANGED
            await security_log.record(
                s, user_id=user.id, kind=changed, seen=seen(request), now=c.now()
            )
    except ValidationError as exc:
        errors = {exc.field or "new_password": exc.description}
        return page(
            request, "account/password.html", status=400, no_store=True, errors=errors, done=False
        )
    return page(request, "account/password.html", no_store=True, errors={}, done=True)


@router.get("/settings/email")
async def email_form(request: Request, user: SignedIn):
    return page(request, "account/email.html", no_store=True, values={}, errors={})


@router.post("/settings/email")
async def change_email(request: Request, user: SignedIn):
    form = await read_form(request)
    c = ctx(request)
    try:
        async with c.db.unit_of_work() as s:
            new_email = await verification.request_address_change(
                s,
                user_id=user.id,
                password=form.get("password", ""),
                new_email=form.get("email", ""),
                base_url=c.settings.public_url,
                now=c.now(),
            )
    except ValidationError as exc:
        return page(
            request,
            "account/email.html",
            status=400,
            no_store=True,
            values={"email": form.get("email", "")},
            errors={exc.field or "email": exc.description},
        )
    return _notice(
        request,
        "Check the new inbox",
        f"We sent a link to {new_email}. Your address changes when you open it; "
        "until then it stays as it is.",
        link={"href": "/settings/email", "text": "Back to your address"},
    )


@router.post("/settings/email/resend")
async def resend(request: Request, user: SignedIn):
    await read_form(request)
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        await verification.resend_verification(
            s, user_id=user.id, base_url=c.settings.public_url, now=c.now()
        )
    return see_other("/settings/email/sent")


@router.get("/settings/email/sent")
async def resent(request: Request, user: SignedIn):
    return _notice(
        request,
        "Check your inbox",
        f"If {user.email} is not verified yet, we sent it a new link.",
        link={"href": "/settings/email", "text": "Back to your address"},
    )

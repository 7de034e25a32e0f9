"""/settings/security (issue 14, item 5): the account's signed-in sessions, signing out one
or every other one, and the security log, a page at a time or as a JSON download.

Every form carries the CSRF token (``PostedForm``); the pages and the download are no-store.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from piksend.accounts import security_log, sessions
from piksend.errors import NotFound
from piksend.web.auth import SignedIn, seen, session_policy
from piksend.web.context import ctx
from piksend.web.render import page, see_other
from piksend.web.security import NO_STORE
from piksend.web.views import PostedForm, text, when

router = APIRouter()


def _current(request: Request) -> str:
    return getattr(request.state, "session_digest", None) or ""


@router.get("/settings/security")
async def security_page(
    request: Request, user: SignedIn, after: str | None = None, done: str | None = None
) -> Response:
    c = ctx(request)
    async with c.db.reader() as s:
        live = await sessions.list_sessions(
            s,
            user_id=user.id,
            current=_current(request),
            now=c.now(),
            policy=session_policy(request),
        )
        events = await security_log.list_events(s, user_id=user.id, cursor=after)
    return page(
        request,
        "settings/security.html",
        no_store=True,
        done=done,
        sessions=[
            {"session": v, "signed_in": when(v.signed_in_at), "last_seen": when(v.last_seen_at)}
            for v in live
        ],
        events=[{"event": e, "at": when(e.at)} for e in events.events],
        next_cursor=events.next_cursor,
        first_page=after is None,
        log_days=c.settings.security_log_days,
    )


@router.post("/settings/security/sessions/sign-out")
async def sign_out_one(request: Request, form: PostedForm, user: SignedIn) -> Response:
    c = ctx(request)
    handle = text(form, "session")
    if handle == _current(request):
        return see_other("/settings/security?done=current")  # this one: the Sign out button
    async with c.db.unit_of_work() as s:
        ended = await sessions.sign_out(s, user_id=user.id, handle=handle)
        if ended:
            kind = security_log.Kind.SESSION_ENDED
            await security_log.record(
                s, user_id=user.id, kind=kind, seen=seen(request), now=c.now()
            )
    if not ended:
        raise NotFound("This session has already ended")
    return see_other("/settings/security?done=one")


@router.post("/settings/security/sessions/sign-out-others")
async def sign_out_others(request: Request, _form: PostedForm, user: SignedIn) -> Response:
    c = ctx(request)
    async with c.db.unit_of_work() as s:
        ended = await sessions.sign_out_others(s, user_id=user.id, current=_current(request))
        kind = security_log.Kind.OTHER_SESSIONS_ENDED
        await security_log.record(
            s, user_id=user.id, kind=kind, seen=seen(request), now=c.now(), details={"ended": ended}
        )
    return see_other("/settings/security?done=others")


@router.get("/settings/security/log.json")
async def download_log(request: Request, user: SignedIn) -> Response:
    async with ctx(request).db.reader() as s:
        document = await security_log.export(s, user_id=user.id)
    headers = {
        **NO_STORE,
        "content-disposition": 'attachment; filename="piksend-security-log.json"',
    }
    return JSONResponse(document, headers=headers)

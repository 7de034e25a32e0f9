"""What every request handler reaches through ``request.app.state``: built once in create_app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from piksend.accounts.throttle import SignInThrottle
from piksend.gallery.blobs import BlobStore
from piksend.gallery.media import Decoder
from piksend.oauth.types import TokenPolicy
from piksend.settings import Settings
from piksend.storage.engine import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    templates: Jinja2Templates
    policy: TokenPolicy
    clock: Callable[[], datetime]
    blobs: BlobStore
    throttle: SignInThrottle
    decoder: Decoder  # issue 15: the process's bounded image decodes

    def now(self) -> datetime:
        return self.clock()


def ctx(request: Request) -> AppContext:
    return request.app.state.ctx

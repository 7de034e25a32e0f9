"""One parser for the token, revocation and introspection endpoints.

RFC 6749 §3.2 and §4.1.3 define ``application/x-www-form-urlencoded`` bodies; the PikSend
docs also send JSON. Both become one canonical ``dict[str, str]``. RFC 6749 §3.1: a parameter
must not appear more than once, and one sent without a value counts as omitted.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from piksend.oauth.errors import InvalidRequestError
from piksend.web.json_body import DuplicateKeyError, loads_unique

MAX_VALUE_LENGTH = 4096
SECRET_PARAMS = frozenset({"client_secret", "code_verifier", "refresh_token", "token", "code"})


def _add(params: dict[str, str], name: str, value: str) -> None:
    if name in params:
        raise InvalidRequestError(f"Parameter {name} was given more than once")
    if len(name) > 100:
        raise InvalidRequestError("Parameter name is too long")
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidRequestError(f"Parameter {name} is too long")
    params[name] = value


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


async def read_params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            data = loads_unique(body.decode("utf-8")) if body else {}
        except DuplicateKeyError as exc:
            # RFC 6749 §3.1/§3.2 for the form holds for its JSON twin: a key given twice is
            # refused rather than read as "the last one wins".
            raise InvalidRequestError(f"Parameter {exc.key} was given more than once") from None
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
            raise InvalidRequestError("The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidRequestError("The JSON body must be an object")
        for name, value in data.items():
            if value is None:
                continue
            if not isinstance(value, str):
                raise InvalidRequestError(f"Parameter {name} must be a string")
            if not (name + value).isascii() and not _is_text(name + value):
                # RFC 8259 §8.2: "\ud800" is valid JSON but no Unicode text; nothing can store,
                # hash or compare it, so it is the client's error, not the server's.
                raise InvalidRequestError("The JSON body holds a string that is not valid text")
            _add(params, name, value)
    elif media_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                errors="strict",
                max_num_fields=100,
            )
        except (UnicodeDecodeError, ValueError):
            raise InvalidRequestError("The request body is not valid form data") from None
        for name, value in pairs:
            _add(params, name, value)
    elif body:
        raise InvalidRequestError(
            "Content-Type must be application/x-www-form-urlencoded or application/json"
        )
    # The raw query string: building request.url (host parsing and all) costs more here.
    query = request.scope.get("query_string", b"").decode("utf-8", "replace")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in SECRET_PARAMS:
            # RFC 6749 §2.3.1 and §3.2: credentials and secrets never travel in the URI.
            raise InvalidRequestError(f"Parameter {name} must be sent in the request body")
        _add(params, name, value)
    # RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    return {name: value for name, value in params.items() if value != ""}

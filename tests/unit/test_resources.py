"""Resource indicators, RFC 8707 §2 and §2.2, and the rule of piksend.oauth.resources: a token
is bound to exactly one resource and each resource accepts only tokens bound to itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from piksend.oauth import authorization, resources, tokens
from piksend.oauth.bearer import authenticate_bearer
from piksend.oauth.errors import BearerTokenError, InvalidTargetError
from piksend.oauth.introspection import introspect
from piksend.oauth.pkce import s256
from piksend.oauth.resource_metadata import resource_metadata
from piksend.oauth.token_endpoint import handle_token_request
from piksend.oauth.types import PendingAuthorization, TokenKind, TokenRecord
from tests.unit.conftest import NOW, SECRET

ISSUER = "https://auth.example.com"
API = ISSUER + "/api/v1"
MCP = ISSUER + "/mcp"
VERIFIER = "verifier-" + "v" * 40


def test_the_known_resources_are_the_api_and_the_mcp_endpoint():
    assert resources.known_resources(ISSUER) == (API, MCP)
    assert (resources.api_resource(ISSUER), resources.mcp_resource(ISSUER)) == (API, MCP)


@pytest.mark.parametrize(
    ("values", "parsed"), [([], None), ([""], None), ([API], API), ([MCP], MCP)]
)
def test_a_request_names_one_of_our_resources_or_none(values, parsed):
    assert resources.parse_resource(values, ISSUER) == parsed


@pytest.mark.parametrize(
    ("values", "description"),
    [
        (
            ["https://other.example/api/v1"],
            f"Unknown resource; this server's resources are {API} and {MCP}",
        ),
        ([API + "/"], f"Unknown resource; this server's resources are {API} and {MCP}"),
        ([API + "#x"], "resource must be an absolute URI without a fragment"),
        (["api/v1"], "resource must be an absolute URI without a fragment"),
        (["urn:piksend"], "resource must be an absolute URI without a fragment"),
        ([API, MCP], "Name one resource: a token is for exactly one resource"),
        ([API, API], "Name one resource: a token is for exactly one resource"),
    ],
)
def test_anything_else_is_invalid_target(values, description):
    with pytest.raises(InvalidTargetError) as exc:
        resources.parse_resource(values, ISSUER)
    assert exc.value.to_dict() == {"error": "invalid_target", "error_description": description}


@pytest.mark.parametrize(
    ("requested", "recorded", "granted"),
    [(None, MCP, MCP), (MCP, MCP, MCP), (None, "/api/v1", API), (API, "/api/v1", API)],
)
def test_at_the_token_endpoint_the_resource_may_be_repeated_or_omitted(
    requested, recorded, granted
):
    assert resources.narrowed(requested, recorded, ISSUER) == granted


@pytest.mark.parametrize(("requested", "recorded"), [(API, MCP), (MCP, API), (MCP, "/api/v1")])
def test_at_the_token_endpoint_the_resource_never_changes(requested, recorded):
    # RFC 8707 §2.2: never another resource than the grant's (§2: invalid_target).
    with pytest.raises(InvalidTargetError) as exc:
        resources.narrowed(requested, recorded, ISSUER)
    assert exc.value.to_dict() == {
        "error": "invalid_target",
        "error_description": "resource must be the one the authorization was granted for",
    }


@pytest.mark.parametrize(
    ("recorded", "resource", "bound"),
    [
        (API, API, True),
        (MCP, MCP, True),
        (API, MCP, False),
        (MCP, API, False),
        ("/api/v1", API, True),  # a row from before resource indicators: the API's
        ("/api/v1", MCP, False),
    ],
)
def test_a_token_is_for_the_one_resource_it_is_bound_to(recorded, resource, bound):
    assert resources.is_bound_to(recorded, resource) is bound


def test_each_resource_has_its_metadata_at_its_well_known_url():
    assert resources.metadata_url(API) == ISSUER + "/.well-known/oauth-protected-resource/api/v1"
    assert resources.metadata_url(MCP) == ISSUER + "/.well-known/oauth-protected-resource/mcp"


def test_only_our_resources_have_a_metadata_url():
    with pytest.raises(ValueError) as exc:
        resources.metadata_url("https://other.example/photos")
    assert str(exc.value) == "https://other.example/photos is not a resource of this server"


@pytest.mark.parametrize(
    ("recorded", "path", "name"),
    [
        (API, "/api/v1", "the PikSend API"),
        (MCP, "/mcp", "PikSend for AI assistants (MCP)"),
        # A row from before resource indicators records the API's path: the issuer's API.
        ("/api/v1", "/api/v1", "the PikSend API"),
    ],
)
def test_each_recorded_resource_has_its_path_below_the_issuer_and_its_consent_name(
    recorded, path, name
):
    assert resources.path_of(recorded, ISSUER) == path
    assert resources.name_of(recorded, ISSUER) == name


def test_the_metadata_document_names_this_server_for_the_resource():
    assert resource_metadata(MCP, ISSUER) == {
        "resource": MCP,
        "authorization_servers": [ISSUER],
        "scopes_supported": [
            "profile:read",
            "galleries:read",
            "galleries:write",
            "images:read",
            "images:write",
            "stats:read",
            "webhooks:read",
            "webhooks:write",
        ],
        "bearer_methods_supported": ["header"],
        "resource_name": "PikSend for AI assistants (MCP)",
        "resource_documentation": ISSUER + "/docs/oauth",
    }


def authorize_params(**extra):
    base = {
        "client_id": ["client-1"],
        "redirect_uri": ["https://app.example.com/cb"],
        "response_type": ["code"],
        "scope": ["profile:read"],
        "state": ["s"],
        "code_challenge": [s256(VERIFIER)],
        "code_challenge_method": ["S256"],
    }
    return base | extra


async def test_the_authorization_request_records_its_resource_on_the_pending_request(store):
    request = await authorization.validate_request(
        authorize_params(resource=[MCP]), store, issuer=ISSUER
    )
    pending = authorization.new_pending(request, user_id="usr_alice", now=NOW, ttl=600)
    assert (request.resource, pending.resource) == (MCP, MCP)


async def test_no_resource_at_authorize_means_the_api(store):
    request = await authorization.validate_request(authorize_params(), store, issuer=ISSUER)
    assert request.resource == API


async def test_a_foreign_resource_at_authorize_is_redirected_as_invalid_target(store):
    with pytest.raises(authorization.RedirectableAuthorizationError) as exc:
        await authorization.validate_request(
            authorize_params(resource=["https://evil.example/mcp"]), store, issuer=ISSUER
        )
    assert (str(exc.value.error.code), exc.value.state) == ("invalid_target", "s")


async def approved_code(store, policy, resource) -> str:
    pending = PendingAuthorization(
        id="p",
        client_id="client-1",
        user_id="usr_alice",
        redirect_uri="https://app.example.com/cb",
        scope=("profile:read",),
        state=None,
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
        expires_at=NOW + timedelta(minutes=10),
        resource=resource,
    )
    url = await authorization.approve(
        pending, ("profile:read",), grants=store, policy=policy, now=NOW
    )
    return url.split("code=")[1].split("&")[0]


async def exchange(store, policy, code, **extra):
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.example.com/cb",
        "client_id": "client-1",
        "client_secret": SECRET,
        "code_verifier": VERIFIER,
        **extra,
    }
    return await handle_token_request(
        params, None, clients=store, grants=store, policy=policy, now=NOW
    )


async def test_the_code_and_both_tokens_carry_the_resource_of_the_request(store, policy):
    code = await approved_code(store, policy, MCP)
    assert store.codes[tokens.digest(code)].resource == MCP
    issued = await exchange(store, policy, code)
    access = store.tokens[tokens.digest(issued.access_token)]
    refresh = store.tokens[tokens.digest(issued.refresh_token)]
    assert (access.resource, refresh.resource) == (MCP, MCP)


async def test_introspection_returns_the_audience(store, policy):
    issued = await exchange(store, policy, await approved_code(store, policy, MCP))
    body = await introspect(
        {"token": issued.access_token},
        store.clients["client-1"],
        grants=store,
        users=store,
        issuer=ISSUER,
        now=NOW,
    )
    assert body["aud"] == MCP


async def test_a_refresh_naming_another_resource_is_invalid_target(store, policy):
    issued = await exchange(store, policy, await approved_code(store, policy, MCP))
    params = {
        "grant_type": "refresh_token",
        "refresh_token": issued.refresh_token,
        "client_id": "client-1",
        "client_secret": SECRET,
        "resource": API,
    }
    with pytest.raises(InvalidTargetError):
        await handle_token_request(
            params, None, clients=store, grants=store, policy=policy, now=NOW
        )
    # Refused before the claim: the refresh token is not rotated.
    assert store.tokens[tokens.digest(issued.refresh_token)].rotated_at is None


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (API, "resource must be the one the authorization was granted for"),
        ("api/v1", "resource must be an absolute URI without a fragment"),
    ],
)
async def test_a_code_exchange_naming_another_resource_is_invalid_target(
    store, policy, resource, message
):
    # RFC 8707 §2.2: the exchange may repeat the authorization's resource or omit it, never
    # name another (nor something that is no resource).
    code = await approved_code(store, policy, MCP)
    with pytest.raises(InvalidTargetError) as exc:
        await exchange(store, policy, code, resource=resource)
    assert exc.value.description == message
    # Refused before the claim: the code is not used up.
    assert store.codes[tokens.digest(code)].used_at is None
    assert store.tokens == {}


async def test_a_code_exchange_repeating_the_resource_is_bound_to_it(store, policy):
    code = await approved_code(store, policy, MCP)
    issued = await exchange(store, policy, code, resource=MCP)
    assert store.tokens[tokens.digest(issued.access_token)].resource == MCP


def access_token(resource) -> tuple[str, TokenRecord]:
    value = tokens.generate(tokens.Prefix.ACCESS_TOKEN)
    record = TokenRecord(
        digest=tokens.digest(value),
        kind=TokenKind.ACCESS,
        consent_id="cns_1",
        client_id="client-1",
        user_id="usr_alice",
        scope=("profile:read",),
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )
    return value, replace(record, resource=resource)


@pytest.mark.parametrize(("bound", "asked"), [(MCP, API), (API, MCP), ("/api/v1", MCP)])
async def test_a_token_bound_to_another_resource_is_invalid_token_naming_the_metadata(
    store, bound, asked
):
    value, record = access_token(bound)
    await store.save_tokens(record)
    with pytest.raises(BearerTokenError) as exc:
        await authenticate_bearer(
            f"Bearer {value}", grants=store, now=NOW, resource=asked, scope="profile:read"
        )
    assert exc.value.status == 401
    assert exc.value.challenge("piksend") == (
        'Bearer realm="piksend", error="invalid_token", '
        'error_description="The access token is not for this resource", scope="profile:read", '
        f'resource_metadata="{resources.metadata_url(asked)}"'
    )


@pytest.mark.parametrize(("bound", "asked"), [(MCP, MCP), (API, API), ("/api/v1", API)])
async def test_a_token_bound_to_the_resource_is_accepted(store, bound, asked):
    value, record = access_token(bound)
    await store.save_tokens(record)
    found = await authenticate_bearer(f"Bearer {value}", grants=store, now=NOW, resource=asked)
    assert found == record


async def test_a_token_without_the_scope_is_403_naming_it_and_the_metadata(store):
    value, record = access_token(API)
    await store.save_tokens(record)
    with pytest.raises(BearerTokenError) as exc:
        await authenticate_bearer(
            f"Bearer {value}", grants=store, now=NOW, resource=API, scope="stats:read"
        )
    assert (exc.value.status, exc.value.scope, exc.value.resource_metadata) == (
        403,
        "stats:read",
        resources.metadata_url(API),
    )
    # RFC 6750 §3: the challenge names the error, the scope the request needs, and (RFC 9728
    # §5.1) where the resource's metadata is.
    assert exc.value.challenge("piksend") == (
        'Bearer realm="piksend", error="insufficient_scope", '
        'error_description="This request needs the stats:read scope", scope="stats:read", '
        f'resource_metadata="{resources.metadata_url(API)}"'
    )

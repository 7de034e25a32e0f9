"""Apps named by a client ID metadata document: fetched, cached, and kept as a row.

``MetadataDocumentClients`` is a ``ClientStore`` for the authorization request: a ``client_id``
that is an https URL is fetched through ``piksend.fetch.http`` (size and time limits, checked
addresses), turned into a public ``Client`` by ``oauth.client_metadata_document``, and written
to the clients table (the pending request, the consent and the tokens refer to it; the token
endpoint then reads that row like any other app's, with no fetch). Any other ``client_id`` goes
straight to the store.

Documents are cached per process, bounded (least recently used first out), for as long as
their ``Cache-Control: max-age`` says within a floor and a ceiling, and not at all under
``no-store``: a public document, so a per-process cache holds nothing nodes must share.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from piksend.fetch.http import FetchError, fetch_url
from piksend.oauth import client_metadata_document as cimd
from piksend.oauth.errors import UnsafeAuthorizationRequestError
from piksend.oauth.stores import ClientStore
from piksend.oauth.types import Client
from piksend.storage import tables as t

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*no-(?:store|cache)\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentPolicy:
    timeout: float = 5.0
    allow_private: bool = False  # the development setting shared with webhooks
    cache_size: int = 1000
    min_ttl: int = 60
    max_ttl: int = 24 * 3600


def lifetime(headers: Mapping[str, str], policy: DocumentPolicy) -> int:
    """Seconds to keep a document (RFC 9111 §5.2.2): 0 under no-store or no-cache, else its
    max-age held between the policy's floor and ceiling (the floor without one)."""
    control = headers.get("cache-control", "")
    if _NO_STORE.search(control):
        return 0
    found = _MAX_AGE.search(control)
    max_age = int(found.group(1)) if found else policy.min_ttl
    return max(policy.min_ttl, min(policy.max_ttl, max_age))


class DocumentCache:
    """A bounded per-process LRU of fetched documents' clients, each with its expiry."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[datetime, Client]] = OrderedDict()

    def get(self, url: str, now: datetime) -> Client | None:
        entry = self._entries.get(url)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._entries[url]
            return None
        self._entries.move_to_end(url)
        return entry[1]

    def put(self, url: str, client: Client, until: datetime) -> None:
        self._entries[url] = (until, client)
        self._entries.move_to_end(url)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class MetadataDocuments:
    """The app's one cache of documents, and the resolver built per request over it."""

    def __init__(self, policy: DocumentPolicy) -> None:
        self.policy = policy
        self.cache = DocumentCache(policy.cache_size)

    def clients(
        self, store: ClientStore, session: AsyncSession, now: datetime
    ) -> MetadataDocumentClients:
        return MetadataDocumentClients(
            store, session, cache=self.cache, policy=self.policy, now=now
        )


class MetadataDocumentClients:
    """A ``ClientStore`` that resolves https client_ids by their documents (see the module)."""

    def __init__(
        self,
        store: ClientStore,
        session: AsyncSession,
        *,
        cache: DocumentCache,
        policy: DocumentPolicy,
        now: datetime,
    ) -> None:
        self.store = store
        self.session = session
        self.cache = cache
        self.policy = policy
        self.now = now

    async def get_client(self, client_id: str) -> Client | None:
        allow_http = self.policy.allow_private
        if not cimd.names_a_document(client_id, allow_http=allow_http):
            return await self.store.get_client(client_id)
        problem = cimd.url_problem(client_id, allow_http=allow_http)
        if problem is not None:
            raise UnsafeAuthorizationRequestError(f"This app cannot be used: {problem}.")
        client = self.cache.get(client_id, self.now)
        if client is None:
            client = await self._fetch(client_id)
        await self._keep(client)
        return client

    async def _fetch(self, url: str) -> Client:
        try:
            response = await fetch_url(
                url,
                max_bytes=cimd.MAX_DOCUMENT_BYTES,
                timeout=self.policy.timeout,
                allow_private=self.policy.allow_private,
            )
        except FetchError as exc:
            raise _refused(
                f"its client metadata document could not be fetched ({exc.message})"
            ) from None
        if response.status != 200:
            raise _refused(f"its client metadata document answered HTTP {response.status}")
        try:
            client = cimd.client_from_document(url, response.body)
        except cimd.DocumentRefused as exc:
            raise _refused(f"its client metadata document was refused: {exc.reason}") from None
        ttl = lifetime(response.headers, self.policy)
        if ttl > 0:
            self.cache.put(url, client, self.now + timedelta(seconds=ttl))
        return client

    async def _keep(self, client: Client) -> None:
        """The app's row, as the document says now: inserted, or brought up to date."""
        values = {
            "name": client.name,
            "logo_url": client.logo_url,
            "website_url": client.website_url,
            "redirect_uris": list(client.redirect_uris),
            "scopes": " ".join(client.scopes),
            "updated_at": self.now,
        }
        table = t.Client.__table__
        changed = await self.session.execute(
            update(table).where(table.c.id == client.client_id).values(**values)
        )
        if getattr(changed, "rowcount", 0) == 1:
            return
        row = t.Client(
            id=client.client_id,
            owner_id=None,
            registered_via=client.registered_via.value,
            description="",
            client_type=client.client_type.value,
            secret_digest=None,
            created_at=self.now,
            **values,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            pass  # a concurrent first use of this document inserted the same row


def _refused(reason: str) -> UnsafeAuthorizationRequestError:
    return UnsafeAuthorizationRequestError(f"This app cannot be used: {reason}.")

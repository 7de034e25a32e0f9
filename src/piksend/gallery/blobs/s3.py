"""An S3-compatible object store shared by every node (issue 11, item 6).

``PIKSEND_BLOB_URL=s3://bucket/prefix?endpoint=https://…&region=…`` (``endpoint`` and
``region`` optional; path-style addressing with an endpoint, as MinIO and moto need). The
endpoint is the operator's setting, never a user's or an app's, so it is not fetched through
``piksend.fetch``'s SSRF checks. Credentials come from botocore's standard chain (the
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` variables, a profile, an instance role);
a URL carrying credentials is refused, and nothing here logs them or the server's text.

Objects are ``<prefix>/<sha256>``; a retired one is ``<prefix>/.retired/<sha256>.<secs>.<rand>``
(S3 writes are atomic, so there are no partial writes). The no-loss rules on a store without
an atomic rename:

- ``put`` always writes the object (one request; bytes already there are written again), so
  its LastModified is refreshed and the sweep's grace period covers the upload;
- ``retire`` reads the object's LastModified again (HEAD) and leaves one written since the
  listing; otherwise it copies the object aside (server side) and deletes it, and the sweep
  looks at the rows once more, copying it back if a row committed meanwhile;
- the instant between that HEAD and the delete, where a racing ``put`` could be deleted with
  its row not yet committed, is closed by the upload itself: after its commit it
  ``confirm``s each blob (HEAD) and writes a missing one again from its bytes. A delete after
  that HEAD came after the row's commit, so the sweep's second look sees the row and
  restores the object.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import parse_qs, urlsplit

from piksend.gallery.blobs.base import (
    CHUNK,
    BlobNotFound,
    BlobStoreUnavailable,
    BlobStream,
    Scan,
    StoredFile,
    validate_key,
)

RETIRED = ".retired/"
_PROBE = ".piksend-probe"
# Error codes that mean "not there" (HEAD answers a bare 404).
_MISSING = {"404", "NoSuchKey", "NotFound"}
_PAGE = 1000  # S3's largest ListObjectsV2 page


def _unavailable(exc: BaseException) -> BlobStoreUnavailable:
    """The failure class only: an error code or an exception name, never its message."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return BlobStoreUnavailable(f"blob store {code or type(exc).__name__}")


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        region: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint = endpoint
        self.region = region
        self.timeout = timeout
        self.description = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint}" if endpoint else "")
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise ValueError(
                "PIKSEND_BLOB_URL must not carry credentials: use AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY"
            )
        if not parts.hostname:
            raise ValueError("PIKSEND_BLOB_URL needs a bucket: s3://bucket/prefix")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region"}
        if unknown:
            raise ValueError(f"PIKSEND_BLOB_URL: unknown parameter {sorted(unknown)[0]}")
        endpoint = query.get("endpoint")
        if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError("PIKSEND_BLOB_URL: endpoint must be an http(s) URL")
        return cls(parts.hostname, parts.path, endpoint=endpoint, region=query.get("region"))

    async def _s3(self) -> Any:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
                    from aiobotocore.session import get_session  # type: ignore[import-untyped]

                    config = AioConfig(
                        connect_timeout=self.timeout,
                        read_timeout=self.timeout,
                        retries={"max_attempts": 2, "mode": "standard"},
                        s3={"addressing_style": "path" if self.endpoint else "auto"},
                    )
                    stack = AsyncExitStack()
                    self._client = await stack.enter_async_context(
                        get_session().create_client(
                            "s3",
                            endpoint_url=self.endpoint,
                            region_name=self.region or "us-east-1",
                            config=config,
                        )
                    )
                    self._stack = stack
        return self._client

    async def _call(self, name: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        s3 = await self._s3()
        try:
            return await getattr(s3, name)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise BlobNotFound(kwargs.get("Key", "")) from None
            raise _unavailable(exc) from None
        except (BotoCoreError, OSError, TimeoutError) as exc:
            raise _unavailable(exc) from None

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def put(self, data: bytes) -> str:
        import hashlib

        key = hashlib.sha256(data).hexdigest()
        await self._write(key, data)
        return key

    async def _write(self, key: str, data: bytes) -> None:
        await self._call("put_object", Key=self._name(key), Body=data)

    async def confirm(self, key: str, data: bytes) -> None:
        if not await self.exists(key):
            await self._write(key, data)

    async def get(self, key: str) -> bytes:
        stream = await self.open(key)
        try:
            return b"".join([chunk async for chunk in stream.chunks])
        finally:
            await stream.aclose()

    async def open(self, key: str) -> BlobStream:
        answer = await self._call("get_object", Key=self._name(key))
        return BlobStream(int(answer["ContentLength"]), None, self._chunks(answer["Body"]))

    async def _chunks(self, body: Any) -> AsyncIterator[bytes]:
        from botocore.exceptions import BotoCoreError

        try:
            while chunk := await body.read(CHUNK):
                yield chunk
        except (BotoCoreError, OSError, TimeoutError) as exc:
            raise _unavailable(exc) from None
        finally:
            body.close()

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", Key=self._name(key))
        except BlobNotFound:
            return False
        return True

    async def check(self) -> str:
        name = self.prefix + _PROBE
        await self._call("head_bucket")
        await self._call("put_object", Key=name, Body=b"probe")
        await self._call("delete_object", Key=name)
        return f"{self.description}: the bucket exists and takes an object"

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    # -- for the sweep ------------------------------------------------------------------

    async def scan(self, *, after: str, limit: int) -> Scan:
        found: list[StoredFile] = []
        start = after
        while len(found) < limit:
            page = await self._call(
                "list_objects_v2",
                Prefix=self.prefix,
                StartAfter=self.prefix + start if start else "",
                MaxKeys=min(_PAGE, limit - len(found)),
            )
            contents = page.get("Contents", [])
            for item in contents:
                start = item["Key"][len(self.prefix) :]
                stored = self._stored(item["Key"], item["LastModified"].timestamp())
                if stored is not None:
                    found.append(stored)
            if not page.get("IsTruncated") or not contents:
                return Scan(found, None)
        return Scan(found, start)

    def _stored(self, name: str, modified: float) -> StoredFile | None:
        rest = name[len(self.prefix) :]
        if rest.startswith(RETIRED):
            key, _, tail = rest[len(RETIRED) :].partition(".")
            when = tail.split(".")[0]
            try:
                return StoredFile(name, "retired", validate_key(key), modified, float(when))
            except ValueError:
                return None
        try:
            return StoredFile(name, "blob", validate_key(rest), modified)
        except ValueError:
            return None  # the probe, or someone else's object under the prefix

    async def retire(self, stored: StoredFile) -> StoredFile | None:
        assert stored.key is not None
        try:
            head = await self._call("head_object", Key=stored.ref)
        except BlobNotFound:
            return None
        modified = head["LastModified"].timestamp()
        if modified > stored.modified:
            return None  # put again since the listing: in use
        now = time.time()
        aside = f"{self.prefix}{RETIRED}{stored.key}.{int(now)}.{secrets.token_hex(4)}"
        try:
            await self._call("copy_object", Key=aside, CopySource=self._source(stored.ref))
        except BlobNotFound:
            return None
        await self._call("delete_object", Key=stored.ref)
        return StoredFile(aside, "retired", stored.key, modified, now)

    async def restore(self, retired: StoredFile) -> None:
        assert retired.key is not None
        await self._call(
            "copy_object", Key=self._name(retired.key), CopySource=self._source(retired.ref)
        )
        await self._call("delete_object", Key=retired.ref)

    async def discard(self, stored: StoredFile) -> None:
        await self._call("delete_object", Key=stored.ref)

    def _source(self, name: str) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": name}

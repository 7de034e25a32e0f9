"""Two ``piksend serve`` nodes, each with its own data dir, sharing PostgreSQL and one
S3-compatible object store (PIKSEND_BLOB_URL; moto's server as a real process): an image
uploaded through node A is served by node B byte for byte, and deleted through B it is gone
from A too (issue 11, item 6). Nothing of it is in either node's data dir."""

from __future__ import annotations

import os
import secrets

import boto3
import httpx
import pytest

from tests.gallery.s3_support import moto_url  # noqa: F401  (a fixture)
from tests.support import db as testdb
from tests.support.driver import OAuthDriver, RegisteredApp
from tests.support.images import make_image
from tests.support.live import free_port, live_server

pytestmark = [pytest.mark.live, pytest.mark.postgres]
EMAIL = "alice@example.com"
PASSWORD = "correct horse battery"
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret"}
SCOPES = "profile:read galleries:read galleries:write images:read images:write"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, moto_url):  # noqa: F811
    url = testdb.pg_url()
    if url is None:
        pytest.skip(testdb.PG_SKIP_REASON + " (two nodes need one shared PostgreSQL)")
    bucket = f"two-nodes-{os.urandom(4).hex()}"
    boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS["AWS_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=bucket)
    database = testdb.create_pg_database(url)
    port_a = free_port()
    shared = {
        "PIKSEND_PUBLIC_URL": f"http://127.0.0.1:{port_a}",
        "PIKSEND_SECRET_KEY": secrets.token_urlsafe(32),
        "PIKSEND_TRIM_INTERVAL": "0",
        "PIKSEND_BLOB_URL": f"s3://{bucket}/piksend?endpoint={moto_url}",
        **AWS,
    }
    dir_a, dir_b = tmp_path_factory.mktemp("s3-node-a"), tmp_path_factory.mktemp("s3-node-b")
    try:
        with (
            live_server(dir_a, database, port=port_a, **shared) as a,
            live_server(dir_b, database, **shared) as b,
        ):
            a.cli("users", "create", "--email", EMAIL, "--password", PASSWORD)
            app = a.cli(
                "apps", "create", "--owner", EMAIL, "--name", "Two Nodes S3",
                "--redirect-uri", "https://app.example.com/callback", "--scopes", SCOPES,
            )  # fmt: skip
            registered = RegisteredApp(
                app["client_id"], app["client_secret"], "https://app.example.com/callback", SCOPES
            )
            yield a, b, registered, (dir_a, dir_b)
    finally:
        testdb.drop_pg_database(database)


def _blob_files(data_dir) -> list[str]:
    return [
        str(p)
        for p in data_dir.rglob("*")
        if p.is_file() and "blobs" in p.parts  # the local store's directory, if any were used
    ]


async def test_an_image_uploaded_through_a_is_served_by_b_and_deleted_through_b(nodes):
    a, b, registered, data_dirs = nodes
    async with httpx.AsyncClient(base_url=a.url) as http:
        driver = OAuthDriver(http, app=None)
        assert (await driver.sign_in(EMAIL, PASSWORD)).status_code == 303
        tokens = await driver.tokens(registered)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    data = make_image("PNG")
    async with httpx.AsyncClient(base_url=a.url, headers=bearer) as at_a:
        gallery = await at_a.post("/api/v1/galleries", json={"title": "Shared"})
        assert gallery.status_code == 201, gallery.text
        uploaded = await at_a.post(
            f"/api/v1/galleries/{gallery.json()['id']}/images",
            files={"file": ("photo.png", data, "image/png")},
        )
        assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()["id"]
    async with httpx.AsyncClient(base_url=b.url, headers=bearer) as at_b:
        served = await at_b.get(f"/api/v1/images/{image}/content")
        assert served.status_code == 200, served.text
        assert served.content == data
        deleted = await at_b.delete(f"/api/v1/images/{image}")
        assert deleted.status_code == 204, deleted.text
    async with httpx.AsyncClient(base_url=a.url, headers=bearer) as at_a:
        gone = await at_a.get(f"/api/v1/images/{image}/content")
        assert gone.status_code == 404
    for data_dir in data_dirs:
        assert _blob_files(data_dir) == []  # the bytes were in the shared store, not a node's disk

"""Presigned URLs fetched with urllib from the local server."""
from __future__ import annotations

import datetime
import urllib.error
import urllib.parse
import urllib.request

import pytest

import r2


def fetch(url: str, method: str = "GET", data: bytes = None, headers: dict = None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read(), response.headers


@pytest.mark.parametrize("key", ["plain.txt", "ünï cødé/☃ + & = ?.txt"])
def test_get_put_head_delete_urls(client, bucket, prefix, key):
    key = prefix + key
    put_url = client.presign("PUT", bucket, key, 300, headers={"Content-Type": "text/x-presigned"})
    status, _, _ = fetch(put_url, "PUT", b"uploaded through a presigned URL", {"Content-Type": "text/x-presigned"})
    assert status == 200
    assert client.head(bucket, key).content_type == "text/x-presigned"

    status, body, _ = fetch(client.presign("GET", bucket, key, datetime.timedelta(minutes=5)))
    assert (status, body) == (200, b"uploaded through a presigned URL")
    status, body, headers = fetch(client.presign("HEAD", bucket, key, 60), "HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == "32"
    status, _, _ = fetch(client.presign("DELETE", bucket, key, 60), "DELETE")
    assert status == 204
    with pytest.raises(r2.NoSuchKey):
        client.head(bucket, key)


def test_url_shape_and_fixed_time(client, bucket, server):
    url = client.presign("GET", bucket, "a b/c.txt", 3600, unix_time=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == server.endpoint
    assert parts.path == f"/{bucket}/a%20b/c.txt"
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query["X-Amz-Date"] == "20240102T030405Z" and query["X-Amz-Expires"] == "3600"
    assert query["X-Amz-Credential"] == f"{server.access_key_id}/20240102/auto/s3/aws4_request"
    assert query["X-Amz-SignedHeaders"] == "host" and len(query["X-Amz-Signature"]) == 64
    assert url == client.presign("GET", bucket, "a b/c.txt", 3600, unix_time=1704164645)


def test_expired_and_tampered_urls_are_refused(client, bucket, prefix):
    client.put(bucket, prefix + "k", b"secret data")
    expired = client.presign("GET", bucket, prefix + "k", 1, unix_time=1_000_000_000)
    with pytest.raises(urllib.error.HTTPError) as e:
        fetch(expired)
    assert e.value.code == 403
    tampered = client.presign("GET", bucket, prefix + "k", 60).replace(prefix + "k", prefix + "other")
    with pytest.raises(urllib.error.HTTPError) as e:
        fetch(tampered)
    assert e.value.code == 403

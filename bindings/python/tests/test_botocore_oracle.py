"""botocore as an oracle: for a few hundred random requests, r2's Authorization
headers and presigned URLs equal botocore's byte for byte, with the same
credentials and the same fixed clock (region "auto", service "s3").

botocore is a test-only dependency (installed into .venv by `make python-test`).

What is generated stays within what both sides define the same way:
- paths are percent-encoded as S3 keys are (every byte but A-Z a-z 0-9 -_.~/);
- queries are already in canonical form (parameters encoded with quote(safe="-_.~"));
  botocore's presigner re-parses the query with parse_qs, which would merge
  repeated names and read "+" as a space, so presign queries have unique
  names and no "+";
- headers avoid botocore's SIGNED_HEADERS_BLACKLIST (user-agent, expect, ...),
  which botocore never signs while r2 signs whatever it is given.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import random
from unittest import mock
from urllib.parse import quote

import pytest

import r2

botocore = pytest.importorskip("botocore", reason="botocore is installed by `make python-test`")
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

SEED = int(os.environ.get("R2_ORACLE_SEED", "20240229"))
CASES = int(os.environ.get("R2_ORACLE_CASES", "300"))
ACCESS_KEY = "AKIDEXAMPLE0ORACLE01"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJIMEYCIQD+oracle+token=="

KEY_ALPHABET = (list("abcXYZ0129-_.~/ ") + list("!\"#$%&'()*+,:;<=>?@[\\]^`{|}") +
                ["é", "ß", "☃", "日本", "😀", "\u00a0", "Ω", "%41", "//", "./", "../"])
HEADER_NAMES = ["Content-Type", "x-amz-meta-color", "X-Amz-Meta-Note", "Cache-Control", "Range", "If-Match",
                "Content-MD5", "x-amz-acl", "X-Custom-Header", "content-language", "x-amz-storage-class"]
HEADER_VALUES = ["text/plain", "  padded  ", "a  b   c", "bytes=0-99", '"etag-123"', "max-age=60, public",
                 "tab\tinside", "", "UPPER lower", "=/+?&"]
QUERY_NAMES = ["acl", "uploads", "partNumber", "uploadId", "prefix", "list-type", "delimiter", "x-id",
               "response-content-type", "response-content-disposition", "weird name", "ü"]
QUERY_VALUES = ["", "1", "2", "abc", "a b", "x/y", "ä", "=&", "text/plain", "attachment; filename=\"ü.txt\"", "~*'"]


def random_key(rng: random.Random) -> str:
    return "".join(rng.choice(KEY_ALPHABET) for _ in range(rng.randint(1, 24))).lstrip("/") or "k"


def random_path(rng: random.Random) -> str:
    bucket = rng.choice(["r2-test", "my-bucket", "b12"])
    return "/" + bucket + "/" + quote(random_key(rng), safe="/")


def random_query(rng: random.Random, unique: bool) -> str:
    pairs = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4])):
        name = rng.choice(QUERY_NAMES)
        if unique and any(n == quote(name, safe="-_.~") for n, _ in pairs):
            continue
        pairs.append((quote(name, safe="-_.~"), quote(rng.choice(QUERY_VALUES), safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in pairs)


def random_headers(rng: random.Random, host: str, duplicates: bool) -> list[tuple[str, str]]:
    headers = [("Host", host)]
    for _ in range(rng.randint(0, 5)):
        name = rng.choice(HEADER_NAMES)
        if not duplicates and any(n.lower() == name.lower() for n, _ in headers):
            continue
        headers.append((rng.choice([name, name.lower(), name.upper()]), rng.choice(HEADER_VALUES)))
    return headers


def random_time(rng: random.Random) -> datetime.datetime:
    return datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=rng.randrange(40 * 365 * 86400))


def botocore_request(method, url, headers, body=b"") -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders: setting a name twice keeps both, in order
    return request


def at(when: datetime.datetime):
    return mock.patch("botocore.auth.get_current_datetime", return_value=when)


@pytest.fixture(scope="module")
def signers():
    plain = r2.Signer(ACCESS_KEY, SECRET)
    with_token = r2.Signer(ACCESS_KEY, SECRET, session_token=TOKEN)
    yield {False: plain, True: with_token}
    plain.close()
    with_token.close()


def test_authorization_headers_equal_botocore(signers):
    rng = random.Random(SEED)
    for case in range(CASES):
        token = rng.random() < 0.2
        method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"])
        host = rng.choice(["acct.r2.cloudflarestorage.com", "127.0.0.1:8333", "example.com"])
        path, query = random_path(rng), random_query(rng, unique=False)
        headers = random_headers(rng, host, duplicates=True)
        body = rng.randbytes(rng.choice([0, 1, 100, 5000])) if method in ("PUT", "POST") else b""
        unsigned = rng.random() < 0.25
        when = random_time(rng)

        ours = signers[token].sign(method, path, query=query or None, headers=headers, body=body,
                                   payload_hash="UNSIGNED-PAYLOAD" if unsigned else None,
                                   unix_time=int(when.replace(tzinfo=datetime.timezone.utc).timestamp()))

        request = botocore_request(method, f"https://{host}{path}" + (f"?{query}" if query else ""), headers, body)
        if unsigned:
            request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        with at(when):
            S3SigV4Auth(Credentials(ACCESS_KEY, SECRET, TOKEN if token else None), "s3", "auto").add_auth(request)

        where = f"case {case} (R2_ORACLE_SEED={SEED}): {method} {path}?{query} {headers}"
        assert ours.authorization == request.headers["Authorization"], where
        sent = {name.lower(): value for name, value in ours.headers}
        assert sent["x-amz-date"] == request.headers["X-Amz-Date"], where
        assert sent["x-amz-content-sha256"] == request.headers["X-Amz-Content-SHA256"], where
        if not unsigned:
            assert sent["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest(), where
        if token:
            assert sent["x-amz-security-token"] == TOKEN, where


def test_signer_presigned_urls_equal_botocore(signers):
    rng = random.Random(SEED + 1)
    for case in range(CASES):
        token = rng.random() < 0.2
        method = rng.choice(["GET", "PUT", "HEAD", "DELETE"])
        host = rng.choice(["acct.r2.cloudflarestorage.com", "127.0.0.1:8333"])
        path, query = random_path(rng), random_query(rng, unique=True)
        headers = random_headers(rng, host, duplicates=False)
        expires = rng.choice([1, 60, 3600, 86400, 604800, rng.randint(1, 604800)])
        when = random_time(rng)

        ours = signers[token].presign(method, path, expires=expires, query=query or None, headers=headers,
                                      unix_time=int(when.replace(tzinfo=datetime.timezone.utc).timestamp()))
        request = botocore_request(method, f"https://{host}{path}" + (f"?{query}" if query else ""), headers)
        with at(when):
            S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET, TOKEN if token else None), "s3", "auto",
                             expires=expires).add_auth(request)
        assert f"https://{host}{path}?{ours.query}" == request.url, \
            f"case {case} (R2_ORACLE_SEED={SEED}): {method} {path}?{query} {headers}"


@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:8333", "https://r2.example.com"])
def test_client_presigned_urls_equal_botocore(endpoint):
    rng = random.Random(SEED + 2)
    account = "0123456789abcdef0123456789abcdef"
    base = endpoint or f"https://{account}.r2.cloudflarestorage.com"
    host = base.split("://", 1)[1]
    with r2.Client(account_id=account, access_key_id=ACCESS_KEY, secret_access_key=SECRET, endpoint=endpoint,
                   allow_http=True) as client:
        for case in range(CASES // 3):
            method = rng.choice(["GET", "PUT", "HEAD", "DELETE"])
            bucket = rng.choice(["r2-test", "photos", "a-b-c"])
            key = random_key(rng)
            extra = [h for h in random_headers(rng, host, duplicates=False) if h[0] != "Host"]
            expires = rng.randint(1, 604800)
            when = random_time(rng)
            ours = client.presign(method, bucket, key, expires, headers=extra,
                                  unix_time=when.replace(tzinfo=datetime.timezone.utc))
            request = botocore_request(method, f"{base}/{bucket}/{quote(key, safe='/')}", [("Host", host)] + extra)
            with at(when):
                S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET), "s3", "auto", expires=expires).add_auth(request)
            assert ours == request.url, f"case {case} (R2_ORACLE_SEED={SEED}): {method} {bucket}/{key!r} {extra}"

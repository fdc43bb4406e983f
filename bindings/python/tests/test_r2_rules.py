"""R2's rules, through the R2 rules checker (Tests/RulesChecker/rules_checker.py).

`make python-test` runs the whole suite behind the checker, which fails the
run on any request R2 would refuse; these tests also ask it for answers
SeaweedFS does not give (429 on a second write within a second, a lost
Complete answer, an <Error> inside a 200, other ETags) and read what reached
the wire.
"""
from __future__ import annotations

import hashlib
import io
import os
import socket

import pytest

import r2

MiB = 1 << 20
PORT = os.environ.get("R2_RULES_CONTROL_PORT")


def rules(command: str) -> str:
    with socket.create_connection(("127.0.0.1", int(PORT))) as s:
        s.sendall((command + "\n").encode())
        return s.makefile().readline().strip()


@pytest.fixture(autouse=True)
def checker():
    if PORT is None:
        pytest.skip("needs the R2 rules checker (make python-test runs the suite behind it)")
    rules("clear")
    yield
    rules("clear")


def seen(op: str) -> int:
    return int(rules(f"seen {op}"))


def multipart_etag(*parts: bytes) -> str:
    return '"' + hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f'-{len(parts)}"'


# 1. Streamed single PUTs are retried when the source can be read again.

def test_put_from_seekable_file_is_resent_after_429(client, bucket, prefix, tmp_path):
    key = prefix + "twice"
    path = tmp_path / "body"
    body = os.urandom(300_000)
    path.write_bytes(body)
    rules("write_limit on")  # R2: one write per second per key, else 429
    client.put(bucket, key, b"first")
    progress = []
    with open(path, "rb") as f:
        client.put(bucket, key, f, callback=progress.append)
    assert seen("PutObject") == 3  # first, the 429, the re-sent one
    assert client.get(bucket, key).body == body
    assert sum(progress) == len(body)  # resent bytes were taken back (boto3-style negative callback)


def test_upload_file_below_threshold_is_resent_after_500(client, bucket, prefix, tmp_path):
    path = tmp_path / "body"
    body = os.urandom(200_000)
    path.write_bytes(body)
    rules("inject PutObject status=500")
    client.upload_file(str(path), bucket, prefix + "f")
    assert seen("PutObject") == 2
    assert client.get(bucket, prefix + "f").body == body


def test_upload_fileobj_seekable_is_resent(client, bucket, prefix):
    body = os.urandom(100_000)
    rules("inject PutObject status=503")
    client.upload_fileobj(io.BufferedReader(io.BytesIO(body)), bucket, prefix + "s", length=len(body))
    assert seen("PutObject") == 2
    assert client.get(bucket, prefix + "s").body == body


def test_one_shot_stream_is_not_resent_and_says_why(client, bucket, prefix):
    rules("inject PutObject status=500")
    chunks = iter([b"a" * 50_000, b"b" * 50_000])
    with pytest.raises(r2.ServerInternal, match="one-shot stream"):
        client.put(bucket, prefix + "once", chunks, length=100_000)
    assert seen("PutObject") == 1


@pytest.mark.parametrize("action", ["status=500", "lose"])
@pytest.mark.parametrize("payload", ["signed", "unsigned"])
def test_upload_file_part_is_read_again_from_the_file_on_a_retry(server, bucket, prefix, tmp_path, action, payload):
    # Parts of a file are read from it while they are sent (no buffer holds
    # them): a retry reads the part again, and its MD5 and signed SHA-256
    # (a pass over the file before sending) match what goes on the wire.
    path = tmp_path / "parts"
    body = os.urandom(12 * MiB)
    path.write_bytes(body)
    key = prefix + f"reread-{payload}-{action}"
    rules(f"inject UploadPart {action}")
    with server.client(payload_mode=payload) as c:
        c.upload_file(str(path), bucket, key, threshold=5 * MiB, part_size=5 * MiB, concurrency=2, part_checksum="md5")
    assert seen("UploadPart") == 4  # three parts, one of them twice
    assert client_get(server, bucket, key) == body


def client_get(server, bucket: str, key: str) -> bytes:
    with server.client() as c:
        return c.get(bucket, key).body


# 2. Complete is never re-sent blindly; 3. conditional Complete; 4. multipart ETag check.

def two_parts(client, bucket, key):
    upload_id = client.create_multipart_upload(bucket, key)
    p1, p2 = os.urandom(5 * MiB), os.urandom(1000)
    parts = [client.upload_part(bucket, key, upload_id, 1, p1), client.upload_part(bucket, key, upload_id, 2, p2)]
    return upload_id, parts, p1 + p2, multipart_etag(p1, p2)


def test_lost_complete_answer_is_resolved_by_the_object_etag(client, bucket, prefix):
    key = prefix + "lost"
    upload_id, parts, body, etag = two_parts(client, bucket, key)
    rules("inject CompleteMultipartUpload lose")
    info = client.complete_multipart_upload(bucket, key, upload_id, parts, if_none_match="*")
    assert info.etag == etag
    assert seen("CompleteMultipartUpload") == 1  # not re-sent (it would get NoSuchUpload, or 412)
    assert client.get(bucket, key).body == body


@pytest.mark.parametrize("action", ["error200", "status=500"])
def test_failed_complete_is_resent_while_the_upload_exists(client, bucket, prefix, action):
    key = prefix + "again"
    upload_id, parts, body, etag = two_parts(client, bucket, key)
    rules(f"inject CompleteMultipartUpload {action}")
    assert client.complete_multipart_upload(bucket, key, upload_id, parts).etag == etag
    assert seen("CompleteMultipartUpload") == 2 and seen("ListParts") == 1
    assert client.get(bucket, key).body == body


def test_gone_upload_after_ambiguous_complete_is_reported(client, bucket, prefix):
    key = prefix + "gone"
    upload_id, parts, _, _ = two_parts(client, bucket, key)
    rules("inject CompleteMultipartUpload status=500")
    rules("inject ListParts status=404")  # stands in for R2's NoSuchUpload after an expiry
    with pytest.raises(r2.R2Error, match="unknown|no longer exists"):
        client.complete_multipart_upload(bucket, key, upload_id, parts)
    assert seen("CompleteMultipartUpload") == 1
    client.abort_multipart_upload(bucket, key, upload_id)


def test_failed_condition_on_complete_is_final(client, bucket, prefix):
    key = prefix + "exists"
    client.put(bucket, key, b"old")
    upload_id, parts, _, _ = two_parts(client, bucket, key)
    with pytest.raises(r2.PreconditionFailed, match="final"):
        client.complete_multipart_upload(bucket, key, upload_id, parts, if_none_match="*")
    assert seen("CompleteMultipartUpload") == 1
    assert client.get(bucket, key).body == b"old"
    old = client.head(bucket, key).etag
    upload_id, parts, body, _ = two_parts(client, bucket, key)
    client.complete_multipart_upload(bucket, key, upload_id, parts, if_match=old)
    assert client.get(bucket, key).body == body


def test_upload_file_multipart_create_only(client, bucket, prefix, tmp_path):
    path = tmp_path / "big"
    path.write_bytes(os.urandom(11 * MiB))
    key = prefix + "create-only"
    client.upload_file(str(path), bucket, key, threshold=5 * MiB, part_size=5 * MiB, if_none_match="*")
    assert "If-None-Match: *" in rules("headers CompleteMultipartUpload")
    assert "If-None-Match" not in rules("headers CreateMultipartUpload")
    with pytest.raises(r2.PreconditionFailed):
        client.upload_file(str(path), bucket, key, threshold=5 * MiB, part_size=5 * MiB, if_none_match="*")
    assert [u for u in client.list_multipart_uploads(bucket, prefix=key)] == []


def test_multipart_etag_mismatch_is_an_integrity_error(client, bucket, prefix):
    key = prefix + "etag"
    upload_id, parts, _, _ = two_parts(client, bucket, key)
    rules("inject CompleteMultipartUpload bad_etag")
    with pytest.raises(r2.ChecksumMismatch, match="MD5 of the part MD5s"):
        client.complete_multipart_upload(bucket, key, upload_id, parts)
    upload_id, parts, _, _ = two_parts(client, bucket, key + "2")
    rules("inject CompleteMultipartUpload odd_etag")  # an ETag of another form is not an error
    assert client.complete_multipart_upload(bucket, key + "2", upload_id, parts).etag == "AbCdEf+/old=="


# 5. The low-level multipart API checks R2's part rules before sending.

def test_unequal_part_is_refused_before_sending(client, bucket, prefix):
    key = prefix + "unequal"
    upload_id = client.create_multipart_upload(bucket, key)
    client.upload_part(bucket, key, upload_id, 1, b"\0" * (5 * MiB))
    with pytest.raises(r2.InvalidPart, match="larger than the other parts"):
        client.upload_part(bucket, key, upload_id, 2, b"\0" * (5 * MiB + 1))
    assert seen("UploadPart") == 1
    client.abort_multipart_upload(bucket, key, upload_id)


def test_complete_checks_parts_it_did_not_send_with_list_parts(server, client, bucket, prefix):
    key = prefix + "others"
    upload_id = client.create_multipart_upload(bucket, key)
    with server.client() as a, server.client() as b:  # two other clients, each knowing one part
        p1 = a.upload_part(bucket, key, upload_id, 1, b"\0" * (5 * MiB))
        p2 = b.upload_part(bucket, key, upload_id, 2, b"\0" * (6 * MiB))
    with pytest.raises(r2.InvalidPart, match="larger than the other parts"):
        client.complete_multipart_upload(bucket, key, upload_id, [p1, p2])
    assert seen("ListParts") == 1 and seen("CompleteMultipartUpload") == 0
    client.abort_multipart_upload(bucket, key, upload_id)


# 6. Storage class; no empty header value.

def test_storage_class(client, bucket, prefix):
    with pytest.raises(r2.InvalidArgument, match="STANDARD or STANDARD_IA"):
        client.put(bucket, prefix + "sc", b"x", storage_class="GLACIER")
    assert seen("PutObject") == 0
    client.put(bucket, prefix + "sc", b"x", storage_class="", content_type="")
    assert "x-amz-storage-class" not in rules("headers PutObject").lower()
    client.put(bucket, prefix + "sc", b"x", storage_class="STANDARD_IA")
    assert "x-amz-storage-class: STANDARD_IA" in rules("headers PutObject")


# 8. An expired upload on resume starts a new one.

def test_resume_of_an_expired_upload_starts_a_new_one(client, bucket, prefix, tmp_path):
    path, state = tmp_path / "big", tmp_path / "state"
    body = os.urandom(15 * MiB)
    path.write_bytes(body)
    key = prefix + "expired"

    def stop(done, total):
        if done >= 5 * MiB:
            raise KeyboardInterrupt  # any exception cancels; the upload is kept for resuming

    with pytest.raises(KeyboardInterrupt):
        client.upload_file(str(path), bucket, key, threshold=5 * MiB, part_size=5 * MiB, concurrency=1,
                           state_path=str(state), progress=stop)
    assert state.exists()
    for upload in client.list_multipart_uploads(bucket, prefix=key):  # as R2 does after 7 days
        client.abort_multipart_upload(bucket, key, upload.upload_id)
    progress = []
    client.upload_file(str(path), bucket, key, threshold=5 * MiB, part_size=5 * MiB, state_path=str(state),
                       progress=lambda done, total: progress.append((done, total)))
    assert not state.exists()
    assert progress[-1] == (len(body), len(body))
    assert client.get(bucket, key).body == body


# 10. copy() returns what CopyObject answered, without a HEAD of its own.

def test_copy_returns_the_copy_info_without_an_extra_head(client, bucket, prefix):
    data = os.urandom(100_000)
    client.put(bucket, prefix + "src", data, content_type="application/x-src")
    rules("clear")
    info = client.copy(bucket, prefix + "src", bucket, prefix + "plain")  # one CopyObject
    assert (seen("CopyObject"), seen("HeadObject")) == (1, 0)
    plain = client.head(bucket, prefix + "plain")
    assert info.etag.strip('"') == plain.etag.strip('"') and info.last_modified

    rules("clear")
    sizes = []  # below the threshold r2_transfer_copy sends one CopyObject with the replaced headers itself
    info = client.copy(bucket, prefix + "src", bucket, prefix + "managed", replace_metadata=True,
                       content_type="text/x-new", multipart_threshold=64 * MiB, callback=sizes.append)
    assert (seen("CopyObject"), seen("HeadObject"), seen("UploadPartCopy")) == (1, 1, 0)  # r2's HEAD of the source
    managed = client.head(bucket, prefix + "managed")
    assert info.etag.strip('"') == managed.etag.strip('"') and info.last_modified
    assert info.content_length == len(data) == managed.content_length and sum(sizes) == len(data)
    assert managed.content_type == "text/x-new"

    big = os.urandom(6 * MiB)
    client.put(bucket, prefix + "big", big)
    rules("clear")  # above the threshold: r2's one HEAD, then the parts
    info = client.copy(bucket, prefix + "big", bucket, prefix + "parts", replace_metadata=True,
                       content_type="text/x-parts", multipart_threshold=5 * MiB, part_size=5 * MiB)
    assert (seen("HeadObject"), seen("UploadPartCopy"), seen("CopyObject")) == (1, 2, 0)
    assert info.etag.endswith('-2"') and info.content_length == len(big)
    assert client.head(bucket, prefix + "parts").content_type == "text/x-parts"
    client.delete_objects(bucket, [prefix + k for k in ("src", "plain", "managed", "big", "parts")])


# 11. Smaller points.

def test_metadata_over_8192_bytes_has_its_own_error(client, bucket, prefix):
    with pytest.raises(r2.MetadataTooLarge):
        client.put(bucket, prefix + "meta", b"x", metadata={"big": "v" * 8200})
    assert seen("PutObject") == 0


def test_expired_request_is_its_own_code(client, bucket, prefix):
    rules("inject GetObject status=400")  # R2's ExpiredRequest (an expired presigned URL)
    with pytest.raises(r2.ExpiredRequest):
        client.get(bucket, prefix + "whatever")


def test_rules_checker_refuses_what_r2_refuses(server, bucket):
    """The checker itself: a request R2 would refuse is answered 400 and recorded."""
    import http.client
    rules("expect_violations 1")
    host, port = server.endpoint.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("PUT", f"/{bucket}/x", body=b"x", headers={"x-amz-storage-class": "", "Content-MD5": "a",
                                                            "x-amz-checksum-crc32": "b"})
    resp = conn.getresponse()
    assert resp.status == 400 and b"R2RulesViolation" in resp.read()
    last = rules("violations").split(" | ")[-1]
    assert "(expected)" in last and "empty value" in last and "more than one checksum" in last


# 7. SSE-C: the customer key on every request that needs it, never in the clear elsewhere.

def test_sse_c_round_trip(client, bucket, prefix, tmp_path):
    key, other = os.urandom(32), os.urandom(32)
    k = prefix + "ssec"
    client.put(bucket, k, b"secret", sse_customer_key=key)
    sent = rules("headers PutObject")
    assert "x-amz-server-side-encryption-customer-algorithm: AES256" in sent
    assert "x-amz-server-side-encryption-customer-key-MD5: " in sent
    assert client.get(bucket, k, sse_customer_key=key).body == b"secret"
    assert client.head(bucket, k, sse_customer_key=key).content_length == 6
    with pytest.raises(r2.SSECustomerKeyRequired, match="sse_customer_key"):
        client.get(bucket, k)
    with pytest.raises(r2.InvalidArgument):
        client.put(bucket, k, b"x", sse_customer_key=b"short")

    client.copy(bucket, k, bucket, k + "-copy", source_sse_customer_key=key, sse_customer_key=other)
    assert "x-amz-copy-source-server-side-encryption-customer-key: " in rules("headers CopyObject")
    assert client.get(bucket, k + "-copy", sse_customer_key=other).body == b"secret"

    # Multipart through the transfer manager: create, parts and complete carry the key.
    path = tmp_path / "big"
    body = os.urandom(11 * MiB)
    path.write_bytes(body)
    client.upload_file(str(path), bucket, k + "-mp", threshold=5 * MiB, part_size=5 * MiB, sse_customer_key=key)
    for op in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        assert "x-amz-server-side-encryption-customer-algorithm: AES256" in rules(f"headers {op}"), op
    out = tmp_path / "out"
    client.download_file(bucket, k + "-mp", str(out), threshold=5 * MiB, part_size=5 * MiB, sse_customer_key=key)
    assert out.read_bytes() == body

    # The low-level calls.
    upload_id = client.create_multipart_upload(bucket, k + "-ll", sse_customer_key=key)
    p1 = client.upload_part(bucket, k + "-ll", upload_id, 1, body[:5 * MiB], sse_customer_key=key)
    # SeaweedFS answers 501 to SSE-C on UploadPartCopy (R2 implements it): check what went on the wire.
    with pytest.raises(r2.ServerNotImplemented):
        client.upload_part_copy(bucket, k + "-ll", upload_id, 2, bucket, k, sse_customer_key=key,
                                source_sse_customer_key=key)
    sent = rules("headers UploadPartCopy")
    assert "x-amz-copy-source-server-side-encryption-customer-algorithm: AES256" in sent
    assert "x-amz-server-side-encryption-customer-algorithm: AES256" in sent
    p2 = client.upload_part(bucket, k + "-ll", upload_id, 2, b"secret", sse_customer_key=key)
    client.complete_multipart_upload(bucket, k + "-ll", upload_id, [p1, p2], sse_customer_key=key)
    assert client.get(bucket, k + "-ll", sse_customer_key=key).body == body[:5 * MiB] + b"secret"

    url = client.presign("GET", bucket, k, 60, sse_customer_key=key)
    assert "x-amz-server-side-encryption-customer-key" in url.lower()  # in X-Amz-SignedHeaders


# 9. Addressing and the signing region.

def test_virtual_hosted_style_and_region(server, bucket, prefix):
    port = server.endpoint.rsplit(":", 1)[1]
    with server.client(endpoint=f"http://localhost:{port}", virtual_hosted_style=True) as vh:
        vh.put(bucket, prefix + "vh", b"hosted")
        sent = rules("headers PutObject")
        assert f"Host: {bucket}.localhost:{port}" in sent
        assert vh.get(bucket, prefix + "vh").body == b"hosted"
        assert [e.key for e in vh.list_all(bucket, prefix=prefix)] == [prefix + "vh"]
    for region in ("auto", "us-east-1", ""):
        with server.client(region=region) as c:
            assert c.get(bucket, prefix + "vh").body == b"hosted"
            assert f"/{region}/s3/aws4_request" in rules("headers GetObject")
    with pytest.raises(r2.ConfigError, match="auto"):
        server.client(region="eu-west-1")


# 11. A presigned bucket-level ListObjectsV2 URL.

def test_presign_list_objects(client, bucket, prefix):
    import urllib.request
    client.put(bucket, prefix + "a b", b"1")
    client.put(bucket, prefix + "dir/c", b"2")
    url = client.presign_list_objects(bucket, 60, prefix=prefix, delimiter="/")
    assert "list-type=2" in url and "encoding-type=url" in url
    body = urllib.request.urlopen(url).read().decode()
    import re
    from urllib.parse import unquote_plus
    keys = [unquote_plus(k) for k in re.findall(r"<Key>([^<]*)</Key>", body)]
    assert keys == [prefix + "a b"]  # URL-encoded (encoding-type=url), one level (delimiter)
    assert "<CommonPrefixes>" in body


def test_304_is_not_modified(client, bucket, prefix):
    client.put(bucket, prefix + "c", b"x")
    rules("inject GetObject status=304")
    with pytest.raises(r2.NotModified) as e:
        client.get(bucket, prefix + "c", if_none_match='"abc"')
    assert e.value.http_status == 304


def test_501_names_the_header_and_is_not_retried(client, bucket, prefix):
    rules("inject PutObject status=501")  # R2's answer to a header it does not implement
    with pytest.raises(r2.ServerNotImplemented, match="x-amz-checksum-crc32"):
        client.put(bucket, prefix + "n", b"x")
    assert seen("PutObject") == 1

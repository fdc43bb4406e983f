"""Every object operation against the local S3 server (SeaweedFS)."""
from __future__ import annotations

import datetime
import io
import pickle

import pytest

import r2

ODD_KEYS = [
    "ünïcødé ☃ 日本.txt", "with space", "plus+equals=amp&q?hash#pct%tilde~",
    "bang!quote'paren()star*comma,semi;colon:at@dollar$", "emoji 😀", "%41%2F", "Ελληνικά/Кириллица/עברית",
]


def test_put_get_head_delete_round_trip(client, bucket, prefix):
    key = prefix + "hello.txt"
    put = client.put(bucket, key, "hello, r2", content_type="text/plain", cache_control="max-age=60",
                     content_disposition='attachment; filename="hello.txt"',
                     metadata={"color": "blue", "note": "naïve café ✓"})
    assert put.etag.startswith('"') and put.http_status == 200 and put.request_id

    got = client.get(bucket, key)
    assert got.body == b"hello, r2" and bytes(got) == b"hello, r2"
    assert got.info.etag == put.etag
    assert got.info.content_type == "text/plain"
    assert got.info.content_length == 9 and got.info.http_status == 200
    assert got.info.last_modified
    assert got.info.metadata == {"color": "blue", "note": "naïve café ✓"}

    head = client.head(bucket, key)
    assert head.content_length == 9 and head.cache_control == "max-age=60"
    assert "hello.txt" in head.content_disposition

    client.delete(bucket, key)
    with pytest.raises(r2.NoSuchKey):
        client.head(bucket, key)
    client.delete(bucket, key)  # deleting a missing key succeeds


@pytest.mark.parametrize("body, expected", [
    (b"bytes", b"bytes"),
    (bytearray(b"bytearray"), b"bytearray"),
    (memoryview(b"xxmemoryviewxx")[2:-2], b"memoryview"),
    (memoryview(bytearray(b"writable view")), b"writable view"),
    ("text ✓", "text ✓".encode()),
    (b"", b""),
], ids=["bytes", "bytearray", "readonly-view", "writable-view", "str", "empty"])
def test_put_bytes_like_bodies(client, bucket, prefix, body, expected):
    progress = []
    client.put(bucket, prefix + "k", body, callback=progress.append)
    assert client.get(bucket, prefix + "k").body == expected
    assert progress == [len(expected)]


def test_put_streams_file_like_and_iterables(client, bucket, prefix, tmp_path):
    data = bytes(range(256)) * 4099  # ~1 MiB, not a multiple of any buffer size
    client.put(bucket, prefix + "bytesio", io.BytesIO(data))
    assert client.get(bucket, prefix + "bytesio").body == data

    half = io.BytesIO(data)
    half.seek(len(data) // 2)  # a stream is read from where it is
    client.put(bucket, prefix + "half", half)
    assert client.get(bucket, prefix + "half").body == data[len(data) // 2:]

    path = tmp_path / "file.bin"
    path.write_bytes(data)
    with open(path, "rb") as f:
        client.put(bucket, prefix + "file", f)
    client.upload_file(path, bucket, prefix + "upload_file")
    with open(path, "rb", buffering=0) as raw:
        client.upload_fileobj(raw, bucket, prefix + "raw")
    for name in ("file", "upload_file", "raw"):
        assert client.get(bucket, prefix + name).body == data

    chunks = [data[i:i + 10000] for i in range(0, len(data), 10000)]
    client.put(bucket, prefix + "iter", iter(chunks), length=len(data))
    assert client.get(bucket, prefix + "iter").body == data

    class ReadOnly:  # only read(), no readinto(), not seekable: one PUT given a length, else multipart
        def __init__(self): self.f = io.BytesIO(data)
        def read(self, n=-1): return self.f.read(n)
    assert "-" not in client.put(bucket, prefix + "readonly", ReadOnly(), length=len(data)).etag
    assert client.get(bucket, prefix + "readonly").body == data
    assert "-" in client.put(bucket, prefix + "readonly", ReadOnly()).etag
    assert client.get(bucket, prefix + "readonly").body == data


def test_a_body_of_another_type_is_refused(client, bucket, prefix):
    with pytest.raises(TypeError, match="body must be"):
        client.put(bucket, prefix + "int", 42)


def test_stream_shorter_than_its_length_is_incomplete_and_leaves_nothing(client, bucket, prefix):
    with pytest.raises(r2.IncompleteBody):
        client.put(bucket, prefix + "short", iter([b"x" * 100]), length=1000)
    with pytest.raises(r2.NoSuchKey):
        client.head(bucket, prefix + "short")


def test_text_stream_is_a_type_error(client, bucket, prefix, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("text")
    with open(path, "r") as f, pytest.raises(TypeError, match="binary"):
        client.put(bucket, prefix + "t", f, length=4)


@pytest.mark.parametrize("checksum", ["md5", "crc32", "crc32c", "sha1", "sha256"])
@pytest.mark.parametrize("payload_mode", ["signed", "unsigned"])
def test_put_with_checksums_and_payload_modes(client, bucket, prefix, checksum, payload_mode):
    client.put(bucket, prefix + "sum", b"checked", checksum=checksum, payload_mode=payload_mode)
    assert client.get(bucket, prefix + "sum").body == b"checked"


def test_wrong_md5_is_bad_digest(client, bucket, prefix):
    with pytest.raises(r2.BadDigest) as e:
        client.put(bucket, prefix + "sum", b"checked", checksum="md5", checksum_value="AAAAAAAAAAAAAAAAAAAAAA==")
    assert e.value.http_status == 400 and not e.value.retryable


def test_ranges(client, bucket, prefix):
    client.put(bucket, prefix + "digits", b"0123456789")
    for rng, want, content_range in [("bytes=2-4", b"234", "bytes 2-4/10"), ("bytes=7-", b"789", "bytes 7-9/10"),
                                     ("bytes=-2", b"89", "bytes 8-9/10"), ((0, 0), b"0", "bytes 0-0/10"),
                                     ((3, None), b"3456789", "bytes 3-9/10")]:
        got = client.get(bucket, prefix + "digits", range=rng)
        assert (got.body, got.info.http_status, got.info.content_range) == (want, 206, content_range)
    with pytest.raises(r2.InvalidRange) as e:
        client.get(bucket, prefix + "digits", range="bytes=100-200")
    assert e.value.http_status == 416
    for bad in ["bytes=4-2", "items=0-1", "bytes=0-1,3-4"]:
        with pytest.raises(r2.InvalidArgument):
            client.get(bucket, prefix + "digits", range=bad)


def test_conditional_reads_and_writes(client, bucket, prefix):
    key = prefix + "cond"
    etag = client.put(bucket, key, b"v1").etag
    with pytest.raises(r2.NotModified) as e:
        client.get(bucket, key, if_none_match=etag)
    assert e.value.http_status == 304
    with pytest.raises(r2.PreconditionFailed) as e:
        client.get(bucket, key, if_match='"0000000000000000000000000000dead"')
    assert e.value.http_status == 412
    assert client.get(bucket, key, if_match=etag).body == b"v1"
    long_ago = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    assert client.get(bucket, key, if_modified_since=long_ago).body == b"v1"
    with pytest.raises(r2.PreconditionFailed):
        client.get(bucket, key, if_unmodified_since="Sat, 01 Jan 2000 00:00:00 GMT")
    with pytest.raises(r2.NotModified):
        client.head(bucket, key, if_modified_since=datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc))
    with pytest.raises(r2.InvalidArgument, match="timezone"):
        client.get(bucket, key, if_modified_since=datetime.datetime(2000, 1, 1))

    with pytest.raises(r2.PreconditionFailed):
        client.put(bucket, key, b"v2", if_none_match="*")
    client.put(bucket, prefix + "fresh", b"new", if_none_match="*")
    with pytest.raises(r2.PreconditionFailed):
        client.put(bucket, key, b"v2", if_match='"0000000000000000000000000000dead"')
    client.put(bucket, key, b"v2", if_match=etag)
    assert client.get(bucket, key).body == b"v2"


def test_unicode_and_odd_keys_round_trip_list_copy_and_delete(client, bucket, prefix):
    for key in ODD_KEYS:
        client.put(bucket, prefix + key, key)
        assert client.get(bucket, prefix + key).body == key.encode()
    listed = [e.key for e in client.list(bucket, prefix=prefix).objects]
    assert sorted(listed) == sorted(prefix + k for k in ODD_KEYS)
    client.copy(bucket, prefix + ODD_KEYS[0], bucket, prefix + "copy ☃+&")
    assert client.get(bucket, prefix + "copy ☃+&").body == ODD_KEYS[0].encode()
    result = client.delete_objects(bucket, [prefix + k for k in ODD_KEYS] + [prefix + "copy ☃+&"])
    assert sorted(result.deleted) == sorted([prefix + k for k in ODD_KEYS] + [prefix + "copy ☃+&"])
    assert result.errors == []
    assert client.list(bucket, prefix=prefix).objects == []


def test_copy_keeps_or_replaces_metadata_and_checks_conditions(client, bucket, prefix):
    etag = client.put(bucket, prefix + "src", b"source", content_type="application/x-source",
                      metadata={"kind": "source"}).etag
    client.copy(bucket, prefix + "src", bucket, prefix + "same")
    same = client.head(bucket, prefix + "same")
    assert (same.content_type, same.metadata) == ("application/x-source", {"kind": "source"})
    info = client.copy(bucket, prefix + "src", bucket, prefix + "replaced", replace_metadata=True,
                       content_type="text/x-replaced", metadata=[("kind", "replaced")])
    assert info.etag
    replaced = client.head(bucket, prefix + "replaced")
    assert (replaced.content_type, replaced.metadata) == ("text/x-replaced", {"kind": "replaced"})
    client.copy(bucket, prefix + "src", bucket, prefix + "cond", if_match=etag)
    with pytest.raises(r2.PreconditionFailed):
        client.copy(bucket, prefix + "src", bucket, prefix + "cond", if_match='"0000000000000000000000000000dead"')
    with pytest.raises(r2.NoSuchKey):
        client.copy(bucket, prefix + "missing", bucket, prefix + "x")
    with pytest.raises(r2.InvalidArgument):  # content headers need replace_metadata
        client.copy(bucket, prefix + "src", bucket, prefix + "x", content_type="text/plain")


def test_list_pages_delimiters_and_list_all(client, bucket, prefix):
    keys = [f"{prefix}{'a' if i < 4 else 'b'}/item-{i:02d}" for i in range(7)]
    for key in keys:
        client.put(bucket, key, b"x")
    page = client.list(bucket, prefix=prefix, max_keys=3)
    assert [e.key for e in page.objects] == keys[:3]
    assert page.is_truncated and page.next_continuation_token
    assert all(e.size == 1 and e.etag and e.last_modified for e in page.objects)
    page2 = client.list(bucket, prefix=prefix, max_keys=3, continuation_token=page.next_continuation_token)
    assert [e.key for e in page2.objects] == keys[3:6]

    folders = client.list(bucket, prefix=prefix, delimiter="/")
    assert folders.objects == [] and folders.common_prefixes == [prefix + "a/", prefix + "b/"]
    assert not folders.is_truncated and folders.next_continuation_token is None
    assert len(client.list(bucket, prefix=prefix, start_after=keys[4]).objects) == 2

    iterator = client.list_all(bucket, prefix=prefix, page_size=2)  # 4 pages, fetched lazily
    assert [e.key for e in iterator] == keys
    assert list(iterator) == []  # stays at the end
    with client.list_all(bucket, prefix=prefix, page_size=2) as it:
        assert next(it).key == keys[0]
    assert list(it) == []  # closed early
    with pytest.raises(r2.InvalidArgument):
        client.list(bucket, max_keys=5000)


def test_a_listed_page_reads_like_a_list_of_what_list_all_yields(client, bucket, prefix):
    # list() keeps the page's text and makes each ObjectEntry when it is read;
    # list_all() copies each entry out of r2_list_iter: both must agree field by field.
    keys = [f"{prefix}{name}" for name in ("a", "b c", "d+e", "f%20g", "z" * 200, "ü/ñ")]  # in UTF-8 byte order
    for i, key in enumerate(keys):
        client.put(bucket, key, b"x" * i)
    objects = client.list(bucket, prefix=prefix).objects
    assert objects == list(client.list_all(bucket, prefix=prefix)) and len(objects) == len(keys)
    assert [e.key for e in objects] == keys and [e.size for e in objects] == list(range(len(keys)))
    assert all(e.etag.startswith('"') and e.last_modified and e.storage_class for e in objects)
    assert objects[-1] is objects[len(keys) - 1] and objects[1:3] == list(objects)[1:3]
    assert [e.key for e in objects[::-2]] == keys[::-2]
    assert list(objects) == list(objects) and objects.index(objects[2]) == 2 and objects[0] in objects
    with pytest.raises(IndexError):
        objects[len(keys)]
    assert pickle.loads(pickle.dumps(objects)) == objects and repr(objects) == repr(list(objects))
    with pytest.raises(TypeError):
        hash(objects)


def test_delete_objects_many_and_quiet(client, bucket, prefix):
    keys = [f"{prefix}many/{i:04d}" for i in range(1003)]
    payload = b""
    for key in keys:
        client.put(bucket, key, payload)
    result = client.delete_objects(bucket, keys + [prefix + "never-existed"])  # two requests of up to 1000
    assert len(result.deleted) == 1004 and result.errors == []
    assert client.list(bucket, prefix=prefix).objects == []
    client.put(bucket, prefix + "quiet", b"x")
    assert client.delete_objects(bucket, [prefix + "quiet"], quiet=True) == r2.DeleteResult(deleted=[], errors=[])
    with pytest.raises(r2.InvalidArgument):
        client.delete_objects(bucket, [])


def test_streaming_download_apis(client, bucket, prefix, tmp_path):
    data = bytes(range(251)) * 20011  # ~5 MiB
    client.put(bucket, prefix + "obj", data, content_type="application/x-test")

    sink = io.BytesIO()
    seen = []
    info = client.download_fileobj(bucket, prefix + "obj", sink, callback=seen.append)
    assert sink.getvalue() == data and info.content_length == len(data) and info.content_type == "application/x-test"
    assert sum(seen) == len(data) and len(seen) > 1

    target = tmp_path / "obj.bin"
    client.download_file(bucket, prefix + "obj", target)
    assert target.read_bytes() == data
    with pytest.raises(r2.NoSuchKey):
        client.download_file(bucket, prefix + "missing", tmp_path / "missing.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obj.bin"]  # no partial file left behind

    # Conditions (keywords or boto3's ExtraArgs) make a download one conditional GET.
    sink, seen = io.BytesIO(), []
    client.download_fileobj(bucket, prefix + "obj", sink, range=(10, 19), callback=seen.append)
    assert sink.getvalue() == data[10:20] and sum(seen) == 10
    client.download_file(bucket, prefix + "obj", target, ExtraArgs={"Range": "bytes=0-4"})
    assert target.read_bytes() == data[:5]
    with pytest.raises(r2.PreconditionFailed):
        client.download_file(bucket, prefix + "obj", tmp_path / "cond.bin", if_match='"0000000000000000000000000000dead"')
    with pytest.raises(r2.NotModified):
        client.download_fileobj(bucket, prefix + "obj", io.BytesIO(), if_none_match=info.etag)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obj.bin"]
    with pytest.raises(r2.InvalidArgument, match="conditional GET"):
        client.download_file(bucket, prefix + "obj", target, range=(0, 1), concurrency=2)

    with client.open(bucket, prefix + "obj") as f:
        assert f.info is None  # headers arrive with the end of the stream
        assert f.read(10) == data[:10]
        assert f.readline() == data[10:data.index(b"\n", 10) + 1]
        rest = f.read()
    assert data[:10] + data[10:data.index(b"\n", 10) + 1] + rest == data
    assert f.info.etag and f.info.content_length == len(data)
    with client.open(bucket, prefix + "obj", range=(5, 9)) as f:
        assert f.read() == data[5:10]
    with pytest.raises(r2.NoSuchKey):
        client.open(bucket, prefix + "missing")
    etag = client.head(bucket, prefix + "obj").etag
    with pytest.raises(r2.NotModified):
        client.open(bucket, prefix + "obj", if_none_match=etag)
    with pytest.raises(ValueError):
        f.read()


def test_copyfileobj_from_an_open_object(client, bucket, prefix, tmp_path):
    import shutil
    data = b"0123456789abcdef" * 65537
    client.put(bucket, prefix + "obj", data)
    with client.open(bucket, prefix + "obj") as src, open(tmp_path / "out", "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert (tmp_path / "out").read_bytes() == data


def test_closing_an_open_object_early_cancels_the_download(client, bucket, prefix):
    import threading
    client.put(bucket, prefix + "obj", b"z" * (8 << 20))  # far more than the reader's queue holds
    f = client.open(bucket, prefix + "obj")
    assert f.read(1) == b"z"
    f.close()
    assert isinstance(f.raw._end.error, r2.Aborted)  # the GET was cut short, not read to the end
    assert not any(t.name == "r2-object-stream" and t.is_alive() for t in threading.enumerate())


def test_empty_object(client, bucket, prefix):
    client.put(bucket, prefix + "empty", b"")
    got = client.get(bucket, prefix + "empty")
    assert got.body == b"" and got.info.content_length == 0
    with client.open(bucket, prefix + "empty") as f:
        assert f.read() == b""
    assert f.info.content_length == 0


def test_tls_with_a_ca_bundle(server, prefix):
    with server.client(endpoint=server.tls_endpoint, ca_bundle=server.ca, allow_http=False) as tls:
        tls.put(server.bucket, prefix + "tls", b"over tls")
        assert tls.get(server.bucket, prefix + "tls").body == b"over tls"
    with server.client(endpoint=server.tls_endpoint, allow_http=False) as untrusted:
        with pytest.raises(r2.TLSError):
            untrusted.head(server.bucket, prefix + "tls")

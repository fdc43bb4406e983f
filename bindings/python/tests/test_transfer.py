"""The transfer manager (upload_file, upload_fileobj, download_file,
download_fileobj, copy's multipart path), its callbacks, cancellation and
resume, the low-level multipart API, and presign with query parameters."""
from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
import urllib.request

import pytest

import r2
from stall_server import StallServer

MiB = 1 << 20
SIZE = 64 * MiB
PARTS = dict(threshold=8 * MiB, part_size=8 * MiB)  # 8 parts of the 64 MiB file


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """64 MiB of random bytes on disk, and their SHA-256."""
    path = tmp_path_factory.mktemp("transfer") / "big.bin"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            sha.update(chunk)
    return sha.hexdigest()


class Bar:
    """What tqdm offers a boto3 Callback: update(n) with an increment."""

    def __init__(self) -> None:
        self.n = 0
        self.calls = 0

    def update(self, n: int) -> None:
        assert n > 0
        self.n += n
        self.calls += 1


class Boom(Exception):
    pass


def uploads_left(client, bucket, key) -> list:
    return [u for u in client.list_multipart_uploads(bucket, prefix=key) if u.key == key]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_multipart_upload_file_and_download_file_are_byte_exact(client, bucket, prefix, big_file, tmp_path,
                                                                concurrency):
    path, digest = big_file
    key = prefix + "big"
    bar, seen = Bar(), []
    info = client.upload_file(path, bucket, key, concurrency=concurrency, callback=bar.update,
                              progress=lambda done, total: seen.append((done, total)), **PARTS)
    assert info.etag.endswith('-8"'), info.etag  # 8 parts
    assert bar.n == SIZE
    assert seen[-1] == (SIZE, SIZE) and all(total == SIZE for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)

    target = tmp_path / "big.out"
    bar, seen = Bar(), []
    got = client.download_file(bucket, key, target, concurrency=concurrency, callback=bar.update,
                               progress=lambda done, total: seen.append((done, total)), **PARTS)
    assert got.content_length == SIZE and got.etag == info.etag
    assert sha256_file(target) == digest
    assert bar.n == SIZE and seen[-1] == (SIZE, SIZE)
    assert not os.path.exists(str(target) + ".r2-partial")
    unsynced = tmp_path / "big.unsynced"  # without the final fsync: the same bytes
    client.download_file(bucket, key, unsynced, concurrency=concurrency, fsync=False, **PARTS)
    assert sha256_file(unsynced) == digest

    sha, bar = hashlib.sha256(), Bar()

    class HashSink:
        def write(self, b):
            sha.update(b)
            return len(b)
    client.download_fileobj(bucket, key, HashSink(), Callback=bar.update,  # boto3's spelling
                            Config=r2.TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB,
                                                     max_concurrency=concurrency))
    assert sha.hexdigest() == digest and bar.n == SIZE
    client.delete(bucket, key)


def test_upload_fileobj_streams_and_buffers(client, bucket, prefix):
    data = os.urandom(12 * MiB + 12345)

    class Pipe(io.RawIOBase):  # a non-seekable stream: its length is unknown, so multipart
        def __init__(self):
            self.f = io.BytesIO(data)
        def readable(self):
            return True
        def readinto(self, b):
            return self.f.readinto(memoryview(b)[:300_000])  # small pieces, as a pipe gives

    bar = Bar()
    info = client.upload_fileobj(Pipe(), bucket, prefix + "pipe", part_size=5 * MiB, concurrency=2,
                                 callback=bar.update, ExtraArgs={"ContentType": "application/x-pipe"})
    assert info.etag.endswith('-3"') and bar.n == len(data)
    got = client.get(bucket, prefix + "pipe")
    assert got.body == data and got.info.content_type == "application/x-pipe"

    buffer = io.BytesIO(b"skipped" + data)
    buffer.seek(7)
    info = client.upload_fileobj(buffer, bucket, prefix + "buffer", threshold=5 * MiB, part_size=5 * MiB)
    assert info.etag.endswith('-3"') and buffer.tell() == 7 + len(data)
    buffer.write(b"resizable again")  # the buffer r2 borrowed was given back
    assert client.get(bucket, prefix + "buffer").body == data

    info = client.upload_fileobj(io.BytesIO(data), bucket, prefix + "small")  # below the 100 MiB threshold
    assert "-" not in info.etag and client.get(bucket, prefix + "small").body == data
    with pytest.raises(r2.InvalidArgument, match="state_path"):
        client.upload_fileobj(io.BytesIO(data), bucket, prefix + "x", state_path="state.json")
    with pytest.raises(r2.InvalidArgument, match="ExtraArgs 'ACL'"):
        client.upload_fileobj(io.BytesIO(data), bucket, prefix + "x", ExtraArgs={"ACL": "public-read"})
    with pytest.raises(r2.InvalidArgument):
        client.upload_fileobj(io.BytesIO(data), bucket, prefix + "x", concurrency=65)
    sha256_parts = r2.TransferConfig(multipart_threshold=5 * MiB, part_checksum="sha256")
    with pytest.raises(r2.Unsupported):  # R2 answers 501 to SHA-256 part checksums: refused before sending
        client.upload_fileobj(io.BytesIO(data), bucket, prefix + "x", config=sha256_parts)
    info = client.upload_fileobj(io.BytesIO(data), bucket, prefix + "crc", part_checksum="crc32c",
                                 config=sha256_parts)  # a keyword overrides the config
    assert info.etag.endswith('-2"') and client.get(bucket, prefix + "crc").body == data  # 10 MiB parts

    body = bytearray(b"resizable")
    client.put(bucket, prefix + "x", body)
    body += b" after the put"  # r2 gave the borrowed buffer back
    client.delete_objects(bucket, [prefix + k for k in ("pipe", "buffer", "small", "crc", "x")])


def test_an_iterable_of_unknown_length_is_a_multipart_put(client, bucket, prefix):
    chunks = [os.urandom(MiB) for _ in range(12)]
    info = client.put(bucket, prefix + "gen", (c for c in chunks), content_type="text/x-gen")
    assert "-" in info.etag  # multipart: 10 MiB + 2 MiB with the client's part size
    got = client.get(bucket, prefix + "gen")
    assert got.body == b"".join(chunks) and got.info.content_type == "text/x-gen"
    assert uploads_left(client, bucket, prefix + "gen") == []
    client.delete(bucket, prefix + "gen")


def test_a_raising_callback_aborts_the_multipart_upload(client, bucket, prefix, big_file, tmp_path):
    path, _ = big_file
    key = prefix + "aborted"

    def progress(done, total):
        if done > 0:
            raise Boom("stop")
    t0 = time.monotonic()
    with pytest.raises(Boom, match="stop"):
        client.upload_file(path, bucket, key, threshold=5 * MiB, part_size=5 * MiB, concurrency=2,
                           progress=progress)
    assert time.monotonic() - t0 < 10
    assert uploads_left(client, bucket, key) == []
    with pytest.raises(r2.NoSuchKey):
        client.head(bucket, key)

    def chunks():  # the source itself fails, mid-way through an unknown-length upload
        for _ in range(12):
            yield bytes(MiB)
        raise Boom("source")
    with pytest.raises(Boom, match="source"):
        client.upload_fileobj(io.BufferedReader(IterRaw(chunks())), bucket, key, part_size=5 * MiB)
    assert uploads_left(client, bucket, key) == []

    client.upload_file(path, bucket, key, **PARTS)
    target = tmp_path / "aborted.out"
    with pytest.raises(Boom, match="stop"):
        client.download_file(bucket, key, target, progress=progress, **PARTS)
    assert not target.exists() and not os.path.exists(str(target) + ".r2-partial")
    client.delete(bucket, key)


class IterRaw(io.RawIOBase):
    """A non-seekable raw stream over an iterator of chunks."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.pending = b""

    def readable(self):
        return True

    def readinto(self, b):
        if not self.pending:
            self.pending = next(self.chunks, b"")
        n = min(len(b), len(self.pending))
        b[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def test_an_interrupted_upload_resumes_from_its_state_file(server, client, bucket, prefix, big_file, tmp_path):
    path, digest = big_file
    key = prefix + "resumed"
    state = tmp_path / "upload.state"
    settings = dict(threshold=5 * MiB, part_size=5 * MiB, state_path=state)  # 13 parts

    def stop_after_three_parts(done, total):
        if done >= 15 * MiB:
            raise Boom("interrupted")
    with pytest.raises(Boom):
        client.upload_file(path, bucket, key, concurrency=1, progress=stop_after_three_parts, **settings)
    assert state.exists() and len(uploads_left(client, bucket, key)) == 1  # kept for the next call
    saved = json.loads(state.read_text())
    done_before = len(client.list_parts(bucket, key, saved["upload_id"]))
    assert 3 <= done_before < 13

    cassette = tmp_path / "resume.json"
    seen = []
    with server.client(record=cassette) as recording:
        info = recording.upload_file(path, bucket, key, concurrency=4, progress=lambda d, t: seen.append(d),
                                     **settings)
    assert info.etag.endswith('-13"')
    operations = [i["operation"] for i in json.loads(cassette.read_text())["interactions"]]
    assert operations.count("ListParts") == 1 and operations.count("CreateMultipartUpload") == 0
    assert operations.count("UploadPart") == 13 - done_before  # only the missing parts
    assert seen[0] >= done_before * 5 * MiB and seen[-1] == SIZE
    assert not state.exists() and uploads_left(client, bucket, key) == []

    target = tmp_path / "resumed.out"
    client.download_file(bucket, key, target)
    assert sha256_file(target) == digest
    client.delete(bucket, key)


def test_low_level_multipart_round_trip(client, bucket, prefix):
    key, source = prefix + "manual", prefix + "source"
    part1, part2 = os.urandom(5 * MiB), os.urandom(5 * MiB)
    copied = os.urandom(3 * MiB)
    client.put(bucket, source, b"head" + copied + b"tail")

    upload_id = client.create_multipart_upload(bucket, key, content_type="application/x-parts",
                                               metadata={"origin": "low-level"})
    assert [u.upload_id for u in uploads_left(client, bucket, key)] == [upload_id]
    first = client.upload_part(bucket, key, upload_id, 1, part1, checksum="md5")
    second = client.upload_part(bucket, key, upload_id, 2, memoryview(bytearray(part2)), checksum="crc32c")
    third = client.upload_part_copy(bucket, key, upload_id, 3, bucket, source, range=(4, 4 + len(copied) - 1))
    assert (first.part_number, second.part_number, third.part_number) == (1, 2, 3) and first.etag
    parts = client.list_parts(bucket, key, upload_id)
    assert [(p.part_number, p.size) for p in parts] == [(1, 5 * MiB), (2, 5 * MiB), (3, len(copied))]
    assert parts[0].etag.strip('"') == first.etag.strip('"')

    # Any order, and boto3's shapes as well as CompletedPart.
    info = client.complete_multipart_upload(bucket, key, upload_id,
                                            [(3, third.etag), {"PartNumber": 2, "ETag": second.etag}, first])
    assert info.etag.endswith('-3"')
    got = client.get(bucket, key)
    assert got.body == part1 + part2 + copied
    assert got.info.content_type == "application/x-parts" and got.info.metadata == {"origin": "low-level"}
    assert uploads_left(client, bucket, key) == []

    upload_id = client.create_multipart_upload(bucket, key + "-aborted")
    client.upload_part(bucket, key + "-aborted", upload_id, 1, b"tiny")
    with pytest.raises(r2.Unsupported):
        client.upload_part(bucket, key + "-aborted", upload_id, 2, b"x", checksum="sha256")
    client.abort_multipart_upload(bucket, key + "-aborted", upload_id)
    with pytest.raises(r2.NoSuchUpload):
        client.list_parts(bucket, key + "-aborted", upload_id)
    assert uploads_left(client, bucket, key + "-aborted") == []
    client.delete_objects(bucket, [key, source])


def test_copy_goes_multipart_on_request(client, bucket, prefix):
    data = os.urandom(12 * MiB)
    client.put(bucket, prefix + "src", data, content_type="application/x-src", metadata={"a": "1"})
    bar = Bar()
    info = client.copy(bucket, prefix + "src", bucket, prefix + "large", multipart_threshold=5 * MiB,
                       part_size=5 * MiB, callback=bar.update)
    assert info.etag.endswith('-3"') and bar.n == len(data)
    got = client.get(bucket, prefix + "large")
    assert got.body == data and got.info.content_type == "application/x-src" and got.info.metadata == {"a": "1"}

    info = client.copy(bucket, prefix + "src", bucket, prefix + "replaced", multipart_threshold=5 * MiB,
                       part_size=5 * MiB, replace_metadata=True, content_type="text/x-new", metadata={"b": "2"})
    got = client.head(bucket, prefix + "replaced")
    assert info.etag.endswith('-3"') and (got.content_type, got.metadata) == ("text/x-new", {"b": "2"})

    # Below the threshold it is one CopyObject, which also honours replaced metadata.
    info = client.copy(bucket, prefix + "src", bucket, prefix + "single", multipart_threshold=64 * MiB,
                       replace_metadata=True, content_type="text/x-single")
    assert "-" not in info.etag and client.head(bucket, prefix + "single").content_type == "text/x-single"
    with pytest.raises(r2.InvalidArgument, match="conditions"):
        client.copy(bucket, prefix + "src", bucket, prefix + "x", if_match=info.etag, multipart_threshold=5 * MiB)
    client.delete_objects(bucket, [prefix + k for k in ("src", "large", "replaced", "single")])


def test_copy_of_a_source_too_large_for_copy_object_goes_multipart(client, bucket, prefix, monkeypatch):
    """As if CopyObject refused the source (S3 does above 5 GiB): copy() finds
    its size and copies it in parts instead."""
    from r2 import _ffi, _objects
    data = os.urandom(11 * MiB)
    client.put(bucket, prefix + "src", data)

    class RefusingCopyObject:
        def __init__(self, lib):
            self.lib = lib
        def __getattr__(self, name):
            return getattr(self.lib, name)
        def r2_object_copy(self, *args):
            return _ffi.R2_ERR_ENTITY_TOO_LARGE
    monkeypatch.setattr(client, "_lib", RefusingCopyObject(client._lib))
    monkeypatch.setattr(_objects, "_SINGLE_COPY_LIMIT", 5 * MiB)
    info = client.copy(bucket, prefix + "src", bucket, prefix + "dst")
    assert "-" in info.etag and client.get(bucket, prefix + "dst").body == data
    with pytest.raises(r2.EntityTooLarge):  # a condition needs the single copy: the error stands
        client.copy(bucket, prefix + "src", bucket, prefix + "dst", if_match=info.etag)
    monkeypatch.undo()
    client.delete_objects(bucket, [prefix + "src", prefix + "dst"])


def test_presign_with_a_response_header_query(client, bucket, prefix):
    client.put(bucket, prefix + "report.bin", b"report body")
    disposition = 'attachment; filename="report ✓.txt"'
    url = client.presign("GET", bucket, prefix + "report.bin", 300,
                         query={"response-content-disposition": disposition,
                                "response-content-type": "text/plain"})
    assert "response-content-disposition=" in url and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"report body"
        assert response.headers["Content-Type"] == "text/plain"
        got = response.headers["Content-Disposition"]
    assert got.encode("latin-1").decode("utf-8") == disposition  # http.client reads header bytes as latin-1
    fixed = client.presign("GET", bucket, "k", 60, query=[("a", "1")], unix_time=1_700_000_000)
    assert fixed == client.presign("GET", bucket, "k", 60, query={"a": "1"}, unix_time=1_700_000_000)
    assert fixed != client.presign("GET", bucket, "k", 60, unix_time=1_700_000_000)
    client.delete(bucket, prefix + "report.bin")


def test_a_cancel_token_stops_a_stalled_upload_from_another_thread():
    """The network stops moving mid-part: no progress, no callback. A
    CancelToken still ends the call promptly, and the upload is aborted."""
    with StallServer() as stall, r2.Client(endpoint=stall.endpoint, allow_http=True, access_key_id="a",
                                           secret_access_key="b") as c:
        token = r2.CancelToken()

        def cancel_once_stalled():
            if stall.put_started.wait(20):
                time.sleep(0.5)
                token.cancel()
        threading.Thread(target=cancel_once_stalled, daemon=True).start()
        source = IterRaw(iter(lambda: bytes(MiB), None))  # endless
        t0 = time.monotonic()
        with pytest.raises(r2.Cancelled):
            c.upload_fileobj(source, "stall", "k", part_size=5 * MiB, concurrency=1, cancel=token)
        assert stall.put_started.is_set() and time.monotonic() - t0 < 15
        assert stall.aborted.wait(5)
        assert "cancelled" in repr(token)

"""r2.aio.Client against the local server and through the fault-injecting
proxy (Tests/FaultProxy): every asynchronous operation gives what the
blocking client gives; completions and callbacks run on the loop's thread;
cancellation; backpressure of a streamed get; few threads with many calls in
flight; resets mid-body, SlowDown with Retry-After and stalls."""
from __future__ import annotations

import asyncio
import gc
import hashlib
import inspect
import io
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import r2
import r2.aio
from conftest import ROOT


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


def aio_client(server, **overrides) -> r2.aio.Client:
    options = dict(endpoint=server.endpoint, allow_http=server.endpoint.startswith("http://"),
                   access_key_id=server.access_key_id, secret_access_key=server.secret_access_key)
    options.update(overrides)
    return r2.aio.Client(**options)


def threads() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def body_of(size: int, seed: int = 7) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


# --- the same client, as coroutines ---

def test_the_same_constructor_and_methods_as_coroutines():
    assert inspect.signature(r2.aio.Client.__init__) == inspect.signature(r2.Client.__init__)
    assert inspect.signature(r2.aio.Client.from_env) == inspect.signature(r2.Client.from_env)
    blocking = {name for name in dir(r2.Client) if not name.startswith("_")} - {"closed"}
    plain = {"from_env", "open", "list_all", "presign", "presign_list_objects"}  # no I/O of their own
    for name in sorted(blocking):
        method = getattr(r2.aio.Client, name)
        assert inspect.iscoroutinefunction(method) == (name not in plain), name
        if name not in ("close", "open"):  # the stream's buffer_size default differs
            extra = set(inspect.signature(getattr(r2.Client, name)).parameters) - \
                set(inspect.signature(method).parameters)
            assert extra <= {"state_path", "fsync"} - ({"fsync"} if name == "download_file" else set()), (name, extra)


# --- every operation, as the blocking client does it ---

def test_every_operation_gives_what_the_blocking_client_gives(server, client, bucket, prefix, tmp_path, monkeypatch):
    data = body_of(300_000)
    source = tmp_path / "source.bin"
    source.write_bytes(data)

    async def main():
        loop_thread = threading.get_ident()
        seen_threads = set()

        def on_progress(done, total):
            seen_threads.add(threading.get_ident())
            progress.append((done, total))
        progress: list = []
        async with aio_client(server) as c:
            assert "r2.aio.Client" in repr(c) and server.secret_access_key not in repr(c)
            put = await c.put(bucket, prefix + "a", data, content_type="text/x-a", metadata={"k": "v"})
            blocking_head = client.head(bucket, prefix + "a")
            head = await c.head(bucket, prefix + "a")
            assert put.etag == head.etag == blocking_head.etag
            assert (head.content_length, head.content_type, head.metadata) == (len(data), "text/x-a", {"k": "v"})
            got = await c.get(bucket, prefix + "a")
            assert got.body == data == client.get(bucket, prefix + "a").body and got.info.etag == put.etag
            part = await c.get(bucket, prefix + "a", range=(10, 19))
            assert part.body == data[10:20] == client.get(bucket, prefix + "a", range=(10, 19)).body
            with pytest.raises(r2.NotModified):
                await c.get(bucket, prefix + "a", if_none_match=put.etag)
            assert (await c.put(bucket, prefix + "s", "text")).etag == client.head(bucket, prefix + "s").etag
            # streams of known length: a file, an iterable
            with open(source, "rb") as f:
                sent = []
                await c.put(bucket, prefix + "f", f, callback=lambda n: (sent.append(n),
                                                                          seen_threads.add(threading.get_ident())))
            assert sum(sent) == len(data) and client.get(bucket, prefix + "f").body == data
            await c.put(bucket, prefix + "i", iter([data[:1000], data[1000:]]), length=len(data))
            assert client.get(bucket, prefix + "i").body == data

            async def produce(size, step):  # an async source slower than r2: the transfer pauses for it
                for i in range(0, size, step):
                    await asyncio.sleep(0.001)
                    yield bytearray(big[i:i + step])
            big = body_of(3 << 20, 9)
            sent.clear()
            answers = []
            read = r2.aio._AsyncSource.read
            monkeypatch.setattr(r2.aio._AsyncSource, "read", lambda *a: answers.append(read(*a)) or answers[-1])
            await c.put(bucket, prefix + "ai", produce(len(big), 100_000), length=len(big), callback=sent.append)
            assert client.get(bucket, prefix + "ai").body == big and sum(sent) == len(big)
            assert r2._ffi.R2_READ_PAUSE in answers, "the transfer never waited for the source"
            await c.delete(bucket, prefix + "ai")
            copied = await c.copy(bucket, prefix + "a", bucket, prefix + "c")
            blocking_copy = client.copy(bucket, prefix + "a", bucket, prefix + "c2")
            assert copied.etag == blocking_copy.etag and client.head(bucket, prefix + "c").etag == put.etag
            await c.delete(bucket, prefix + "c2")
            # listing: one page, then every entry page by page
            page = await c.list(bucket, prefix=prefix, max_keys=2)
            blocking_page = client.list(bucket, prefix=prefix, max_keys=2)
            assert [e.key for e in page.objects] == [e.key for e in blocking_page.objects]
            assert page.is_truncated and page.next_continuation_token
            keys = [e.key async for e in c.list_all(bucket, prefix=prefix, page_size=2)]
            assert keys == [e.key for e in client.list_all(bucket, prefix=prefix)] and len(keys) == 5
            # transfers
            await c.upload_file(source, bucket, prefix + "u", progress=on_progress, content_type="x/u")
            assert progress[-1] == (len(data), len(data)) and client.get(bucket, prefix + "u").body == data
            target = tmp_path / "target.bin"
            moved = []
            info = await c.download_file(bucket, prefix + "u", target, callback=moved.append)
            assert target.read_bytes() == data and sum(moved) == len(data) and info.content_type == "x/u"
            assert not os.path.exists(str(target) + ".r2-partial")
            with pytest.raises(r2.NoSuchKey):
                await c.download_file(bucket, prefix + "missing", tmp_path / "no.bin")
            assert not os.path.exists(tmp_path / "no.bin") and not os.path.exists(tmp_path / "no.bin.r2-partial")
            # deletes
            result = await c.delete_objects(bucket, [prefix + "i", prefix + "f"])
            assert sorted(result.deleted) == sorted([prefix + "i", prefix + "f"]) and not result.errors
            await c.delete(bucket, prefix + "c")
            await c.delete(bucket, prefix + "c")  # a missing key: fine, as for the blocking client
            assert [e.key for e in client.list_all(bucket, prefix=prefix)] == [prefix + k for k in "asu"]
            assert c.presign("GET", bucket, prefix + "a", 60, unix_time=1) == \
                client.presign("GET", bucket, prefix + "a", 60, unix_time=1)
        assert seen_threads == {loop_thread}  # progress callbacks run on the loop
    run(main())


def test_errors_are_the_blocking_clients(server, client, bucket, prefix, tmp_path):
    async def main():
        async with aio_client(server) as c:
            with pytest.raises(r2.NoSuchKey) as e:
                await c.get(bucket, prefix + "missing")
            with pytest.raises(r2.NoSuchKey) as blocking:
                client.get(bucket, prefix + "missing")
            assert (e.value.code, e.value.http_status, e.value.s3_code) == \
                (blocking.value.code, blocking.value.http_status, blocking.value.s3_code)
            assert e.value.request_id
            with pytest.raises(r2.NoSuchKey):
                await c.head(bucket, prefix + "missing")
            with pytest.raises(r2.NoSuchKey):
                await c.open(bucket, prefix + "missing")
            with pytest.raises(r2.NoSuchBucket):
                await c.list("no-such-bucket-r2")
            with pytest.raises(r2.NoSuchBucket):
                async for _ in c.list_all("no-such-bucket-r2"):
                    pass
            # refused before anything starts, as by the blocking client
            with pytest.raises(r2.InvalidBucketName):
                await c.put("Bad_Bucket", "k", b"")
            with pytest.raises(r2.InvalidArgument, match="NUL"):
                await c.get(bucket, "a\0b")
            with pytest.raises(r2.InvalidArgument, match="checksum"):
                await c.put(bucket, "k", b"", checksum="crc64")

            def boom(_n):
                raise ZeroDivisionError("from the callback")
            with pytest.raises(ZeroDivisionError):
                await c.put(bucket, prefix + "cb", iter([b"x" * 1000]), length=1000, callback=boom)

            async def failing():
                yield b"x" * 1000
                raise ZeroDivisionError("from the source")
            with pytest.raises(ZeroDivisionError, match="source"):
                await c.put(bucket, prefix + "cb", failing(), length=2000)
            with pytest.raises(r2.IncompleteBody):
                await c.put(bucket, prefix + "cb", failing_short(), length=2000)
            # an exception in a progress callback (on the loop) stops the transfer and is raised
            await c.put(bucket, prefix + "big", b"x" * (4 << 20))
            target = tmp_path / "big"
            with pytest.raises(ZeroDivisionError):
                await c.download_file(bucket, prefix + "big", target, callback=boom)
            assert not target.exists() and not os.path.exists(str(target) + ".r2-partial")
            source = tmp_path / "up"
            source.write_bytes(b"y" * (4 << 20))
            with pytest.raises(ZeroDivisionError):
                await c.upload_file(source, bucket, prefix + "up", progress=lambda done, total: 1 / 0)
        with pytest.raises(ValueError, match="closed"):
            await c.get(bucket, "k")
        with pytest.raises(TypeError, match="async with"):
            with c:
                pass
    run(main())


def test_from_env(server, bucket, prefix, monkeypatch):
    monkeypatch.setenv("R2_ENDPOINT", server.endpoint)
    monkeypatch.setenv("R2_ALLOW_HTTP", "1")
    monkeypatch.setenv("R2_ACCESS_KEY_ID", server.access_key_id)
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", server.secret_access_key)

    async def main():
        async with r2.aio.Client.from_env() as c:
            assert isinstance(c, r2.aio.Client)
            await c.put(bucket, prefix + "env", b"e")
            assert (await c.get(bucket, prefix + "env")).body == b"e"
    run(main())


def test_multipart_and_transfers_give_what_the_blocking_client_gives(server, client, bucket, prefix, tmp_path):
    part, tail = body_of(5 << 20, 1), b"tail"
    client.put(bucket, prefix + "src", tail)
    data = body_of(26 << 20, 3)
    source = tmp_path / "big"
    source.write_bytes(data)

    async def main():
        loop_thread = threading.get_ident()
        async with aio_client(server) as c:
            upload_id = await c.create_multipart_upload(bucket, prefix + "m", content_type="x/m")
            p1 = await c.upload_part(bucket, prefix + "m", upload_id, 1, part, checksum="crc32")
            p2 = await c.upload_part_copy(bucket, prefix + "m", upload_id, 2, bucket, prefix + "src")
            parts = await c.list_parts(bucket, prefix + "m", upload_id)
            assert [(p.part_number, p.etag, p.size) for p in parts] == \
                [(p.part_number, p.etag, p.size) for p in client.list_parts(bucket, prefix + "m", upload_id)]
            assert [(p.part_number, p.etag.strip('"')) for p in parts] == [(1, p1.etag.strip('"')),
                                                                           (2, p2.etag.strip('"'))]
            uploads = await c.list_multipart_uploads(bucket, prefix)
            assert [u.upload_id for u in uploads] == [upload_id] == \
                [u.upload_id for u in client.list_multipart_uploads(bucket, prefix)]
            info = await c.complete_multipart_upload(bucket, prefix + "m", upload_id, [p2, (1, p1.etag)])
            head = client.head(bucket, prefix + "m")
            assert client.get(bucket, prefix + "m").body == part + tail
            assert info.etag == head.etag and head.etag.endswith('-2"') and head.content_type == "x/m"
            upload_id = await c.create_multipart_upload(bucket, prefix + "x")
            await c.abort_multipart_upload(bucket, prefix + "x", upload_id)
            assert await c.list_multipart_uploads(bucket, prefix) == []
            with pytest.raises(r2.NoSuchUpload):
                await c.list_parts(bucket, prefix + "x", upload_id)
            with pytest.raises(r2.EntityTooSmall):  # r2's size rules, as for the blocking call
                upload_id = await c.create_multipart_upload(bucket, prefix + "y")
                q1 = await c.upload_part(bucket, prefix + "y", upload_id, 1, b"small")
                q2 = await c.upload_part(bucket, prefix + "y", upload_id, 2, b"small")
                await c.complete_multipart_upload(bucket, prefix + "y", upload_id, [q1, q2])
            await c.abort_multipart_upload(bucket, prefix + "y", upload_id)
            # upload_file: multipart on the engine (parts as engine transfers), progress on the loop
            seen, where = [], set()
            info = await c.upload_file(source, bucket, prefix + "big", threshold=5 << 20, part_size=5 << 20,
                                       concurrency=2, content_type="x/big",
                                       progress=lambda done, total: (seen.append((done, total)),
                                                                     where.add(threading.get_ident())))
            head = client.head(bucket, prefix + "big")
            assert client.get(bucket, prefix + "big").body == data and head.etag.endswith('-6"')
            assert info.etag == head.etag and head.content_type == "x/big"
            assert seen[-1] == (len(data), len(data)) and len(seen) > 1 and where == {loop_thread}
            # download_file: ranged GETs on the engine, pinned to the ETag; progress on the loop
            seen, where = [], set()
            target = tmp_path / "down"
            got = await c.download_file(bucket, prefix + "big", target, threshold=5 << 20, part_size=5 << 20,
                                        concurrency=3, progress=lambda done, total: (seen.append((done, total)),
                                                                                     where.add(threading.get_ident())))
            assert target.read_bytes() == data and got.etag == head.etag and got.content_length == len(data)
            assert seen[-1] == (len(data), len(data)) and where == {loop_thread}
            assert not os.path.exists(str(target) + ".r2-partial")
            # conditions: one conditional GET, as for r2.Client
            await c.download_file(bucket, prefix + "big", tmp_path / "head", range=(0, 99))
            assert (tmp_path / "head").read_bytes() == data[:100]
            with pytest.raises(r2.PreconditionFailed):
                await c.download_file(bucket, prefix + "big", tmp_path / "cond", if_match='"0123"')
            assert not (tmp_path / "cond").exists() and not (tmp_path / "cond.r2-partial").exists()
            with pytest.raises(r2.InvalidArgument):
                await c.download_file(bucket, prefix + "big", tmp_path / "cond", if_match='"0123"', concurrency=2)
            # copy through the transfer manager: UploadPartCopy ranges on the engine
            moved = []
            copied = await c.copy(bucket, prefix + "big", bucket, prefix + "copy", multipart_threshold=5 << 20,
                                  part_size=5 << 20, concurrency=2, callback=moved.append)
            blocking = client.copy(bucket, prefix + "big", bucket, prefix + "copy2", multipart_threshold=5 << 20,
                                   part_size=5 << 20, concurrency=2)
            assert client.get(bucket, prefix + "copy").body == data and sum(moved) == len(data)
            assert copied.etag == blocking.etag == client.head(bucket, prefix + "copy").etag
            with pytest.raises(r2.InvalidArgument, match="conditions"):
                await c.copy(bucket, prefix + "big", bucket, prefix + "copy", if_match=head.etag, concurrency=2)
            # upload_fileobj: a file (read by r2's thread), an async iterable of unknown length (multipart)
            with open(source, "rb") as f:
                await c.upload_fileobj(f, bucket, prefix + "fo", threshold=5 << 20, part_size=5 << 20)
            assert client.get(bucket, prefix + "fo").body == data
            assert client.head(bucket, prefix + "fo").etag.endswith('-6"')

            async def chunks():
                for i in range(0, len(data), 1 << 20):
                    await asyncio.sleep(0)
                    yield data[i:i + (1 << 20)]
            moved = []
            await c.upload_fileobj(chunks(), bucket, prefix + "ao", part_size=5 << 20, callback=moved.append)
            assert client.get(bucket, prefix + "ao").body == data and sum(moved) == len(data)
            await c.put(bucket, prefix + "it", iter([data[:7 << 20], data[7 << 20:]]))  # no length: multipart
            assert client.get(bucket, prefix + "it").body == data
            # download_fileobj: fileobj.write on the loop, awaited when it returns an awaitable
            sink = io.BytesIO()
            got = await c.download_fileobj(bucket, prefix + "big", sink, threshold=5 << 20, part_size=5 << 20,
                                           concurrency=3)
            assert sink.getvalue() == data and got.etag == head.etag

            class SlowWriter:
                def __init__(self):
                    self.parts = []

                async def write(self, chunk):
                    await asyncio.sleep(0.001)
                    self.parts.append(chunk)
            slow = SlowWriter()
            await c.download_fileobj(bucket, prefix + "big", slow, range=(0, (1 << 20) - 1))
            assert b"".join(slow.parts) == data[:1 << 20]
            small = []
            await c.upload_file(source, bucket, prefix + "one", callback=small.append)  # below the threshold: one PUT
            assert sum(small) == len(data) and '-' not in client.head(bucket, prefix + "one").etag
            # a cancelled multipart upload is aborted on the server
            task = None

            def cancel_at_first_part(done, total):
                task.cancel()
            task = asyncio.ensure_future(c.upload_file(source, bucket, prefix + "cancelled", threshold=5 << 20,
                                                       part_size=5 << 20, concurrency=1,
                                                       progress=cancel_at_first_part))
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await c.list_multipart_uploads(bucket, prefix) == []
            with pytest.raises(r2.NoSuchKey):
                await c.head(bucket, prefix + "cancelled")
            # a cancelled download leaves no file
            task = asyncio.ensure_future(c.download_file(bucket, prefix + "big", tmp_path / "cancelled",
                                                         threshold=5 << 20, part_size=5 << 20, concurrency=1,
                                                         progress=cancel_at_first_part))
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not (tmp_path / "cancelled").exists() and not (tmp_path / "cancelled.r2-partial").exists()
    run(main())


async def failing_short():
    yield b"x" * 1000


# --- streamed get: async for, backpressure, early close ---

def test_streamed_get_with_backpressure(server, client, bucket, prefix):
    data = body_of(4 << 20)
    client.put(bucket, prefix + "big", data)

    async def main():
        async with aio_client(server) as c:
            async with c.open(bucket, prefix + "big") as body:
                assert b"".join([chunk async for chunk in body]) == data
            # A slow reader: r2 pauses the transfer instead of buffering the body.
            pauses = 0
            most = 0
            parts = []
            async with c.open(bucket, prefix + "big", buffer_size=64 << 10) as body:
                async for chunk in body:
                    parts.append(chunk)
                    most = max(most, body.buffered)
                    pauses += body.paused
                    await asyncio.sleep(0.002)
                info = body.info
            assert b"".join(parts) == data and info.content_length == len(data) and info.etag
            assert pauses > 0, "the transfer never paused"
            assert most <= (64 << 10) + (256 << 10), f"{most} bytes buffered"
            # read(n), then the rest
            body = await c.open(bucket, prefix + "big", range=(0, 99_999))
            head = await body.read(10)
            rest = await body.read()
            assert head + rest == data[:100_000] and await body.read() == b""
            # Closing early cancels the transfer: r2 ends it, the client stays usable.
            async with c.open(bucket, prefix + "big", buffer_size=16 << 10) as body:
                await body.read(1000)
            assert body.ended and body.closed
            assert (await c.get(bucket, prefix + "big", range=(0, 9))).body == data[:10]
    run(main())


# --- many calls in flight on few threads ---

def test_many_calls_in_flight_use_few_threads(server, client, bucket, prefix):
    keys = [f"{prefix}k{i}" for i in range(20)]
    for i, key in enumerate(keys):
        client.put(bucket, key, body_of(4096, i))

    async def main():
        async with aio_client(server) as c:
            most = threads()
            ticks = 0

            async def ticker():
                nonlocal ticks, most
                while True:
                    ticks += 1
                    most = max(most, threads())
                    await asyncio.sleep(0.001)
            tick = asyncio.ensure_future(ticker())
            bodies = await asyncio.gather(*(c.get(bucket, keys[i % 20]) for i in range(400)))
            tick.cancel()
            assert [b.body for b in bodies] == [body_of(4096, i % 20) for i in range(400)]
            assert most <= 8, f"{most} threads"
            assert ticks > 1  # the loop kept running while 400 calls were in flight
            # Streams dropped mid-body and collected: their callbacks live until r2's finalizer ran.
            streams = [await c.open(bucket, keys[i], buffer_size=1) for i in range(20)]
            tasks = [asyncio.ensure_future(c.get(bucket, keys[i])) for i in range(20)]
            await asyncio.sleep(0)
            for task in tasks[::2]:
                task.cancel()
            del streams
            gc.collect()
            await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(100):  # each finalizer runs on r2's thread right after its done callback
            if not r2.aio._operations:
                break
            await asyncio.sleep(0.01)
        assert not r2.aio._operations
    run(main())


# --- cancellation and faults, through the fault-injecting proxy ---

def test_cancelling_the_task_cancels_the_operation(server, client, bucket, prefix):
    data = body_of(2 << 20)
    client.put(bucket, prefix + "big", data)

    async def main(proxy):
        async with aio_client(server, endpoint=proxy.endpoint) as c:
            proxy.plan("stall_down=65536 stall_ms=8000 stalls=1")
            task = asyncio.ensure_future(c.get(bucket, prefix + "big"))
            await asyncio.sleep(0.5)
            assert not task.done()  # held up by the stall
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - started < 3, "cancelled only when the stall ended"
            # wait_for's timeout cancels the same way
            proxy.plan("stall_down=65536 stall_ms=8000 stalls=1")
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c.get(bucket, prefix + "big"), 0.5)
            assert time.monotonic() - started < 3
            # a paused stream, cancelled by its task
            proxy.plan("")
            body = await c.open(bucket, prefix + "big", buffer_size=16 << 10)

            async def read_slowly():
                async for _ in body:
                    await asyncio.sleep(10)
            reader = asyncio.ensure_future(read_slowly())
            await asyncio.sleep(0.3)
            reader.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reader
            await body.aclose()
            assert body.ended
            assert (await c.get(bucket, prefix + "big")).body == data  # the client is unharmed
    with FaultProxy(server.endpoint) as proxy:
        run(main(proxy))


def test_through_resets_slowdown_and_stalls_the_results_are_the_same(server, client, bucket, prefix):
    data = body_of(6 << 20)
    client.put(bucket, prefix + "big", data)

    async def main(proxy):
        # resets mid-body: r2 resumes the download where it broke
        async with aio_client(server, endpoint=proxy.endpoint) as c:
            proxy.plan("reset_down=1048576 resets=2")
            before = proxy.stats()["resets"]
            assert (await c.get(bucket, prefix + "big")).body == data
            proxy.plan("reset_down=2097152 resets=1")
            async with c.open(bucket, prefix + "big", buffer_size=128 << 10) as body:
                assert b"".join([chunk async for chunk in body]) == data
            assert proxy.stats()["resets"] - before == 3
            # an upload of bytes through a reset is sent again
            proxy.plan("reset_up=1048576 resets=1")
            await c.put(bucket, prefix + "up", data)
            assert client.get(bucket, prefix + "up").body == data and proxy.stats()["resets"] - before == 4

    async def slow_down(proxy):
        # SlowDown twice with Retry-After: 1 (a proxy of its own: new connections get them, and r2's engine
        # keeps connections to the first proxy open)
        async with aio_client(server, endpoint=proxy.endpoint) as c:
            proxy.plan("slowdown=2 retry_after=1")
            before = proxy.stats()["slowdowns"]
            started = time.monotonic()
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)
            tick = asyncio.ensure_future(ticker())
            info = await c.head(bucket, prefix + "big")
            waited = time.monotonic() - started
            assert info.content_length == len(data) and proxy.stats()["slowdowns"] - before == 2
            assert waited >= 1.9, f"Retry-After not honoured: {waited:.2f} s"
            assert ticks > 50, "the loop was blocked while r2 waited"  # ~190 expected
            tick.cancel()
        # a stall of 8 s, stall timeout 1 s: the attempt fails and the download resumes
        async with aio_client(server, endpoint=proxy.endpoint, stall_timeout=1) as c:
            proxy.plan("stall_down=3145728 stall_ms=8000 stalls=1")
            before = proxy.stats()["stalls"]
            started = time.monotonic()
            assert (await c.get(bucket, prefix + "big")).body == data
            assert proxy.stats()["stalls"] - before == 1 and time.monotonic() - started < 6
    with FaultProxy(server.endpoint) as proxy:
        run(main(proxy))
    with FaultProxy(server.endpoint) as proxy:
        run(slow_down(proxy))


class FaultProxy:
    """Tests/FaultProxy/fault_proxy.py in front of the test server."""

    def __init__(self, upstream: str) -> None:
        self.process = subprocess.Popen([sys.executable, str(ROOT / "Tests" / "FaultProxy" / "fault_proxy.py"),
                                         "--upstream", upstream.split("://", 1)[1].rstrip("/")],
                                        stdout=subprocess.PIPE, text=True)
        port, self.control_port = (int(p) for p in self.process.stdout.readline().split())
        self.endpoint = f"http://127.0.0.1:{port}"

    def plan(self, plan: str) -> None:
        assert self.command("plan " + plan) == "ok"

    def stats(self) -> dict:
        return {k: int(v) for k, v in (item.split("=") for item in self.command("stats").split())}

    def command(self, line: str) -> str:
        with socket.create_connection(("127.0.0.1", self.control_port)) as s, s.makefile("rw") as f:
            f.write(line + "\n")
            f.flush()
            return f.readline().strip()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()

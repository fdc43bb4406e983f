"""One client shared by 16 threads."""
from __future__ import annotations

import hashlib
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import r2

THREADS = 16


def test_sixteen_threads_share_one_client(client, bucket, prefix):
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> int:
        barrier.wait()
        mine = f"{prefix}t{n:02d}/"
        done = 0
        for round_ in range(5):
            key = f"{mine}{round_}-ü"
            body = hashlib.sha256(key.encode()).digest() * (n + 1)
            etag = client.put(bucket, key, body, metadata={"thread": str(n)}).etag
            got = client.get(bucket, key)
            assert got.body == body and got.info.etag == etag and got.info.metadata == {"thread": str(n)}
            assert client.head(bucket, key).content_length == len(body)
            with client.open(bucket, key) as f:
                assert f.read() == body
            assert key.split("/")[-1] in client.presign("GET", bucket, key, 60).replace("%C3%BC", "ü")
            done += 1
        assert [o.key for o in client.list_all(bucket, prefix=mine, page_size=2)] == [f"{mine}{i}-ü" for i in range(5)]
        assert len(client.delete_objects(bucket, [f"{mine}{i}-ü" for i in range(5)]).deleted) == 5
        return done

    with ThreadPoolExecutor(THREADS) as pool:
        assert sum(pool.map(worker, range(THREADS))) == THREADS * 5
    assert client.list(bucket, prefix=prefix).objects == []


def test_errors_stay_on_the_thread_that_failed(client, bucket, prefix):
    """r2_error_last is per thread: each thread sees its own failure."""
    client.put(bucket, prefix + "exists", b"x")
    barrier = threading.Barrier(THREADS)

    def worker(n: int):
        barrier.wait()
        try:
            if n % 2:
                client.get(bucket, f"{prefix}missing-{n}")
            else:
                client.get("Bad_Bucket", "k")
        except r2.R2Error as e:
            return type(e), e.message
        return None

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))
    for n, (cls, message) in enumerate(results):
        assert cls is (r2.NoSuchKey if n % 2 else r2.InvalidBucketName)
        if not n % 2:
            assert "Bad_Bucket" in message


def test_close_waits_for_calls_in_flight(server, bucket, prefix):
    data = b"w" * (4 << 20)
    c = server.client()
    c.put(bucket, prefix + "slow", data)
    started, result = threading.Event(), {}

    class SlowSink(io.RawIOBase):
        written = 0
        def writable(self): return True
        def write(self, b):
            started.set()
            time.sleep(0.002)
            self.written += len(b)
            return len(b)
    sink = SlowSink()

    def download():
        try:
            result["info"] = c.download_fileobj(bucket, prefix + "slow", sink)
        except BaseException as e:  # noqa: B036
            result["error"] = e
    t = threading.Thread(target=download)
    t.start()
    assert started.wait(10)
    c.close()  # must wait for the download, not free the client under it
    written_when_closed = sink.written
    t.join()
    assert "error" not in result and result["info"].content_length == len(data)
    assert written_when_closed == len(data)  # the whole body had arrived before the client was freed

"""r2.Signer's results without a server: Signed is read lazily (one
r2_signed_get on first use), equals one built from the same values, is
read-only and never shows its signature in repr. Also r2.Client.presign's
URLs, which need no server either."""
from __future__ import annotations

import gc

import pytest

import r2

HOST = [("Host", "examplebucket.s3.amazonaws.com")]


@pytest.fixture
def signer():
    with r2.Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region="us-east-1") as s:
        yield s


def test_s3_documentation_example(signer):
    # The S3 documentation's GET Object example (also in the SigV4 vector files).
    s = signer.sign("GET", "/test.txt", headers=HOST + [("Range", "bytes=0-9")], unix_time=1369353600,
                    payload_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    assert s.headers[-1] == ("Authorization", s.authorization)
    assert [n for n, _ in s.headers] == ["Host", "Range", "X-Amz-Date", "x-amz-content-sha256", "Authorization"]
    assert s.query == ""
    assert s.string_to_sign.endswith(s.string_to_sign.split("\n")[-1]) and s.canonical_request.startswith("GET\n/test.txt\n")


def test_lazy_result_equals_a_built_one_and_is_read_only(signer):
    s = signer.sign("PUT", "/b/k", query="a=1&b", headers=HOST + [("Content-Type", "text/plain")], unix_time=1700000000)
    built = r2.Signed(authorization=s.authorization, headers=list(s.headers), query=s.query, signature=s.signature,
                      canonical_request=s.canonical_request, string_to_sign=s.string_to_sign)
    assert s == built and built == s
    assert s.headers is s.headers  # read once, then kept
    with pytest.raises(AttributeError):
        s.signature = "0" * 64
    for text in (repr(s), repr(built)):
        assert s.signature not in text and "Signature=" not in text


def test_results_outlive_the_signer_and_are_freed():
    signer = r2.Signer("AKID", "secret")
    results = [signer.sign("GET", f"/b/{i}", headers=HOST, unix_time=1700000000) for i in range(50)]
    signer.close()
    assert len({r.signature for r in results}) == 50  # each read after its signer is gone
    del results
    gc.collect()
    with pytest.raises(ValueError):
        signer.sign("GET", "/b/k", headers=HOST)


def test_presigned_fields(signer):
    p = signer.presign("GET", "/b/k", headers=HOST, expires=60, unix_time=1700000000)
    assert p.authorization == "" and p.headers == HOST
    assert p.query.startswith("X-Amz-Algorithm=AWS4-HMAC-SHA256&") and p.query.endswith("&X-Amz-Signature=" + p.signature)


# r2.Client.presign without a server: one r2_client_presign_into per URL, into
# a buffer each thread keeps.

def offline_client() -> r2.Client:
    return r2.Client(account_id="0123456789abcdef0123456789abcdef", access_key_id="AKID", secret_access_key="secret")


def allocating_presign(client: r2.Client, method: str, bucket: str, key: str, expires: int, unix_time: int,
                       query: dict) -> str:
    """The same URL through r2_client_presign (r2 allocates it), the call the binding no longer makes."""
    from ctypes import byref

    from r2 import _ffi
    from r2._convert import header_array

    lib = client._lib
    q, n = header_array(query, "query")
    opts = _ffi.r2_presign_options(_ffi.R2_PRESIGN_OPTIONS_VERSION, None, 0, unix_time, q, n)
    out = _ffi.r2_buf()
    assert lib.r2_client_presign(byref(out), client._handle, method.encode(), bucket.encode(), key.encode(), expires,
                                 byref(opts)) == 0
    try:
        return out.ptr[:out.size].decode()
    finally:
        lib.r2_buf_dispose(byref(out))


@pytest.mark.parametrize("key, query", [("a b/ü.txt", {}), ("ü" * 512, {}), ("k", {"x-id": "v" * 5000}),
                                        ("ü" * 512, {"x-id": "ü" * 3000})])
def test_client_presign_equals_the_allocating_call(key, query):
    # The longer ones pass the first buffer's 4096 bytes: the binding grows it and calls again.
    with offline_client() as c:
        url = c.presign("PUT", "my-bucket", key, 60, query=query or None, unix_time=1700000000)
        assert url == allocating_presign(c, "PUT", "my-bucket", key, 60, 1700000000, query)
        assert c.presign("GET", "my-bucket", "k", 60, unix_time=1700000000) == \
            allocating_presign(c, "GET", "my-bucket", "k", 60, 1700000000, {})


def test_client_presign_arguments_of_other_types():
    import datetime

    class Name(str):
        pass

    with offline_client() as c:
        url = c.presign("GET", "my-bucket", "k", 3600, unix_time=1700000000)
        for method, bucket, expires in ((Name("GET"), "my-bucket", 3600), ("GET", Name("my-bucket"), 3600.0),
                                        ("GET", "my-bucket", datetime.timedelta(hours=1)), ("GET", "my-bucket", 3600)):
            assert c.presign(method, bucket, "k", expires, unix_time=1700000000) == url
        with pytest.raises(TypeError, match="method must be a str"):
            c.presign(b"GET", "my-bucket", "k")
        with pytest.raises(TypeError, match="bucket must be a str"):
            c.presign("GET", ["my-bucket"], "k")  # unhashable: not a cache key either
        with pytest.raises(r2.InvalidArgument, match="604800"):
            c.presign("GET", "my-bucket", "k", 604801)
        with pytest.raises(r2.InvalidBucketName):
            c.presign("GET", "B", "k")
        assert c.presign("GET", "my-bucket", "k", 3600, unix_time=1700000000) == url  # the buffer survived the errors


def test_client_presign_from_threads_and_a_signal_handler():
    # Each thread has its own buffer and signing-time options; a signal handler
    # that presigns (at another time) on the main thread between two steps of a
    # call must not change the URL that call returns (they are taken out while in use).
    import signal
    import threading

    with offline_client() as c:
        expected = {i: c.presign("GET", "my-bucket", f"k/{i}", 60, unix_time=1700000000) for i in range(200)}
        wrong: list = []

        def presign_all() -> None:
            for _ in range(20):
                for i in range(200):
                    if c.presign("GET", "my-bucket", f"k/{i}", 60, unix_time=1700000000) != expected[i]:
                        wrong.append(i)

        handled = [0]

        def handler(signum, frame) -> None:
            handled[0] += 1
            c.presign("PUT", "other-bucket", "from-the-handler/" + "x" * handled[0], 600, unix_time=1600000000)

        previous = signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
        try:
            threads = [threading.Thread(target=presign_all) for _ in range(3)]
            for t in threads:
                t.start()
            presign_all()
            for t in threads:
                t.join()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        assert not wrong and handled[0] > 0


def test_client_close_while_threads_presign():
    # close() waits for the presigns in flight (presign counts itself in the
    # client like every call) and returns; later ones raise ValueError.
    import threading

    c = offline_client()
    outcomes: list = []
    started = threading.Barrier(5)

    def presign_until_closed() -> None:
        started.wait()
        try:
            while True:
                c.presign("GET", "my-bucket", "k", 60)
        except ValueError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=presign_until_closed) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    c.close()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert outcomes == ["the r2 client is closed"] * 4

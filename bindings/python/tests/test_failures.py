"""Exceptions for each error kind that can be provoked for real, and callbacks that fail."""
from __future__ import annotations

import io
import signal
import subprocess
import sys
import time

import pytest

import r2
from conftest import PYTHON_DIR
from stall_server import StallServer


def test_no_such_key_carries_the_server_details(client, bucket, prefix):
    with pytest.raises(r2.NoSuchKey) as e:
        client.get(bucket, prefix + "missing")
    err = e.value
    assert isinstance(err, r2.NotFound) and isinstance(err, r2.ObjectError)
    assert (err.code, err.http_status, err.s3_code, err.retryable) == (-300, 404, "NoSuchKey", False)
    assert err.request_id and err.request_id in str(err)
    assert err.retry_after is None


def test_no_such_bucket(client):
    with pytest.raises(r2.NoSuchBucket):
        client.get("no-such-bucket-r2", "k")
    with pytest.raises(r2.NoSuchBucket):
        client.list("no-such-bucket-r2")
    with pytest.raises(r2.NoSuchBucket):
        client.list_all("no-such-bucket-r2").__next__()


def test_wrong_secret_is_signature_does_not_match_without_leaking_it(server, bucket):
    wrong_secret = "this-is-the-wrong-secret-key-0000000000"
    with server.client(secret_access_key=wrong_secret) as wrong:
        assert wrong_secret not in repr(wrong) and server.secret_access_key not in repr(wrong)
        with pytest.raises(r2.SignatureDoesNotMatch) as e:
            wrong.get(bucket, "k")
    assert e.value.http_status == 403 and isinstance(e.value, r2.AuthError)
    assert wrong_secret not in str(e.value) and server.secret_access_key not in str(e.value)


def test_invalid_arguments_are_refused_before_sending(client, bucket):
    with pytest.raises(r2.InvalidBucketName):
        client.put("Bad_Bucket", "k", b"")
    with pytest.raises(r2.InvalidObjectName):
        client.put(bucket, "k" * 1025, b"")
    with pytest.raises(r2.InvalidArgument, match="NUL"):
        client.put(bucket, "a\0b", b"")  # C would see "a": refused by the binding
    with pytest.raises(r2.InvalidArgument, match="key"):
        client.put(bucket, "bad \udcff", b"")  # not UTF-8: refused by r2
    with pytest.raises(r2.InvalidArgument):
        client.put(bucket, "k", b"", content_type="text/plain\r\nX-Evil: 1")  # header injection
    with pytest.raises(r2.InvalidArgument, match="checksum"):
        client.put(bucket, "k", b"", checksum="crc64")
    with pytest.raises(r2.InvalidArgument):
        client.presign("POST", bucket, "k")
    with pytest.raises(r2.InvalidArgument):
        client.presign("GET", bucket, "k", expires=604801)
    with pytest.raises(TypeError, match="key must be a str"):
        client.get(bucket, b"bytes-key")
    assert issubclass(r2.InvalidArgument, ValueError)


def test_configuration_errors(server):
    with pytest.raises(r2.ConfigError, match="(?i)http"):
        r2.Client(access_key_id="a", secret_access_key="b", endpoint=server.endpoint)  # http needs allow_http
    with pytest.raises(r2.ConfigError):
        r2.Client(access_key_id="a", secret_access_key="b")  # neither account id nor endpoint
    with pytest.raises(r2.InvalidArgument, match="jurisdiction"):
        r2.Client(account_id="x", access_key_id="a", secret_access_key="b", jurisdiction="mars")


def test_timeout_and_limit_options_are_validated_by_r2():
    base = dict(access_key_id="a", secret_access_key="b", endpoint="http://127.0.0.1:9", allow_http=True)
    for bad in (dict(stall_timeout=0.5), dict(rate_limit=5e-11), dict(max_get_bytes=0), dict(max_attempts=0)):
        with pytest.raises(r2.ConfigError):
            r2.Client(**base, **bad)
    with r2.Client(**base, stall_timeout=1, stall_min_rate=0, list_timeout=1, part_timeout=1, deadline=2,
                   max_attempts=1, rate_limit=0.001, max_get_bytes=1) as c:
        t = time.monotonic()
        with pytest.raises(r2.ConnectionFailed):
            c.get("bucket", "k")
        assert time.monotonic() - t < 2  # one attempt (max_attempts=1), within the deadline


def test_from_env(server, bucket, prefix, monkeypatch):
    monkeypatch.setenv("R2_ENDPOINT", server.endpoint)
    monkeypatch.setenv("R2_ALLOW_HTTP", "1")
    monkeypatch.setenv("R2_ACCESS_KEY_ID", server.access_key_id)
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", server.secret_access_key)
    with r2.Client.from_env() as c:
        c.put(bucket, prefix + "env", b"from env")
        assert c.get(bucket, prefix + "env").body == b"from env"
        assert server.secret_access_key not in repr(c)
    monkeypatch.delenv("R2_ACCESS_KEY_ID")
    with pytest.raises(r2.ConfigError, match="R2_ACCESS_KEY_ID"):
        r2.Client.from_env()


def test_connection_refused_is_a_network_error():
    with r2.Client(access_key_id="a", secret_access_key="b", endpoint="http://127.0.0.1:9", allow_http=True,
                   connect_timeout=2) as c:
        with pytest.raises(r2.ConnectionFailed) as e:
            c.head("bucket", "k")
    assert isinstance(e.value, r2.NetworkError) and e.value.http_status == 0


def test_a_closed_client_refuses_calls(server, bucket):
    c = server.client()
    c.close()
    c.close()  # idempotent
    assert "closed" in repr(c)
    with pytest.raises(ValueError, match="closed"):
        c.head(bucket, "k")


class Boom(Exception):
    pass


def test_an_exception_in_a_read_callback_aborts_the_upload_and_is_reraised(client, bucket, prefix):
    def chunks():
        yield b"x" * 100_000
        raise Boom("from the source")
    with pytest.raises(Boom, match="from the source"):
        client.put(bucket, prefix + "boom", chunks(), length=1_000_000)
    with pytest.raises(r2.NoSuchKey):
        client.head(bucket, prefix + "boom")

    class FailingFile(io.RawIOBase):
        def readable(self): return True
        def readinto(self, b): raise OSError("disk on fire")
    with pytest.raises(OSError, match="disk on fire"):
        client.put(bucket, prefix + "boom", FailingFile(), length=10)


def test_an_exception_in_a_progress_or_write_callback_aborts_the_download(client, bucket, prefix):
    client.put(bucket, prefix + "obj", b"y" * (1 << 20))

    def progress(n):
        raise Boom("from the progress callback")
    with pytest.raises(Boom, match="progress"):
        client.download_fileobj(bucket, prefix + "obj", io.BytesIO(), callback=progress)

    class FullDisk(io.RawIOBase):
        written = 0
        def writable(self): return True
        def write(self, b):
            self.written += len(b)
            if self.written > 100_000:
                raise OSError(28, "No space left on device")
            return len(b)
    sink = FullDisk()
    with pytest.raises(OSError, match="No space"):
        client.download_fileobj(bucket, prefix + "obj", sink)
    assert sink.written < (1 << 20)  # stopped early, not after the whole body
    with pytest.raises(Boom):
        client.put(bucket, prefix + "up", io.BytesIO(b"z" * 100), callback=progress)


INTERRUPT_SCRIPT = r"""
import os, signal, sys, time
# A background job of a non-interactive shell starts with SIGINT ignored, and
# Python then keeps it ignored; this child stands for an interactive program.
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, sys.argv[1])
import r2
mode, endpoint, bucket, key = sys.argv[2:6]
env = os.environ
client = r2.Client(endpoint=endpoint, allow_http=True, access_key_id=env.get("R2_TEST_ACCESS_KEY_ID", "a"),
                   secret_access_key=env.get("R2_TEST_SECRET_ACCESS_KEY", "b"))
class Source:  # endless: only Ctrl-C can end this upload
    started = False
    def __init__(self, delay): self.delay = delay
    def readable(self): return True
    def readinto(self, b):
        if not self.started:
            self.started = True
            print("uploading", flush=True)
        time.sleep(self.delay)
        n = min(len(b), 1 << 16)
        b[:n] = bytes(n)
        return n
try:
    if mode == "put":  # one streamed PUT whose read callback keeps being called
        client.put(bucket, key, Source(0.01), length=4 << 30)
    else:  # a multipart upload of unknown length whose part PUT stalls: no callback at all
        client.upload_fileobj(Source(0), bucket, key, part_size=5 << 20, concurrency=1)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
"""


def interrupt(mode: str, endpoint: str, bucket: str, key: str, ready) -> None:
    """Runs INTERRUPT_SCRIPT, sends SIGINT once ``ready()`` returns, and checks
    that the upload ended with KeyboardInterrupt within a few seconds."""
    p = subprocess.Popen([sys.executable, "-c", INTERRUPT_SCRIPT, str(PYTHON_DIR), mode, endpoint, bucket, key],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "uploading"  # the transfer is under way
        ready()
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        try:
            code = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the upload went on for 30 s after SIGINT")
        elapsed = time.monotonic() - sent
        out, err = p.communicate()
        assert code == 3, err
        assert out.strip() == "interrupted"
        assert elapsed < 5.0, f"{elapsed:.1f} s from SIGINT to exit"
    finally:
        p.kill()
        p.communicate()


def test_ctrl_c_cancels_a_long_upload_promptly(server, bucket, prefix):
    """SIGINT while the upload's read callback keeps being called: the
    binding's temporary SIGINT handler only records it, the next callback
    aborts the PUT, and KeyboardInterrupt reaches the caller once r2 has
    returned (never raised half-way through a callback or a clean-up)."""
    key = prefix + "interrupted"
    interrupt("put", server.endpoint, bucket, key, lambda: time.sleep(0.5))
    with server.client() as c, pytest.raises(r2.NoSuchKey):
        c.head(bucket, key)


def test_ctrl_c_cancels_a_stalled_multipart_upload_promptly():
    """SIGINT while the main thread waits in r2 for a part PUT that the network
    no longer moves (no callback would run for a minute): the wakeup-fd
    watcher cancels the r2_cancel at once, r2 aborts the upload, and the
    caller gets KeyboardInterrupt."""
    with StallServer() as stall:
        def stalled():
            assert stall.put_started.wait(20), "the part upload never started"
            time.sleep(1.0)  # every part buffer full: the main thread is inside r2, without callbacks
        interrupt("stalled", stall.endpoint, "stall", "k", stalled)
        assert stall.aborted.wait(5), "the multipart upload was not aborted"


def test_guarded_calls_restore_the_sigint_handler_and_wakeup_fd(client, bucket, prefix):
    before = signal.getsignal(signal.SIGINT)
    client.upload_fileobj(io.BytesIO(b"guarded"), bucket, prefix + "guarded")
    client.put(bucket, prefix + "guarded", io.BytesIO(b"guarded"))
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.set_wakeup_fd(-1) == -1  # nothing left behind

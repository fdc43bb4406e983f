"""Owned handles (r2._managed.Managed) and keyword-only options, without a server."""
from __future__ import annotations

import gc
import io
import threading

import pytest

import r2
from r2._managed import Managed


def offline_client() -> r2.Client:
    """A client that never sends anything in these tests (every call fails before the network)."""
    return r2.Client(account_id="0123456789abcdef0123456789abcdef", access_key_id="AKID", secret_access_key="secret")


class Counted(Managed):
    _kind = "counted thing"

    def __init__(self, frees: list) -> None:
        self._own(None, object())
        self.frees = frees

    def _free(self, lib, handle) -> None:
        self.frees.append(handle)


def test_a_handle_is_freed_once_whatever_closes_it():
    frees: list = []
    thing = Counted(frees)
    assert not thing.closed and thing._ptr() is not None
    with thing as same:
        assert same is thing
    thing.close()
    assert thing.closed and len(frees) == 1
    with pytest.raises(ValueError, match="the r2 counted thing is closed"):
        thing._ptr()
    del thing, same
    gc.collect()
    assert len(frees) == 1  # collection after close frees nothing more

    frees.clear()
    Counted(frees)  # collected unclosed
    gc.collect()
    assert len(frees) == 1


def test_racing_closes_free_once():
    for _ in range(50):
        frees: list = []
        thing = Counted(frees)
        start = threading.Barrier(4)

        def close():
            start.wait()
            thing.close()
        threads = [threading.Thread(target=close) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(frees) == 1


def test_client_signer_iterator_and_cancel_token_refuse_use_after_close():
    client = offline_client()
    iterator = client.list_all("my-bucket")  # no request until next()
    with client:
        pass
    assert client.closed and iterator.closed and "closed" in repr(client)
    client.close()  # idempotent
    for call in (lambda: client.get("my-bucket", "k"), lambda: client.put("my-bucket", "k", b"x"),
                 lambda: client.list("my-bucket"), lambda: client.presign("GET", "my-bucket", "k"),
                 lambda: client.list_parts("my-bucket", "k", "id")):
        with pytest.raises(ValueError, match="the r2 client is closed"):
            call()
    with pytest.raises(StopIteration):  # a closed iterator is exhausted
        next(iterator)

    signer = r2.Signer("AKID", "secret")
    assert signer.sign("GET", "/b/k", headers={"Host": "h"}, unix_time=1_700_000_000).signature
    signer.close()
    with pytest.raises(ValueError, match="the r2 signer is closed"):
        signer.sign("GET", "/b/k", headers={"Host": "h"})

    token = r2.CancelToken()
    token.close()
    with pytest.raises(ValueError, match="the r2 cancel token is closed"):
        token.cancel()


def test_a_misspelt_option_is_a_type_error():
    with offline_client() as c:
        calls = {
            "put": lambda: c.put("my-bucket", "k", b"x", contnt_type="text/plain"),
            "get": lambda: c.get("my-bucket", "k", rnage=(0, 1)),
            "open": lambda: c.open("my-bucket", "k", if_mach="x"),
            "head": lambda: c.head("my-bucket", "k", if_none_mach="x"),
            "copy": lambda: c.copy("my-bucket", "a", "my-bucket", "b", replace_metdata=True),
            "list": lambda: c.list("my-bucket", prefx="a/"),
            "list_all": lambda: c.list_all("my-bucket", page_sise=10),
            "upload_file": lambda: c.upload_file(__file__, "my-bucket", "k", metdata={"a": "b"}),
            "upload_fileobj": lambda: c.upload_fileobj(io.BytesIO(b"x"), "my-bucket", "k", lenght=1),
            "download_file": lambda: c.download_file("my-bucket", "k", "f", if_mach="x"),
            "download_fileobj": lambda: c.download_fileobj("my-bucket", "k", io.BytesIO(), Extra_Args={}),
            "create_multipart_upload": lambda: c.create_multipart_upload("my-bucket", "k", checksum="md5"),
            "complete_multipart_upload": lambda: c.complete_multipart_upload("my-bucket", "k", "id", [], if_mach="x"),
        }
        for name, call in calls.items():
            with pytest.raises(TypeError, match=f"{name}\\(\\) got an unexpected keyword argument"):
                call()
        with pytest.raises(TypeError, match="positional arguments but 5 were given"):  # options are keyword-only
            c.put("my-bucket", "k", b"x", "text/plain")  # type: ignore[misc]

"""ClientBase: the client's handle and the plumbing every operation shares
(a C call with the handle held, results read and released, streamed bodies,
transfer-manager calls under Ctrl-C protection). The operations themselves
are in _objects, _listing, _multipart, _transfers and _presign; _client puts
them together as r2.Client."""
from __future__ import annotations

import threading
import weakref
from ctypes import byref, pointer, string_at

from . import _ffi
from ._convert import CallbackErrors, check
from ._managed import Managed
from ._streams import ReadSource
from ._types import ObjectInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from ._library import Library
    from ._transfer import TransferCall


class _InUse:
    """``with client._in_use as handle``: the client's handle for one C call.

    r2_client is thread-safe, but r2_client_free must not run while another
    thread is inside a call, so calls are counted and close() waits for them.
    The count is a list (append and pop are atomic), so a call takes no lock:
    it counts itself first, then checks that the client is not closing, and
    close() marks the client closing before it waits for the count to drop to
    zero; either close() sees the call, or the call sees close(). A call that
    ends uncounts itself first, then wakes a closing client's close().
    PresignMixin.presign writes these steps out (its hot path)."""

    __slots__ = ("client", "calls")

    def __init__(self, client: ClientBase) -> None:
        self.client = client
        self.calls: list[None] = []

    # Both run around every C call (a presigned URL is ~3 µs in all), hence
    # plain attribute reads and no *args.
    def __enter__(self) -> Any:
        self.calls.append(None)
        c = self.client
        handle = c._handle  # set before _in_use exists (ClientBase._start), None once released
        if c._closing or handle is None:
            self.__exit__(None, None, None)
            raise ValueError("the r2 client is closed")
        return handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.calls.pop()
        if self.client._closing:
            self.wake()

    def wake(self) -> None:
        """Wakes close(), waiting for the calls in flight to end."""
        c = self.client
        with c._lock:
            c._lock.notify_all()


class ClientBase(Managed):
    """An owned r2_client handle shared by threads, with its open children
    (streams and list iterators, closed with it)."""

    _kind = "client"
    _lib: Library

    def _start(self, lib: Library, handle: Any, description: str) -> None:
        self._own(lib, handle)
        self._description = description
        self._lock = threading.Condition()
        self._closing = False
        self._in_use = _InUse(self)
        self._children: weakref.WeakSet = weakref.WeakSet()  # open streams and list iterators

    def _free(self, lib: Library, handle: Any) -> None:
        lib.r2_client_free(handle)

    def close(self) -> None:
        """Closes open streams and iterators, waits for calls in flight on
        other threads, then frees the client. Idempotent. Do not call it from
        inside a callback of this client's own call (it would wait for itself)."""
        if self.closed:
            return
        with self._lock:
            if self._closing:
                return
            children = list(self._children)
        for child in children:
            child.close()
        with self._lock:
            self._closing = True
            self._lock.wait_for(lambda: not self._in_use.calls)
        self._release()

    def _adopt(self, child: Any) -> None:
        """Closes ``child`` (a stream or iterator) when the client closes."""
        with self._lock:
            self._children.add(child)

    def _info_call(self, call: Callable[[Any, Any], int], errors: Optional[CallbackErrors] = None) -> ObjectInfo:
        """Runs ``call(byref(info), handle)`` and returns the info it filled."""
        info = _ffi.r2_object_info(_ffi.R2_OBJECT_INFO_VERSION)
        with self._in_use as handle:
            code = call(byref(info), handle)
        try:
            if errors is not None:
                errors.raise_or_check(self._lib, code)
            else:
                check(self._lib, code)
            return ObjectInfo.from_c(info)
        finally:
            self._lib.r2_object_info_dispose(byref(info))

    def _buf_call(self, call: Callable[[Any, Any], int]) -> str:
        """Runs ``call(byref(buf), handle)`` and returns the string r2 put in the buffer."""
        out = _ffi.r2_buf()
        with self._in_use as handle:
            code = call(byref(out), handle)
        try:
            check(self._lib, code)
            return string_at(out.ptr, out.size).decode("utf-8", "surrogateescape")
        finally:
            self._lib.r2_buf_dispose(byref(out))

    def _get_stream(self, bucket: Optional[bytes], key: Optional[bytes], opts: Any,
                    on_data: Callable[[Any, int], Any]) -> ObjectInfo:
        """r2_object_get_stream with ``on_data(pointer, size)`` per chunk on
        this thread; a false return cancels, an exception aborts and is re-raised."""
        from ._interrupt import Interrupts  # here: signal and enum are a noticeable part of `import r2`
        errors = CallbackErrors()
        with Interrupts() as guard:
            def write(chunk: Any, size: int, _userdata: Any) -> int:
                try:
                    if guard.interrupted:
                        return 1
                    return 0 if on_data(chunk, size) is not False else 1
                except BaseException as e:  # noqa: B036 -- KeyboardInterrupt too: it must abort the transfer
                    errors.record(e)
                    return 1
            write_cb = _ffi.r2_write_cb(write)
            return self._info_call(lambda info, h: self._lib.r2_object_get_stream(info, h, bucket, key, write_cb,
                                                                                  None, opts), errors)

    def _rewindable(self, put: Any, source: ReadSource) -> tuple[Any, Any]:
        """(put options, rewind callback): a seekable source gets a rewind
        callback (r2 then re-sends a failed PUT from its start); the callback
        object must stay referenced until the call returns."""
        if not source.can_rewind:
            return put, None
        if put is None:
            put = _ffi.r2_put_options(_ffi.R2_PUT_OPTIONS_VERSION)
        rewind = _ffi.r2_rewind_cb(source.rewind)
        put.rewind = rewind
        return put, rewind

    def _transfer(self, tc: TransferCall, call: Callable[[Any, Any, Any], int]) -> ObjectInfo:
        """Runs ``call(byref(info), handle, byref(transfer options))`` under
        Ctrl-C protection: SIGINT cancels it through its r2_cancel (even while
        the network stalls) and is raised as KeyboardInterrupt once r2 has
        cleaned up (an unfinished multipart upload is aborted first)."""
        from ._interrupt import Interrupts  # here: signal and enum are a noticeable part of `import r2`
        info = _ffi.r2_object_info(_ffi.R2_OBJECT_INFO_VERSION)
        with Interrupts(tc.request_cancel) as guard:
            tc.interrupted = lambda: guard.interrupted
            with self._in_use as handle:
                code = call(byref(info), handle, byref(tc.options))
            try:
                tc.finish(code)
                return ObjectInfo.from_c(info)
            finally:
                self._lib.r2_object_info_dispose(byref(info))

    def _upload_stream(self, bucket: Optional[bytes], key: Optional[bytes], body: Any, length: int,
                       tc: TransferCall) -> ObjectInfo:
        """r2_transfer_upload_stream from a file-like object or iterable; length -1: unknown (multipart)."""
        source = ReadSource(body, tc.errors, stop=lambda: tc.interrupted())
        read = _ffi.r2_read_cb(source.fill)  # referenced until the call returns
        put = tc.options.put.contents if tc.options.put else None
        put, rewind = self._rewindable(put, source)  # noqa: F841 -- rewind referenced until the call returns
        if put is not None and not tc.options.put:
            tc.options.put = pointer(put)
        return self._transfer(tc, lambda info, h, o: self._lib.r2_transfer_upload_stream(info, h, bucket, key, length,
                                                                                         read, None, o))

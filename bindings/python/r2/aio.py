"""r2.aio: an asyncio client on libr2's asynchronous engine.

``r2.aio.Client`` takes the same settings as ``r2.Client`` (and has
``from_env``), and its methods have the same names, as coroutines::

    import r2.aio

    async with r2.aio.Client.from_env() as client:
        await client.put("my-bucket", "hello.txt", b"hello")
        print((await client.get("my-bucket", "hello.txt")).body)
        async with client.open("my-bucket", "big.bin") as body:   # streamed, with backpressure
            async for chunk in body:
                ...
        async for entry in client.list_all("my-bucket", prefix="logs/"):
            print(entry.key)

Each call starts one of libr2's ``_async`` operations and returns to the
event loop at once: r2's engine (libcurl's multi interface, on at most four
r2 threads in the whole process) runs every request, so thousands of calls can
be in flight from one loop without a thread each. r2 reports each outcome on
an engine thread; it reaches the running loop through
``loop.call_soon_threadsafe`` (one wake-up for a batch of completions), so the
loop never blocks on r2. Cancelling the task that awaits a call cancels the
operation (``r2_op_cancel``) and waits for r2 to finish it.
"""
from __future__ import annotations

import asyncio
import builtins
import collections
import inspect
import itertools
import os
import threading
import weakref
from ctypes import POINTER, byref, c_char_p, pointer, string_at

from . import _ffi, _objects
from ._client import ClientSettings
from ._convert import CallbackErrors, byte_pointer, cstr
from ._errors import EntityTooLarge, InvalidRequest, invalid_argument, last_error
from ._listing import list_page
from ._multipart import complete_options, completed_parts, list_uploads_options, part_copy_args, part_options
from ._objects import copy_is_managed, copy_transfer_call, copy_without_conditions, delete_result
from ._options import (DOWNLOAD_EXTRA_ARGS, GET_FIELDS, PUT_FIELDS, by_ref, copy_options,
                       get_options, list_options, part_number as checked_part_number, path, picked, put_struct, sse_key,
                       with_extra_args)
from ._presign import PresignMixin
from ._streams import ReadSource, c_buffer, remaining_length
from ._transfer import TransferCall
from ._transfers import upload_transfer_call
from ._transfers import no_transfer_options
from ._types import CompletedPart, MultipartUpload, Object, ObjectInfo, PartInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, AsyncIterator, Callable, Iterable, Mapping, Optional, Union

    from ._convert import Headers, HTTPDate
    from ._options import PathLike, Range
    from ._streams import Progress
    from ._transfer import CancelToken, ProgressCallback, TransferConfig
    from ._types import DeleteResult, ListPage, ObjectEntry

__all__ = ["Client", "ObjectStream"]


# --- completions: from r2's engine threads to the event loop ---

class _Inbox:
    """Completions (and stream chunks) from r2's engine threads to one event
    loop. ``post`` queues a call and wakes the loop with call_soon_threadsafe
    only when none is pending, so a burst of completions costs one wake-up;
    the loop runs the queued calls in order and never waits for r2."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)  # weak: _inboxes holds this by the loop, which must stay collectable
        self.lock = threading.Lock()
        self.calls: collections.deque = collections.deque()
        self.woken = False

    @property
    def loop(self) -> Any:
        return self._loop()

    def post(self, call: Callable[..., Any], *args: Any) -> None:
        """Any thread: runs ``call(*args)`` on the loop soon."""
        with self.lock:
            self.calls.append((call, args))
            if self.woken:
                return
            self.woken = True
        loop = self._loop()
        try:
            if loop is not None:
                loop.call_soon_threadsafe(self._run)
        except RuntimeError:  # the loop is closed: nobody waits for these any more
            pass

    def _run(self) -> None:
        with self.lock:
            calls, self.calls = self.calls, collections.deque()
            self.woken = False
        for call, args in calls:
            try:
                call(*args)
            except BaseException as e:  # noqa: B036 -- the calls after it must run all the same
                self.loop.call_exception_handler({"message": "r2.aio: a completion failed", "exception": e})


_inboxes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _inbox() -> _Inbox:
    loop = asyncio.get_running_loop()
    inbox = _inboxes.get(loop)
    if inbox is None:
        inbox = _inboxes[loop] = _Inbox(loop)
    return inbox


class _Operation:
    """One ``_async`` call in flight: the future its caller awaits, the r2_op
    handle (used on the loop's thread only, freed once the outcome arrived),
    and every Python object r2 may touch until its finalizer has run
    (outputs, borrowed bodies, ctypes callbacks), held in ``_operations``."""

    __slots__ = ("client", "lib", "inbox", "future", "handle", "result", "cleanup", "keep", "errors", "finished")

    def __init__(self, client: Client, result: Optional[Callable[[], Any]], cleanup: Optional[Callable[[], None]],
                 keep: Any, errors: Optional[CallbackErrors]) -> None:
        self.client = client
        self.lib = client._lib
        self.inbox = _inbox()
        self.future: asyncio.Future = self.inbox.loop.create_future()
        self.handle: Any = POINTER(_ffi.r2_op)()
        self.result = result
        self.cleanup = cleanup
        self.keep = keep
        self.errors = errors  # what the operation's Python callbacks raised
        self.finished = False

    def complete(self, error: Optional[BaseException]) -> None:
        """On the loop, once: reads and releases the outputs, frees the
        handle and hands the outcome to the future."""
        value = None
        try:
            # A callback's exception is why r2 aborted: it is what the caller sees.
            if self.errors is not None and self.errors.error is not None:
                error = self.errors.error
            if error is None and self.result is not None:
                value = self.result()
        except BaseException as e:  # noqa: B036 -- delivered to the awaiting task
            error = e
        finally:
            if self.cleanup is not None:
                self.cleanup()
            self.lib.r2_op_free(self.handle)
            self.handle = None
            self.finished = True
            self.client._ended(self)
        if not self.future.done():
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(value)

    def cancel(self) -> None:
        """On the loop: asks r2 to stop the operation (it completes soon, with R2_ERR_CANCELLED)."""
        if not self.finished:
            self.lib.r2_op_cancel(self.handle)

    def resume(self) -> None:
        if not self.finished:
            self.lib.r2_op_resume(self.handle)

    async def outcome(self) -> Any:
        """The operation's result. Cancelling the awaiting task cancels the
        operation and waits until r2 has finished it, then raises CancelledError."""
        try:
            return await self.future
        except asyncio.CancelledError:
            if not self.finished:
                self.cancel()
                self.future = self.inbox.loop.create_future()
                try:
                    await self.future
                except BaseException:  # noqa: B036 -- R2_ERR_CANCELLED (or its own outcome): the task is cancelled
                    pass
            raise


# Every operation's _Operation by the id r2 gets as userdata, from the start
# until r2's finalizer ran: nothing r2 may still use is collected before.
_operations: dict[int, _Operation] = {}
_ids = itertools.count(1)


def _on_done(_op: Any, status: int, userdata: int) -> None:
    """r2_done_cb, on an r2 engine thread."""
    operation = _operations.get(userdata)
    if operation is None:
        return
    try:  # r2_error_last() describes the operation's failure here, on this thread only
        error: Optional[BaseException] = None if status == _ffi.R2_OK else last_error(operation.lib, status)
    except BaseException as e:  # noqa: B036 -- never lose the completion
        error = e
    operation.inbox.post(operation.complete, error)


def _on_free(userdata: int) -> None:
    """r2_free_cb, after done: the operation's objects may go."""
    _operations.pop(userdata, None)


# One done callback and one finalizer for every operation, alive as long as the module.
_DONE = _ffi.r2_done_cb(_on_done)
_FREE = _ffi.r2_free_cb(_on_free)


# --- streamed bodies ---

class ObjectStream:
    """The body of one streamed GET (r2_object_get_stream_async) as an async
    iterator of ``bytes`` chunks, with backpressure: when ``buffer_size``
    bytes wait unread, r2's write callback answers R2_WRITE_PAUSE and the
    transfer pauses without holding an r2 thread; reading resumes it
    (r2_op_resume). ``info`` is set once the body was read to its end.
    ``read(n)`` reads up to n bytes (all with -1). ``aclose()`` (or the end
    of ``async with``) cancels an unfinished transfer."""

    def __init__(self, buffer_size: int, inbox: _Inbox) -> None:
        self.inbox = inbox
        self.limit = buffer_size
        self.lock = threading.Lock()  # buffered and paused are shared with the engine thread
        self.buffered = 0
        self.paused = False
        self.closed = False
        self.chunks: collections.deque = collections.deque()
        self.info: Optional[ObjectInfo] = None
        self.error: Optional[BaseException] = None
        self.ended = False
        self.waiter: Optional[asyncio.Future] = None
        self.operation: Optional[_Operation] = None

    # r2_write_cb, on an r2 engine thread
    def _write(self, chunk: Any, size: int, _userdata: Any) -> int:
        if self.closed:
            return 1  # abort: nobody reads any more
        with self.lock:
            if self.buffered >= self.limit:
                self.paused = True
                return _ffi.R2_WRITE_PAUSE  # not taken: r2 offers it again after r2_op_resume
            self.buffered += size
        self.inbox.post(self._arrived, string_at(chunk, size))
        return 0

    def _arrived(self, data: bytes) -> None:
        self.chunks.append(data)
        self._wake()

    def _finished(self, future: asyncio.Future) -> None:
        self.ended = True
        self.error = future.exception()
        if self.error is None:
            self.info = future.result()
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def _wait(self) -> None:
        """Until a chunk or the end arrives."""
        self.waiter = self.inbox.loop.create_future()
        await self.waiter

    async def _started(self) -> ObjectStream:
        """Waits for the first chunk or the end: an error before the body
        (NoSuchKey, NotModified, ...) is raised here."""
        try:
            while not self.chunks and not self.ended:
                await self._wait()
        except asyncio.CancelledError:
            await self.aclose()
            raise
        if self.error is not None and not self.chunks:
            raise self.error
        return self

    def _taken(self, n: int) -> None:
        resume = False
        with self.lock:
            self.buffered -= n
            if self.paused and self.buffered <= self.limit // 2:
                self.paused = False
                resume = True
        if resume and self.operation is not None:
            self.operation.resume()

    def __aiter__(self) -> ObjectStream:
        return self

    async def __anext__(self) -> bytes:
        while not self.chunks:
            if self.ended or self.closed:
                if self.error is not None and not self.closed:
                    raise self.error
                raise StopAsyncIteration
            await self._wait()
        data = self.chunks.popleft()
        self._taken(len(data))
        return data

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (b"" at the end); every remaining byte with n < 0."""
        parts: list[bytes] = []
        wanted = n
        async for chunk in self:
            if 0 <= wanted < len(chunk):
                parts.append(chunk[:wanted])
                rest = chunk[wanted:]
                self.chunks.appendleft(rest)
                with self.lock:
                    self.buffered += len(rest)
                break
            parts.append(chunk)
            if wanted >= 0:
                wanted -= len(chunk)
                if wanted == 0:
                    break
        return b"".join(parts)

    def close(self) -> None:
        """Cancels the transfer if it is not over, without waiting (aclose waits)."""
        if self.closed:
            return
        self.closed = True
        self.chunks.clear()
        operation = self.operation
        if operation is not None and not operation.finished:
            operation.cancel()
            operation.resume()  # a paused transfer notices the cancel when it moves

    async def aclose(self) -> None:
        """Cancels the transfer if it is not over, and waits until r2 has ended it."""
        self.close()
        while self.operation is not None and not self.ended:
            await self._wait()

    async def __aenter__(self) -> ObjectStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _AsyncSource:
    """An async iterable of bytes as an r2_read_cb: ``pump`` (a task on the
    loop) keeps up to ``limit`` bytes ready; ``read`` (r2's engine thread)
    takes them, and answers R2_READ_PAUSE when none are ready, which pauses
    the transfer until ``pump`` resumes it (r2_op_resume)."""

    def __init__(self, body: Any, progress: _Progress, counts: bool, limit: int = 1 << 20) -> None:
        self.iterator = body.__aiter__()
        self.progress = progress
        self.counts = counts and progress.wanted  # the bytes read are the progress (not r2's transfer progress)
        self.limit = limit
        self.lock = threading.Lock()  # chunks, buffered, paused, ended are shared with the engine thread
        self.chunks: collections.deque = collections.deque()
        self.offset = 0  # into chunks[0]
        self.buffered = 0
        self.paused = False
        self.ended = False
        self.space: Optional[asyncio.Future] = None  # the pump waits on it while the buffer is full
        self.operation: Optional[_Operation] = None

    def read(self, buf: Any, cap: int, _userdata: Any) -> int:  # r2_read_cb, on an r2 engine thread
        with self.lock:
            if not self.chunks:
                if self.ended:
                    return -1 if self.progress.failed else 0
                self.paused = True
                return _ffi.R2_READ_PAUSE
            chunk = self.chunks[0]
            n = min(cap, len(chunk) - self.offset)
            c_buffer(buf, n)[:] = chunk[self.offset:self.offset + n]
            self.offset += n
            if self.offset == len(chunk):
                self.chunks.popleft()
                self.offset = 0
            was_full = self.buffered >= self.limit
            self.buffered -= n
            wake = was_full and self.buffered < self.limit
        if wake:
            self.progress.inbox.post(self._room)
        if self.counts:
            self.progress.add(n)
        return n

    def _room(self) -> None:
        if self.space is not None and not self.space.done():
            self.space.set_result(None)

    def _resume_if_paused(self) -> None:
        with self.lock:
            paused, self.paused = self.paused, False
        if paused and self.operation is not None:
            self.operation.resume()

    async def pump(self) -> None:
        try:
            async for chunk in self.iterator:
                if isinstance(chunk, str):
                    raise TypeError("the body yielded str: upload bytes (encode text first)")
                # a copy unless bytes: the iterable may reuse its buffer for the next chunk
                view = memoryview(chunk if isinstance(chunk, bytes) else bytes(chunk)).cast("B")
                if not view:
                    continue
                with self.lock:
                    self.chunks.append(view)
                    self.buffered += len(view)
                self._resume_if_paused()
                while self.buffered >= self.limit:
                    self.space = self.progress.inbox.loop.create_future()
                    await self.space
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # noqa: B036 -- ends the upload; raised to the caller
            self.progress.errors.record(e)
        finally:
            with self.lock:
                self.ended = True
            self._resume_if_paused()


class _Opening:
    """What ``Client.open`` returns: awaitable (the stream, once the first
    chunk or an error arrived) and an async context manager (the stream,
    closed at the end of the block)."""

    def __init__(self, opening: Callable[[], Any]) -> None:
        self._opening = opening
        self._stream: Optional[ObjectStream] = None

    def __await__(self) -> Any:
        return self._opening().__await__()

    async def __aenter__(self) -> ObjectStream:
        self._stream = await self._opening()
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.aclose()


class _Progress:
    """Progress of a streamed upload or download, reported on the loop:
    ``callback(n)`` with the bytes moved since its previous call (boto3's
    Callback) and ``progress(done, total)``. The engine thread only counts;
    one report is queued at a time, so a fast transfer does not flood the loop."""

    def __init__(self, inbox: _Inbox, callback: Progress, progress: ProgressCallback, total: Optional[int]) -> None:
        self.inbox = inbox
        self.errors = CallbackErrors()  # an exception of a callback (or of the body) stops the transfer
        self.operation: Optional[_Operation] = None
        self.callback = callback
        self.progress = progress
        self.total = total
        self.moved = 0  # engine thread
        self.reported = 0  # loop
        self.queued = False
        self.lock = threading.Lock()

    @property
    def wanted(self) -> bool:
        return self.callback is not None or self.progress is not None

    def at(self, done: int, total: int, _userdata: Any) -> int:
        """r2_progress_cb of a transfer, on an engine thread: the running totals; non-zero stops the transfer."""
        if self.failed:
            return 1
        with self.lock:
            self.moved = done
            if total >= 0:
                self.total = total
            if self.queued:
                return 0
            self.queued = True
        self.inbox.post(self.report)
        return 0

    def add(self, n: int) -> None:
        """Engine thread: n more bytes moved (negative: taken back for a resend)."""
        with self.lock:
            self.moved += n
            if self.queued:
                return
            self.queued = True
        self.inbox.post(self.report)

    @property
    def failed(self) -> bool:
        return self.errors.error is not None

    def report(self) -> None:
        """On the loop: an exception of a callback cancels the transfer, and the caller gets it."""
        with self.lock:
            self.queued = False
            moved = self.moved
        if self.failed:
            return
        try:
            if self.callback is not None and moved != self.reported:
                self.callback(moved - self.reported)
            self.reported = moved
            if self.progress is not None:
                self.progress(moved, self.total)
        except BaseException as e:  # noqa: B036 -- KeyboardInterrupt too: it must stop the transfer
            self.errors.record(e)
            if self.operation is not None:
                self.operation.cancel()

    def finish(self, total: Optional[int]) -> None:
        """The last report, once the transfer is done."""
        self.total = total
        self.report()
        if self.errors.error is not None:
            raise self.errors.error


# --- the client ---

class Client(PresignMixin, ClientSettings):
    """An asyncio client for one R2 account (or any S3-compatible endpoint):
    r2.Client's constructor, ``from_env`` and methods, as coroutines that run
    on r2's engine (no thread per call).

    Use it with ``async with`` (or ``await client.close()``), which waits for
    the calls in flight. Its coroutines may run on any event loop (one at a
    time per call). ``presign`` and ``presign_list_objects`` make no network
    call and are plain methods, as in r2.Client. Failures raise the same
    r2.R2Error subclasses as r2.Client; cancelling a task cancels its call.
    """

    _public_name = "r2.aio.Client"

    def _start(self, lib: Any, handle: Any, description: str) -> None:
        super()._start(lib, handle, description)
        self._running: set[_Operation] = set()
        self._drained: Optional[asyncio.Future] = None

    # ---- plumbing ----

    def _begin(self, start: Callable[..., int], result: Optional[Callable[[], Any]] = None,
               cleanup: Optional[Callable[[], None]] = None, keep: Any = None,
               errors: Optional[CallbackErrors] = None) -> _Operation:
        """Starts ``start(byref(op), client, done, userdata, free)`` on the engine:
        ``result()`` reads its outputs once it is done, ``cleanup()`` releases them,
        ``keep`` is what r2 borrows until its finalizer ran, and ``errors``
        collects its callbacks' exceptions (the one raised, if any)."""
        operation = _Operation(self, result, cleanup, keep, errors)
        ident = next(_ids)
        _operations[ident] = operation
        try:
            with self._in_use as client:
                code = start(byref(operation.handle), client, _DONE, ident, _FREE)
        except BaseException:
            _operations.pop(ident, None)
            raise
        if code != _ffi.R2_OK:  # not started: neither done nor the finalizer runs
            _operations.pop(ident, None)
            if cleanup is not None:
                cleanup()
            raise last_error(self._lib, code)
        self._running.add(operation)
        return operation

    async def _call(self, start: Callable[..., int], result: Optional[Callable[[], Any]] = None,
                    cleanup: Optional[Callable[[], None]] = None, keep: Any = None,
                    errors: Optional[CallbackErrors] = None) -> Any:
        return await self._begin(start, result, cleanup, keep, errors).outcome()

    def _ended(self, operation: _Operation) -> None:
        self._running.discard(operation)
        if not self._running and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def _run_info(self, start: Callable[..., int], keep: Any = None,
                         errors: Optional[CallbackErrors] = None) -> ObjectInfo:
        """An operation whose output is one r2_object_info: ``start(info, op, client, done, userdata, free)``."""
        return await self._begin_info(start, keep, errors).outcome()

    def _begin_info(self, start: Callable[..., int], keep: Any = None,
                    errors: Optional[CallbackErrors] = None) -> _Operation:
        info = _ffi.r2_object_info(_ffi.R2_OBJECT_INFO_VERSION)
        lib = self._lib
        return self._begin(lambda op, h, d, u, f: start(byref(info), op, h, d, u, f),
                           lambda: ObjectInfo.from_c(info), lambda: lib.r2_object_info_dispose(byref(info)),
                           keep, errors)

    async def close(self) -> None:  # type: ignore[override]  # a coroutine here
        """Closes open streams, waits for the calls in flight, then frees the
        client. Idempotent."""
        if self.closed:
            return
        with self._lock:
            children = list(self._children)
        for child in children:
            await child.aclose()
        while self._running:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained
        ClientSettings.close(self)  # closes the streams' Python side, frees the handle

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __enter__(self) -> Client:
        raise TypeError("r2.aio.Client is an async context manager: use `async with`")

    # ---- objects ----

    async def put(self, bucket: str, key: str, body: Any = b"", *, length: Optional[int] = None,
                  callback: Progress = None, content_type: Optional[str] = None, cache_control: Optional[str] = None,
                  content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                  content_language: Optional[str] = None, expires: HTTPDate = None, metadata: Headers = None,
                  if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                  if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                  payload_mode: Optional[str] = None, checksum: Optional[str] = None,
                  checksum_value: Optional[str] = None, storage_class: Optional[str] = None,
                  sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """r2.Client.put as a coroutine: bytes-like or str (r2_object_put_async),
        or a binary file-like object / iterable of bytes of known length
        (``length``, or found for files; r2_object_put_stream_async, read on
        an r2 engine thread). ``callback(n)`` runs on the loop."""
        put = put_struct(self._lib, **picked(locals(), PUT_FIELDS))
        if isinstance(body, str):
            body = body.encode()
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if isinstance(body, (bytes, bytearray, memoryview)):
            data, size, owner = byte_pointer(body)
            opts = by_ref(put)
            info = await self._run_info(lambda i, op, h, d, u, f: self._lib.r2_object_put_async(
                op, i, h, b, k, data, size, opts, d, u, f), keep=(owner, put))  # the body is read until done
            if callback is not None:
                callback(size)
            return info
        if length is None and (hasattr(body, "readinto") or hasattr(body, "read")):
            length = remaining_length(body)
        if length is None:  # a multipart upload through the transfer manager, as r2.Client.put does
            return await self._run_upload_stream(b, k, body, -1, TransferCall(self._lib, put=put),
                                                 _Progress(_inbox(), callback, None, None))
        progress = _Progress(_inbox(), callback, None, length)
        if hasattr(body, "__aiter__"):
            return await self._put_async_iterable(b, k, body, length, put, progress)
        return await self._put_stream(b, k, body, length, put, progress)

    async def _put_async_iterable(self, b: Optional[bytes], k: Optional[bytes], body: Any, length: int, put: Any,
                                  progress: _Progress) -> ObjectInfo:
        """r2_object_put_stream_async from an async iterable of bytes: a task
        on the loop fills a bounded buffer, r2's engine thread empties it and
        pauses the transfer (R2_READ_PAUSE) when it is empty. One-shot: not
        re-sent after a failure once read."""
        source = _AsyncSource(body, progress, counts=True)
        read = _ffi.r2_read_cb(source.read)
        opts = by_ref(put)
        operation = self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_object_put_stream_async(
            op, i, h, b, k, length, read, None, opts, d, u, f), keep=(read, put, source), errors=progress.errors)
        progress.operation = operation
        source.operation = operation
        pump = asyncio.ensure_future(source.pump())
        try:
            info = await operation.outcome()
        finally:
            pump.cancel()
        progress.finish(length)
        return info

    async def _run_upload_stream(self, b: Optional[bytes], k: Optional[bytes], body: Any, length: int,
                                 tc: TransferCall, report: _Progress) -> ObjectInfo:
        """r2_transfer_upload_stream_async (length -1: unknown): one streamed PUT
        below the threshold, else a multipart upload whose parts r2 reads in
        order on its engine thread; from a file-like object or iterable (read
        there) or an async iterable (through _AsyncSource's buffer)."""
        pump = None
        rewind = None
        if hasattr(body, "__aiter__"):
            source: Any = _AsyncSource(body, report, counts=False)
            read = _ffi.r2_read_cb(source.read)
        else:
            source = ReadSource(body, report.errors, stop=lambda: report.failed)
            read = _ffi.r2_read_cb(source.fill)
            put = tc.options.put.contents if tc.options.put else None
            put, rewind = self._rewindable(put, source)
            if put is not None and not tc.options.put:
                tc.options.put = pointer(put)
        on_progress = tc.options.progress = _ffi.r2_progress_cb(report.at)
        opts = byref(tc.options)
        report.operation = self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_transfer_upload_stream_async(
            op, i, h, b, k, length, read, None, opts, d, u, f), keep=(tc, on_progress, read, rewind, source),
            errors=report.errors)
        if isinstance(source, _AsyncSource):
            source.operation = report.operation
            pump = asyncio.ensure_future(source.pump())
        try:
            info = await report.operation.outcome()
        finally:
            if pump is not None:
                pump.cancel()
        report.finish(report.total if report.total is not None else report.moved)
        return info

    async def _put_stream(self, b: Optional[bytes], k: Optional[bytes], body: Any, length: int, put: Any,
                          progress: _Progress) -> ObjectInfo:
        """r2_object_put_stream_async from a file-like object or iterable,
        read by r2's engine thread (re-sent from its start when seekable)."""
        errors = progress.errors
        source = ReadSource(body, errors, progress.add if progress.wanted else None, stop=lambda: progress.failed)
        read = _ffi.r2_read_cb(source.fill)
        rewind = None
        if source.can_rewind:
            if put is None:
                put = _ffi.r2_put_options(_ffi.R2_PUT_OPTIONS_VERSION)
            rewind = put.rewind = _ffi.r2_rewind_cb(source.rewind)
        opts = by_ref(put)
        progress.operation = self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_object_put_stream_async(
            op, i, h, b, k, length, read, None, opts, d, u, f), keep=(read, rewind, put, source), errors=errors)
        info = await progress.operation.outcome()
        progress.finish(length)
        return info

    async def get(self, bucket: str, key: str, *, range: Range = None, if_match: Optional[str] = None,
                  if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
                  if_unmodified_since: HTTPDate = None, validate_checksum: bool = False,
                  sse_customer_key: Optional[bytes] = None) -> Object:
        """r2.Client.get as a coroutine (r2_object_get_async): Object(body, info)."""
        opts = get_options(self._lib, **picked(locals(), GET_FIELDS))
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        body = _ffi.r2_buf()
        info = _ffi.r2_object_info(_ffi.R2_OBJECT_INFO_VERSION)
        lib = self._lib

        def result() -> Object:
            return Object(string_at(body.ptr, body.size) if body.size else b"", ObjectInfo.from_c(info))

        def cleanup() -> None:
            lib.r2_buf_dispose(byref(body))
            lib.r2_object_info_dispose(byref(info))
        return await self._call(lambda op, h, d, u, f: lib.r2_object_get_async(op, byref(body), byref(info), h, b, k,
                                                                               opts, d, u, f), result, cleanup)

    def open(self, bucket: str, key: str, *, buffer_size: int = 1 << 18, range: Range = None,
             if_match: Optional[str] = None, if_none_match: Optional[str] = None,
             if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
             validate_checksum: bool = False, sse_customer_key: Optional[bytes] = None) -> Any:
        """Streams bucket/key (r2_object_get_stream_async): ``async with
        client.open(b, k) as body: async for chunk in body: ...`` or ``body =
        await client.open(b, k)``. At most about ``buffer_size`` bytes wait
        unread: beyond that r2 pauses the transfer until you read. Errors
        before the body (NoSuchKey, ...) are raised when it opens; ``info``
        is set at the end of the body. Conditions as for get()."""
        opts = get_options(self._lib, **picked(locals(), GET_FIELDS))
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if buffer_size <= 0:
            raise invalid_argument("buffer_size must be positive")

        async def opening() -> ObjectStream:
            stream = ObjectStream(buffer_size, _inbox())
            stream.operation = self._begin_get_stream(b, k, opts, stream._write)
            stream.operation.future.add_done_callback(stream._finished)
            self._adopt(stream)
            return await stream._started()
        return _Opening(opening)

    def _begin_get_stream(self, b: Optional[bytes], k: Optional[bytes], opts: Any,
                          on_chunk: Callable[[Any, int, Any], int],
                          errors: Optional[CallbackErrors] = None) -> _Operation:
        """Starts r2_object_get_stream_async with ``on_chunk`` as its write callback (on an engine thread)."""
        write = _ffi.r2_write_cb(on_chunk)
        return self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_object_get_stream_async(
            op, i, h, b, k, write, None, opts, d, u, f), keep=write, errors=errors)

    async def head(self, bucket: str, key: str, *, if_match: Optional[str] = None,
                   if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
                   if_unmodified_since: HTTPDate = None, sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """r2.Client.head as a coroutine (r2_object_head_async)."""
        opts = get_options(self._lib, **picked(locals(), GET_FIELDS))
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        return await self._run_info(lambda i, op, h, d, u, f: self._lib.r2_object_head_async(
            op, i, h, b, k, opts, d, u, f))

    async def delete(self, bucket: str, key: str) -> None:
        """r2.Client.delete as a coroutine (r2_object_delete_async)."""
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        await self._call(lambda op, h, d, u, f: self._lib.r2_object_delete_async(op, h, b, k, d, u, f))

    async def delete_objects(self, bucket: str, keys: Iterable[str], *, quiet: bool = False) -> DeleteResult:
        """r2.Client.delete_objects as a coroutine (r2_object_delete_many_async)."""
        encoded = [cstr(key, "key") for key in keys]
        array = (c_char_p * len(encoded))(*encoded)
        b = cstr(bucket, "bucket")
        o = _ffi.r2_delete_many_options(_ffi.R2_DELETE_MANY_OPTIONS_VERSION, quiet)
        out = _ffi.r2_delete_result(_ffi.R2_DELETE_RESULT_VERSION)
        lib = self._lib
        return await self._call(lambda op, h, d, u, f: lib.r2_object_delete_many_async(
            op, byref(out), h, b, array, len(encoded), byref(o), d, u, f),
            lambda: delete_result(out), lambda: lib.r2_delete_result_dispose(byref(out)), keep=(array, encoded))

    async def copy(self, src_bucket: str, src_key: str, bucket: str, key: str, *, replace_metadata: bool = False,
                   content_type: Optional[str] = None, cache_control: Optional[str] = None,
                   content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                   metadata: Headers = None, if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                   if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                   multipart_threshold: Optional[int] = None, part_size: Optional[int] = None,
                   concurrency: Optional[int] = None, callback: Progress = None, progress: ProgressCallback = None,
                   config: Optional[TransferConfig] = None, cancel: Optional[CancelToken] = None,
                   sse_customer_key: Optional[bytes] = None,
                   source_sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """r2.Client.copy as a coroutine: one CopyObject (r2_object_copy_async),
        or, with a transfer setting (or for a source too large for CopyObject),
        the transfer manager's r2_transfer_copy_async: UploadPartCopy ranges
        on r2's engine, progress on the loop. Arguments as for r2.Client.copy."""
        conditions = (if_match, if_none_match, if_modified_since, if_unmodified_since)
        args = (cstr(src_bucket, "src_bucket"), cstr(src_key, "src_key"), cstr(bucket, "bucket"), cstr(key, "key"))
        if not copy_is_managed(multipart_threshold, part_size, concurrency, callback, progress, config, cancel):
            try:
                opts = copy_options(self._lib, replace_metadata=replace_metadata, content_type=content_type,
                                    cache_control=cache_control, content_disposition=content_disposition,
                                    content_encoding=content_encoding, metadata=metadata, if_match=if_match,
                                    if_none_match=if_none_match, if_modified_since=if_modified_since,
                                    if_unmodified_since=if_unmodified_since, sse_customer_key=sse_customer_key,
                                    source_sse_customer_key=source_sse_customer_key)
                return await self._run_info(lambda i, op, h, d, u, f: self._lib.r2_object_copy_async(
                    op, i, h, *args, opts, d, u, f))
            except (EntityTooLarge, InvalidRequest):  # too large for CopyObject: in parts, as r2.Client does
                if any(c is not None for c in conditions):
                    raise
                multipart_threshold = _objects._SINGLE_COPY_LIMIT + 1
        else:
            copy_without_conditions(conditions)
        tc = copy_transfer_call(self._lib, replace_metadata=replace_metadata, content_type=content_type,
                                cache_control=cache_control, content_disposition=content_disposition,
                                content_encoding=content_encoding, metadata=metadata, config=config,
                                threshold=multipart_threshold, part_size=part_size, concurrency=concurrency,
                                callback=None, progress=None, cancel=cancel, sse_customer_key=sse_customer_key,
                                source_sse_customer_key=source_sse_customer_key)
        report = _Progress(_inbox(), callback, progress, None)
        on_progress = tc.options.progress = _ffi.r2_progress_cb(report.at)
        opts = byref(tc.options)
        report.operation = self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_transfer_copy_async(
            op, i, h, *args, opts, d, u, f), keep=(tc, on_progress), errors=report.errors)
        info = await report.operation.outcome()
        report.finish(report.total if report.total is not None else info.content_length)
        return info

    # ---- listing ----

    async def list(self, bucket: str, *, prefix: Optional[str] = None, delimiter: Optional[str] = None,
                   start_after: Optional[str] = None, continuation_token: Optional[str] = None,
                   max_keys: Optional[int] = None) -> ListPage:
        """r2.Client.list as a coroutine (r2_list_objects_async): one page."""
        opts = list_options(self._lib, prefix=prefix, delimiter=delimiter, start_after=start_after,
                            continuation_token=continuation_token, max_keys=max_keys)
        b = cstr(bucket, "bucket")
        page = _ffi.r2_list_result(_ffi.R2_LIST_RESULT_VERSION)
        lib = self._lib
        return await self._call(lambda op, h, d, u, f: lib.r2_list_objects_async(op, byref(page), h, b, opts, d, u, f),
                                lambda: list_page(page), lambda: lib.r2_list_result_dispose(byref(page)))

    def list_all(self, bucket: str, *, prefix: Optional[str] = None, delimiter: Optional[str] = None,
                 start_after: Optional[str] = None, page_size: Optional[int] = None) -> AsyncIterator[ObjectEntry]:
        """Every object of bucket (under ``prefix``) for ``async for``, a page
        of ``page_size`` (default 1000) fetched whenever the previous one is used up."""
        list_options(self._lib, prefix=prefix, delimiter=delimiter, start_after=start_after,
                     continuation_token=None, max_keys=page_size)  # bad arguments are refused here, not later
        cstr(bucket, "bucket")
        return self._entries(bucket, prefix, delimiter, start_after, page_size)

    async def _entries(self, bucket: str, prefix: Optional[str], delimiter: Optional[str],
                       start_after: Optional[str], page_size: Optional[int]) -> AsyncIterator[ObjectEntry]:
        token = None
        while True:
            page = await self.list(bucket, prefix=prefix, delimiter=delimiter, start_after=start_after,
                                   continuation_token=token, max_keys=page_size)
            for entry in page.objects:
                yield entry
            token = page.next_continuation_token
            if not page.is_truncated or not token:
                return

    # ---- multipart ----

    async def _run_buf(self, start: Callable[..., int], keep: Any = None) -> str:
        """An operation whose output is a string in an r2_buf: ``start(buf, op, client, done, userdata, free)``."""
        out = _ffi.r2_buf()
        lib = self._lib
        return await self._call(lambda op, h, d, u, f: start(byref(out), op, h, d, u, f),
                                lambda: string_at(out.ptr, out.size).decode("utf-8", "surrogateescape"),
                                lambda: lib.r2_buf_dispose(byref(out)), keep)

    async def create_multipart_upload(self, bucket: str, key: str, *, content_type: Optional[str] = None,
                                      cache_control: Optional[str] = None, content_disposition: Optional[str] = None,
                                      content_encoding: Optional[str] = None, content_language: Optional[str] = None,
                                      expires: HTTPDate = None, metadata: Headers = None,
                                      storage_class: Optional[str] = None,
                                      sse_customer_key: Optional[bytes] = None) -> str:
        """r2.Client.create_multipart_upload as a coroutine (r2_multipart_create_async): the upload id."""
        opts = by_ref(put_struct(self._lib, **picked(locals(), PUT_FIELDS)))
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        return await self._run_buf(lambda out, op, h, d, u, f: self._lib.r2_multipart_create_async(
            op, out, h, b, k, opts, d, u, f))

    async def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int, body: Any, *,
                          checksum: Optional[str] = None, sse_customer_key: Optional[bytes] = None) -> CompletedPart:
        """r2.Client.upload_part as a coroutine (r2_multipart_upload_part_async; the body is borrowed until done)."""
        if isinstance(body, str):
            body = body.encode()
        data, size, owner = byte_pointer(body)
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        number = checked_part_number(part_number)
        o = part_options(checksum, sse_customer_key)
        etag = await self._run_buf(lambda out, op, h, d, u_, f: self._lib.r2_multipart_upload_part_async(
            op, out, h, b, k, u, number, data, size, byref(o), d, u_, f), keep=owner)
        return CompletedPart(part_number, etag)

    async def upload_part_copy(self, bucket: str, key: str, upload_id: str, part_number: int, src_bucket: str,
                               src_key: str, *, range: Optional[tuple[int, int]] = None,
                               sse_customer_key: Optional[bytes] = None,
                               source_sse_customer_key: Optional[bytes] = None) -> CompletedPart:
        """r2.Client.upload_part_copy as a coroutine (r2_multipart_upload_part_copy_async)."""
        args = part_copy_args(bucket, key, upload_id, part_number, src_bucket, src_key, range)
        o = part_options(None, sse_customer_key, source_sse_customer_key)
        etag = await self._run_buf(lambda out, op, h, d, u, f: self._lib.r2_multipart_upload_part_copy_async(
            op, out, h, *args, byref(o), d, u, f))
        return CompletedPart(part_number, etag)

    async def complete_multipart_upload(self, bucket: str, key: str, upload_id: str, parts: Iterable[Any], *,
                                        if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                                        sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """r2.Client.complete_multipart_upload as a coroutine (r2_multipart_complete_async): the same
        checks of the parts, and an ambiguous failure resolved by reading the object back."""
        array, count = completed_parts(parts)
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        opts = complete_options(if_match, if_none_match, sse_customer_key)
        return await self._run_info(lambda i, op, h, d, u_, f: self._lib.r2_multipart_complete_async(
            op, i, h, b, k, u, array, count, opts, d, u_, f), keep=array)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """r2.Client.abort_multipart_upload as a coroutine (r2_multipart_abort_async)."""
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        await self._call(lambda op, h, d, u_, f: self._lib.r2_multipart_abort_async(op, h, b, k, u, d, u_, f))

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> builtins.list[PartInfo]:
        """r2.Client.list_parts as a coroutine (r2_multipart_list_parts_async; every page)."""
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        out = _ffi.r2_multipart_part_list(_ffi.R2_MULTIPART_PART_LIST_VERSION)
        lib = self._lib
        return await self._call(lambda op, h, d, u_, f: lib.r2_multipart_list_parts_async(
            op, byref(out), h, b, k, u, None, d, u_, f),
            lambda: [PartInfo.from_c(out.parts[i]) for i in range(out.count)],
            lambda: lib.r2_multipart_part_list_dispose(byref(out)))

    async def list_multipart_uploads(self, bucket: str, prefix: Optional[str] = None) -> builtins.list[MultipartUpload]:
        """r2.Client.list_multipart_uploads as a coroutine (r2_multipart_list_uploads_async)."""
        b = cstr(bucket, "bucket")
        o = list_uploads_options(prefix)
        out = _ffi.r2_multipart_upload_list(_ffi.R2_MULTIPART_UPLOAD_LIST_VERSION)
        lib = self._lib
        return await self._call(lambda op, h, d, u, f: lib.r2_multipart_list_uploads_async(
            op, byref(out), h, b, byref(o), d, u, f),
            lambda: [MultipartUpload.from_c(out.uploads[i]) for i in range(out.count)],
            lambda: lib.r2_multipart_upload_list_dispose(byref(out)))

    # ---- transfers ----

    async def upload_file(self, filename: PathLike, bucket: str, key: str, *, callback: Progress = None,
                          progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                          threshold: Optional[int] = None, part_size: Optional[int] = None,
                          concurrency: Optional[int] = None, part_checksum: Optional[str] = None,
                          cancel: Optional[CancelToken] = None, content_type: Optional[str] = None,
                          cache_control: Optional[str] = None, content_disposition: Optional[str] = None,
                          content_encoding: Optional[str] = None, content_language: Optional[str] = None,
                          expires: HTTPDate = None, metadata: Headers = None, if_match: Optional[str] = None,
                          if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
                          if_unmodified_since: HTTPDate = None, payload_mode: Optional[str] = None,
                          checksum: Optional[str] = None, checksum_value: Optional[str] = None,
                          storage_class: Optional[str] = None, sse_customer_key: Optional[bytes] = None,
                          Callback: Progress = None, Config: Any = None,
                          ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """r2.Client.upload_file as a coroutine, on the transfer manager's
        asynchronous form (r2_transfer_upload_file_async): one PUT below the
        threshold, else a multipart upload whose parts (``concurrency`` at a
        time) are transfers on r2's engine, not threads; r2 reads the file's
        parts at their offsets. A failed or cancelled multipart upload is
        aborted on the server. ``callback(n)`` and ``progress(done, total)``
        run on the loop (at most every ``progress_interval``, and at the end);
        an exception in either cancels the upload and is raised. Settings,
        ``cancel`` (an r2.CancelToken) and put options as for r2.Client's
        (no ``state_path``: resumable uploads are blocking only)."""
        tc = upload_transfer_call(self._lib, locals(), cancel=cancel)
        file = path(filename, "filename")
        with builtins.open(filename, "rb") as f:  # FileNotFoundError, PermissionError, ... as Python reports them
            size = os.fstat(f.fileno()).st_size
        report = _Progress(_inbox(), callback if callback is not None else Callback, progress, size)
        on_progress = tc.options.progress = _ffi.r2_progress_cb(report.at)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        opts = byref(tc.options)
        report.operation = self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_transfer_upload_file_async(
            op, i, h, b, k, file, opts, d, u, f), keep=(tc, on_progress), errors=report.errors)
        info = await report.operation.outcome()
        report.finish(size)
        return info

    async def upload_fileobj(self, fileobj: Any, bucket: str, key: str, *, length: Optional[int] = None,
                             callback: Progress = None, progress: ProgressCallback = None,
                             config: Optional[TransferConfig] = None, threshold: Optional[int] = None,
                             part_size: Optional[int] = None, concurrency: Optional[int] = None,
                             part_checksum: Optional[str] = None, cancel: Optional[CancelToken] = None,
                             content_type: Optional[str] = None, cache_control: Optional[str] = None,
                             content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                             content_language: Optional[str] = None, expires: HTTPDate = None,
                             metadata: Headers = None, if_match: Optional[str] = None,
                             if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
                             if_unmodified_since: HTTPDate = None, payload_mode: Optional[str] = None,
                             checksum: Optional[str] = None, checksum_value: Optional[str] = None,
                             storage_class: Optional[str] = None, sse_customer_key: Optional[bytes] = None,
                             Callback: Progress = None, Config: Any = None,
                             ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """r2.Client.upload_fileobj as a coroutine (r2_transfer_upload_stream_async):
        a binary file-like object (read by r2's engine thread from its current
        position) or an async iterable of bytes (read on the loop, the transfer
        pausing while it has nothing ready). One streamed PUT when the length
        is known (``length``, or found for files) and below the threshold,
        else a multipart upload whose parts are transfers on r2's engine.
        Settings and callbacks as for upload_file."""
        tc = upload_transfer_call(self._lib, locals(), cancel=cancel)
        if length is None and not hasattr(fileobj, "__aiter__"):
            length = remaining_length(fileobj)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        report = _Progress(_inbox(), callback if callback is not None else Callback, progress, length)
        return await self._run_upload_stream(b, k, fileobj, -1 if length is None else length, tc, report)

    async def download_fileobj(self, bucket: str, key: str, fileobj: Any, *, callback: Progress = None,
                               progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                               threshold: Optional[int] = None, part_size: Optional[int] = None,
                               concurrency: Optional[int] = None, cancel: Optional[CancelToken] = None,
                               range: Range = None, if_match: Optional[str] = None,
                               if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
                               if_unmodified_since: HTTPDate = None, validate_checksum: bool = False,
                               sse_customer_key: Optional[bytes] = None, Callback: Progress = None,
                               Config: Any = None, ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """r2.Client.download_fileobj as a coroutine (r2_transfer_download_stream_async):
        one GET below the threshold, else ranged GETs on r2's engine, and
        ``fileobj.write(chunk)`` in order on the loop (awaited when it returns
        an awaitable, as an asyncio StreamWriter's drain or aiofiles' write
        do); while it is behind, r2 pauses the transfer (R2_WRITE_PAUSE).
        Conditions make it one conditional GET, as for r2.Client."""
        get = with_extra_args(picked(locals(), GET_FIELDS), ExtraArgs, DOWNLOAD_EXTRA_ARGS)
        config = config if config is not None else Config
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        report = _Progress(_inbox(), callback if callback is not None else Callback, progress, None)
        stream = ObjectStream(1 << 20, report.inbox)
        opts = get_options(self._lib, **get)
        if opts is not None:  # a condition (or the SSE-C key): one conditional GET
            no_transfer_options(threshold, part_size, concurrency, cancel, config)
            stream.operation = self._begin_get_stream(b, k, opts, stream._write)
            counted = True
        else:
            tc = TransferCall(self._lib, config=config, threshold=threshold, part_size=part_size,
                              concurrency=concurrency, cancel=cancel)
            write = _ffi.r2_write_cb(stream._write)
            on_progress = tc.options.progress = _ffi.r2_progress_cb(report.at)
            options = byref(tc.options)
            stream.operation = self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_transfer_download_stream_async(
                op, i, h, b, k, write, None, options, d, u, f), keep=(tc, write, on_progress))
            counted = False
        report.operation = stream.operation
        stream.operation.future.add_done_callback(stream._finished)
        try:
            async for chunk in stream:
                written = fileobj.write(chunk)
                if inspect.isawaitable(written):
                    await written
                if counted:
                    report.add(len(chunk))
        except BaseException:
            await stream.aclose()
            raise
        assert stream.info is not None
        report.finish(stream.info.content_length if counted else report.total)
        return stream.info

    async def download_file(self, bucket: str, key: str, filename: PathLike, *, callback: Progress = None,
                            progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                            threshold: Optional[int] = None, part_size: Optional[int] = None,
                            concurrency: Optional[int] = None, cancel: Optional[CancelToken] = None,
                            fsync: bool = True, range: Range = None, if_match: Optional[str] = None,
                            if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
                            if_unmodified_since: HTTPDate = None, validate_checksum: bool = False,
                            sse_customer_key: Optional[bytes] = None, Callback: Progress = None, Config: Any = None,
                            ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """r2.Client.download_file as a coroutine, on the transfer manager's
        asynchronous form (r2_transfer_download_file_async): a HEAD, then one
        GET below the threshold or ranged GETs (``concurrency`` at a time, on
        r2's engine, pinned to the object's ETag) written by r2 into
        ``<filename>.r2-partial``, synced (unless ``fsync=False``) and renamed
        into place; a failed or cancelled download leaves nothing at
        ``filename``. Progress callbacks run on the loop, as for upload_file.
        Conditions (range, if_match, ...) make it one conditional streamed GET
        (r2_object_get_stream_async), as for r2.Client; no ``state_path``
        (resumable downloads are blocking only)."""
        get = with_extra_args(picked(locals(), GET_FIELDS), ExtraArgs, DOWNLOAD_EXTRA_ARGS)
        config = config if config is not None else Config
        tc = TransferCall(self._lib, config=config, threshold=threshold, part_size=part_size, concurrency=concurrency,
                          cancel=cancel)
        tc.options.sse_customer_key = sse_key(sse_customer_key)  # the transfer manager sends the key itself
        tc.options.skip_fsync = 0 if fsync else 1
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        report = _Progress(_inbox(), callback if callback is not None else Callback, progress, None)
        if get_options(self._lib, **dict(get, sse_customer_key=None)) is not None:  # a condition: one conditional GET
            no_transfer_options(threshold, part_size, concurrency, cancel, config)
            return await self._download_conditional(b, k, filename, get_options(self._lib, **get), report, fsync)
        on_progress = tc.options.progress = _ffi.r2_progress_cb(report.at)
        file = path(filename, "filename")
        opts = byref(tc.options)
        report.operation = self._begin_info(lambda i, op, h, d, u, f: self._lib.r2_transfer_download_file_async(
            op, i, h, b, k, file, opts, d, u, f), keep=(tc, on_progress), errors=report.errors)
        info = await report.operation.outcome()
        try:
            report.finish(info.content_length)
        except BaseException:
            # A progress callback raised after r2 had put the file in place (callbacks run on the
            # loop, after the fact): the caller asked to stop, so leave nothing, as a cancelled download does.
            if os.path.exists(filename):
                os.unlink(filename)
            raise
        return info

    async def _download_conditional(self, b: Optional[bytes], k: Optional[bytes], filename: PathLike, opts: Any,
                                    report: _Progress, fsync: bool) -> ObjectInfo:
        """One conditional GET (r2_object_get_stream_async) written by r2's
        engine thread to ``<filename>.r2-partial``, renamed into place at the end."""
        partial = os.fspath(filename) + ".r2-partial"
        errors = report.errors
        with builtins.open(partial, "wb") as f:
            def write(chunk: Any, size: int, _userdata: Any) -> int:  # an r2 engine thread
                if report.failed:
                    return 1
                try:
                    f.write(c_buffer(chunk, size))  # the buffered writer copies or writes it before returning
                    if report.wanted:
                        report.add(size)
                    return 0
                except BaseException as e:  # noqa: B036 -- aborts the transfer and is raised to the caller
                    errors.record(e)
                    return 1
            try:
                report.operation = self._begin_get_stream(b, k, opts, write, errors)
                info = await report.operation.outcome()
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
            except BaseException:
                f.close()
                os.unlink(partial)
                raise
        try:
            report.finish(info.content_length)  # a callback that raised leaves nothing at filename
        except BaseException:
            os.unlink(partial)
            raise
        os.replace(partial, filename)
        return info

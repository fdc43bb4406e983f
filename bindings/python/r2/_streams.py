"""Bodies as streams: upload sources for r2_read_cb, and a file-like reader
over r2_object_get_stream."""
from __future__ import annotations

import ctypes
import io
import os
import queue
import stat
import threading

from ._convert import CallbackErrors
from ._types import ObjectInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional

    Progress = Optional[Callable[[int], Any]]


def c_buffer(pointer, size: int) -> memoryview:
    """A writable view of ``size`` bytes of C memory, valid only while r2 lends it."""
    return memoryview((ctypes.c_char * size).from_address(ctypes.addressof(pointer.contents))).cast("B")


def remaining_length(fileobj) -> Optional[int]:
    """Bytes left to read in a regular or seekable file, or None when unknown."""
    try:
        st = os.fstat(fileobj.fileno())
        if stat.S_ISREG(st.st_mode):
            return st.st_size - fileobj.tell()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both OSError and ValueError
        pass
    try:
        if fileobj.seekable():
            here = fileobj.tell()
            end = fileobj.seek(0, io.SEEK_END)
            fileobj.seek(here)
            return end - here
    except (AttributeError, OSError, ValueError):
        pass
    return None


_DONE = object()


class ReadSource:
    """Fills r2's upload buffer from a binary file-like object or an iterable
    of bytes-like chunks. ``fill`` is the r2_read_cb body: bytes written,
    0 at the end, or -1 after recording the exception in ``errors``."""

    def __init__(self, body, errors: CallbackErrors, progress: Progress = None,
                 stop: Optional[Callable[[], bool]] = None) -> None:
        self.errors = errors
        self.progress = progress
        self.stop = stop  # true once the transfer must end (Ctrl-C)
        self.pending = memoryview(b"")
        self.sent = 0
        # A seekable file can be read again from here, so r2 may re-send a
        # failed PUT (429, 5xx, network); other streams are one-shot.
        self.start: Optional[int] = None
        try:
            if hasattr(body, "seek") and body.seekable():
                self.start = body.tell()
        except (OSError, ValueError):
            self.start = None
        self.body = body
        if hasattr(body, "readinto"):
            self.read_into = self._readinto(body.readinto)
        elif hasattr(body, "read"):
            self.read_into = self._from_chunks(iter(lambda: body.read(1 << 20), b""))
        else:
            self.read_into = self._from_chunks(iter(body))

    def fill(self, buf, cap: int, _userdata) -> int:
        try:
            if self.stop is not None and self.stop():
                return -1
            n = self.read_into(c_buffer(buf, cap))
            self.sent += n
            if n and self.progress is not None:
                self.progress(n)
            return n
        except BaseException as e:  # noqa: B036 -- KeyboardInterrupt too: it must abort the transfer
            self.errors.record(e)
            return -1

    @property
    def can_rewind(self) -> bool:
        return self.start is not None

    def rewind(self, _userdata) -> int:
        """The r2_rewind_cb body: back to where the upload started; a
        boto3-style progress callback hears the resent bytes taken back."""
        try:
            self.body.seek(self.start)
            self.pending = memoryview(b"")
            if self.sent and self.progress is not None:
                self.progress(-self.sent)
            self.sent = 0
            return 0
        except BaseException as e:  # noqa: B036
            self.errors.record(e)
            return -1

    @staticmethod
    def _readinto(readinto) -> Callable[[memoryview], int]:
        def next_bytes(view: memoryview) -> int:
            n = readinto(view)  # straight into r2's buffer: no copy
            if n is None:
                raise BlockingIOError("the file is non-blocking and has no data ready; upload from a blocking file")
            return n
        return next_bytes

    def _from_chunks(self, chunks: Iterator[Any]) -> Callable[[memoryview], int]:
        def next_bytes(view: memoryview) -> int:
            while not self.pending:
                chunk: Any = next(chunks, _DONE)
                if chunk is _DONE:
                    return 0
                if isinstance(chunk, str):
                    raise TypeError("the body yielded str: upload bytes (encode text first, or open files in binary mode)")
                self.pending = memoryview(chunk).cast("B")
            n = min(len(view), len(self.pending))
            view[:n] = self.pending[:n]
            self.pending = self.pending[n:]
            return n
        return next_bytes


class _End:
    """The last item of a stream's queue: the response's info or the error."""

    __slots__ = ("info", "error")

    def __init__(self, info: Optional[ObjectInfo], error: Optional[BaseException]) -> None:
        self.info, self.error = info, error


def _pump(run: Callable[[Callable[[bytes], bool]], ObjectInfo], chunks: queue.Queue, cancelled: threading.Event) -> None:
    """The background thread of an ObjectStream: r2_object_get_stream into a
    bounded queue. It holds no reference to the stream, so an abandoned
    stream is collected, and its close() cancels this thread."""
    def on_chunk(data: bytes) -> bool:
        if cancelled.is_set():
            return False
        chunks.put(data)  # blocks while the queue is full: memory stays bounded
        return True
    try:
        chunks.put(_End(run(on_chunk), None))
    except BaseException as e:  # noqa: B036 -- reported to the reader, which re-raises it
        chunks.put(_End(None, e))


class ObjectStream(io.RawIOBase):
    """An object's body as it arrives, read from one GET.

    A background thread runs r2_object_get_stream and hands chunks over a
    queue of at most ``max_chunks`` chunks, so memory stays bounded however
    large the object. An error before the body (NoSuchKey, NotModified, ...)
    is raised by the constructor; one during the transfer by the read that
    reaches it. ``info`` is set once the body has been read to the end,
    because r2_object_get_stream reports the response's headers only then.
    Closing before the end cancels the transfer.
    """

    def __init__(self, run: Callable[[Callable[[bytes], bool]], ObjectInfo], max_chunks: int = 64) -> None:
        super().__init__()
        self.info: Optional[ObjectInfo] = None
        self._chunks: queue.Queue = queue.Queue(max_chunks)
        self._cancelled = threading.Event()
        self._chunk = memoryview(b"")
        self._end: Optional[_End] = None
        self._thread = threading.Thread(target=_pump, args=(run, self._chunks, self._cancelled),
                                        name="r2-object-stream", daemon=True)
        self._thread.start()
        self._take()

    def _take(self) -> None:
        item = self._chunks.get()
        if isinstance(item, _End):
            self._end = item
            self.info = item.info
        else:
            self._chunk = memoryview(item)
        if self._end is not None and self._end.error is not None:
            raise self._end.error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError("I/O operation on a closed r2 object stream")
        while not self._chunk:
            if self._end is not None:
                if self._end.error is not None:
                    raise self._end.error
                return 0
            self._take()
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._chunk))
        view[:n] = self._chunk[:n]
        self._chunk = self._chunk[n:]
        return n

    def close(self) -> None:
        if not self.closed and hasattr(self, "_thread"):
            self._cancelled.set()
            while self._end is None:  # drain, so a producer blocked on a full queue sees the cancel
                item = self._chunks.get()
                if isinstance(item, _End):
                    self._end = item
            self._thread.join()
        super().close()


class ObjectReader(io.BufferedReader):
    """A buffered file-like object over an ObjectStream (what Client.open
    returns): read(), readline(), iteration, shutil.copyfileobj, ``with``."""

    @property
    def info(self) -> Optional[ObjectInfo]:
        """What the server said about the object, once it has been read to the end."""
        return self.raw.info  # type: ignore[attr-defined]  # raw is always an ObjectStream

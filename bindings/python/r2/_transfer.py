"""The transfer manager's options: TransferConfig, CancelToken, and the
progress callback that turns r2's (done, total) into boto3-style increments."""
from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, byref

from . import _ffi
from ._convert import CHECKSUMS, CallbackErrors, check, choice
from ._errors import invalid_argument
from ._managed import Managed
from ._types import Record, _set

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

# r2 refuses SHA-1/SHA-256 part checksums itself (r2.Unsupported: R2 answers 501), so they are passed on.
PART_CHECKSUMS = CHECKSUMS


class TransferConfig(Record):
    """Settings of upload_file, upload_fileobj, download_file, download_fileobj
    and copy's multipart path. None means the client's setting (100 MiB
    threshold, 10 MiB parts, 4 parts in flight).

    The names are boto3's (``boto3.s3.transfer.TransferConfig``), and a boto3
    TransferConfig is accepted too (its other settings are ignored).
    ``part_checksum`` ("md5", "crc32" or "crc32c") checks every part;
    ``progress_interval`` is the most often (in seconds) progress callbacks run.
    """

    __slots__ = ("multipart_threshold", "multipart_chunksize", "max_concurrency", "part_checksum", "progress_interval")
    multipart_threshold: Optional[int]
    multipart_chunksize: Optional[int]
    max_concurrency: Optional[int]
    part_checksum: Optional[str]
    progress_interval: float

    def __init__(self, multipart_threshold: Optional[int] = None, multipart_chunksize: Optional[int] = None,
                 max_concurrency: Optional[int] = None, part_checksum: Optional[str] = None,
                 progress_interval: float = 0.1) -> None:
        _set(self, "multipart_threshold", multipart_threshold)
        _set(self, "multipart_chunksize", multipart_chunksize)
        _set(self, "max_concurrency", max_concurrency)
        _set(self, "part_checksum", part_checksum)
        _set(self, "progress_interval", progress_interval)


class CancelToken(Managed):
    """A switch that stops transfers from any thread: pass it as ``cancel=`` to
    transfer calls, and call ``cancel()`` (e.g. from a GUI's Stop button). The
    calls holding it raise r2.Cancelled; a multipart upload is aborted first.
    Once cancelled it stays cancelled: use a new token for the next transfer.
    It is released when collected (or by close(), once no call holds it)."""

    _kind = "cancel token"

    def __init__(self, library: Any = None) -> None:
        """``library``: an r2.Library, or a path to libr2.so (default: r2.load_library())."""
        from ._library import load_library
        is_path = library is None or isinstance(library, (str, bytes, os.PathLike))
        lib = load_library(library) if is_path else library
        handle = POINTER(_ffi.r2_cancel)()
        check(lib, lib.r2_cancel_new(byref(handle)))
        self._own(lib, handle)
        self.cancelled = False

    def _free(self, lib: Any, handle: Any) -> None:
        lib.r2_cancel_free(handle)

    def cancel(self) -> None:
        """Asks every call holding this token to stop. Returns at once; thread-safe."""
        self.cancelled = True
        self._lib.r2_cancel_signal(self._ptr())

    def __repr__(self) -> str:
        return f"<r2.CancelToken{' cancelled' if self.cancelled else ''}>"


if TYPE_CHECKING:
    Callback = Optional[Callable[[int], Any]]
    ProgressCallback = Optional[Callable[[int, Optional[int]], Any]]


class TransferCall:
    """One transfer-manager call: its r2_transfer_options (with a cancel switch
    and a progress callback always set, so Ctrl-C and callback errors stop it
    promptly), the exceptions of its callbacks, and the progress adapter.

    ``callback(n)`` gets the bytes moved since its previous call (boto3's
    Callback, so ``tqdm.update`` fits); ``progress(done, total)`` the raw
    counts (total None when unknown). Both run on the calling thread."""

    def __init__(self, lib: Any, *, config: Any = None, threshold: Optional[int] = None,
                 part_size: Optional[int] = None, concurrency: Optional[int] = None,
                 part_checksum: Optional[str] = None, state_path: Optional[bytes] = None,
                 put: Any = None, callback: Callback = None, progress: ProgressCallback = None,
                 cancel: Optional[CancelToken] = None) -> None:
        self.lib = lib
        self.errors = CallbackErrors()
        self.callback = callback
        self.progress = progress
        self.reported = 0
        self.interrupted: Callable[[], bool] = lambda: False  # set by the caller's Interrupts guard
        if cancel is None:
            cancel = CancelToken(lib)
        self.token = cancel
        o = _ffi.r2_transfer_options(_ffi.R2_TRANSFER_OPTIONS_VERSION)  # zero (None) means the client's setting
        interval = 0.1
        if config is not None:
            threshold = _first(threshold, getattr(config, "multipart_threshold", None))
            part_size = _first(part_size, getattr(config, "multipart_chunksize", None))
            concurrency = _first(concurrency, getattr(config, "max_concurrency", None))
            part_checksum = _first(part_checksum, getattr(config, "part_checksum", None))
            interval = getattr(config, "progress_interval", interval) or interval
        o.threshold = _size(threshold, "threshold")
        o.part_size = _size(part_size, "part_size")
        o.concurrency = _size(concurrency, "concurrency", limit=1 << 31)
        if part_checksum is not None:
            o.part_checksum = choice(part_checksum, PART_CHECKSUMS, "part_checksum")
        if put is not None:
            o.put = ctypes.pointer(put)
        self._progress_cb = _ffi.r2_progress_cb(self._on_progress)  # referenced until the call returns
        o.progress = self._progress_cb
        o.progress_interval_ms = max(1, int(round(interval * 1000)))
        o.cancel = cancel._ptr()
        o.state_path = state_path
        self.options = o

    def request_cancel(self) -> None:
        """Called from the SIGINT watcher thread."""
        self.lib.r2_cancel_signal(self.token._ptr())

    def _on_progress(self, done: int, total: int, _userdata) -> int:
        try:
            if self.interrupted():
                return 1
            if self.callback is not None and done > self.reported:
                self.callback(done - self.reported)
            self.reported = max(self.reported, done)
            if self.progress is not None:
                self.progress(done, None if total < 0 else total)
            return 0
        except BaseException as e:  # noqa: B036 -- KeyboardInterrupt too: it must stop the transfer
            self.errors.record(e)
            return 1

    def report_end(self, size: int) -> None:
        """Reports a transfer done outside r2's transfer manager as finished."""
        if self.callback is not None and size > self.reported:
            self.callback(size - self.reported)
        self.reported = max(self.reported, size)
        if self.progress is not None:
            self.progress(size, size)

    def finish(self, code: int) -> None:
        """Raises what a callback raised, else the call's error."""
        self.errors.raise_or_check(self.lib, code)


def _first(a: Any, b: Any) -> Any:
    return a if a is not None else b


def _size(value: Optional[int], name: str, limit: int = 1 << 63) -> int:
    """A positive count for a C field (0, "the client's setting", for None); r2 checks the range."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 < value < limit:
        raise invalid_argument(f"{name} must be positive, not {value}" if value <= 0 else f"{name} {value} is too large")
    return value

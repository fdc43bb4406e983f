"""The Client's transfer-manager methods, with boto3's names: upload_file,
upload_fileobj, download_file, download_fileobj. (Their settings and the
plumbing of one call, TransferConfig, CancelToken and TransferCall, are in
_transfer.)"""
from __future__ import annotations

import builtins
import io
import os
from ctypes import string_at

from . import _ffi
from ._base import ClientBase
from ._convert import byte_pointer, cstr
from ._errors import invalid_argument
from ._options import (DOWNLOAD_EXTRA_ARGS, GET_FIELDS, PUT_FIELDS, UPLOAD_EXTRA_ARGS, get_options, path, picked,
                       put_struct, sse_key, with_extra_args)
from ._streams import c_buffer, remaining_length
from ._transfer import TransferCall
from ._types import ObjectInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Optional

    from ._convert import Headers, HTTPDate
    from ._options import PathLike, Range
    from ._streams import Progress
    from ._transfer import CancelToken, ProgressCallback, TransferConfig


def upload_transfer_call(lib: Any, args: Mapping[str, Any], **more: Any) -> TransferCall:
    """The TransferCall of an upload method, from its ``locals()``: its settings
    over ``config`` (else boto3's ``Config``) and its put options with boto3's
    ``ExtraArgs``; ``more`` (state_path, callback, progress, cancel) as given."""
    put = with_extra_args(picked(args, PUT_FIELDS), args["ExtraArgs"], UPLOAD_EXTRA_ARGS)
    config = args["config"] if args["config"] is not None else args["Config"]
    return TransferCall(lib, config=config, threshold=args["threshold"], part_size=args["part_size"],
                        concurrency=args["concurrency"], part_checksum=args["part_checksum"],
                        put=put_struct(lib, **put), **more)


class TransfersMixin(ClientBase):
    """upload_file, upload_fileobj, download_file, download_fileobj."""

    def upload_file(self, filename: PathLike, bucket: str, key: str, *, callback: Progress = None,
                    progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                    threshold: Optional[int] = None, part_size: Optional[int] = None,
                    concurrency: Optional[int] = None, part_checksum: Optional[str] = None,
                    state_path: Optional[PathLike] = None, cancel: Optional[CancelToken] = None,
                    content_type: Optional[str] = None, cache_control: Optional[str] = None,
                    content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                    content_language: Optional[str] = None, expires: HTTPDate = None, metadata: Headers = None,
                    if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                    if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                    payload_mode: Optional[str] = None, checksum: Optional[str] = None,
                    checksum_value: Optional[str] = None, storage_class: Optional[str] = None,
                    sse_customer_key: Optional[bytes] = None, Callback: Progress = None, Config: Any = None,
                    ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """boto3's upload_file through r2's transfer manager (r2_transfer_upload_file):
        one PUT below the threshold (default 100 MiB), else a multipart upload
        whose parts r2 reads at their offsets and sends ``concurrency`` at a
        time, without the GIL. A failed, cancelled or interrupted multipart
        upload is aborted on the server.

        ``threshold``, ``part_size``, ``concurrency`` and ``part_checksum``
        ("md5", "crc32", "crc32c") override ``config`` (an r2.TransferConfig or
        a boto3 TransferConfig), which overrides the client's settings.
        With ``state_path`` the upload is always multipart and resumable: its
        id and finished parts are recorded in that file, a failure keeps the
        upload, and calling again with the same file, key and state sends only
        the missing parts (a changed file is refused).

        ``callback(n)`` gets the bytes sent since its previous call (boto3's
        Callback: ``callback=bar.update`` for a tqdm bar), ``progress(done,
        total)`` the running totals; both run on this thread about every 100 ms
        and once at the end, and an exception in either cancels the upload and
        is re-raised. ``cancel`` is an r2.CancelToken to stop it from another
        thread (r2.Cancelled). Ctrl-C stops it and raises KeyboardInterrupt.
        Put options (content_type, metadata, ...) as for put(); boto3's
        ``Callback``, ``Config`` and ``ExtraArgs`` (ContentType, Metadata, ...)
        are accepted too.
        """
        tc = upload_transfer_call(self._lib, locals(), state_path=path(state_path, "state_path"),
                                  callback=callback if callback is not None else Callback, progress=progress,
                                  cancel=cancel)
        file = path(filename, "filename")
        with builtins.open(filename, "rb"):  # FileNotFoundError, PermissionError, ... as Python reports them
            pass
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        return self._transfer(tc, lambda info, h, o: self._lib.r2_transfer_upload_file(info, h, b, k, file, o))

    def upload_fileobj(self, fileobj: Any, bucket: str, key: str, *, length: Optional[int] = None,
                       callback: Progress = None, progress: ProgressCallback = None,
                       config: Optional[TransferConfig] = None, threshold: Optional[int] = None,
                       part_size: Optional[int] = None, concurrency: Optional[int] = None,
                       part_checksum: Optional[str] = None, cancel: Optional[CancelToken] = None,
                       state_path: None = None, content_type: Optional[str] = None, cache_control: Optional[str] = None,
                       content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                       content_language: Optional[str] = None, expires: HTTPDate = None, metadata: Headers = None,
                       if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                       if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                       payload_mode: Optional[str] = None, checksum: Optional[str] = None,
                       checksum_value: Optional[str] = None, storage_class: Optional[str] = None,
                       sse_customer_key: Optional[bytes] = None, Callback: Progress = None, Config: Any = None,
                       ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """boto3's upload_fileobj through r2's transfer manager: a binary
        file-like object, read from its current position on this thread.

        With a known length (``length``, or found for regular and seekable
        files) below the threshold it is one streamed PUT; otherwise, and
        always for a stream of unknown length (a pipe, a socket), a multipart
        upload whose parts are read in order into at most concurrency + 1
        part buffers and sent by r2's workers (r2_transfer_upload_stream). An
        io.BytesIO is uploaded from its buffer without a copy
        (r2_transfer_upload_buffer). Other arguments as for upload_file (resuming
        needs upload_file: a stream cannot be read again, so ``state_path``
        is refused).
        """
        if state_path is not None:
            raise invalid_argument("state_path (resume) needs upload_file: a file object cannot be re-read where it "
                                   "stopped")
        if not (hasattr(fileobj, "readinto") or hasattr(fileobj, "read")):
            raise TypeError(f"fileobj must be a binary file-like object, not {type(fileobj).__name__}")
        tc = upload_transfer_call(self._lib, locals(), callback=callback if callback is not None else Callback,
                                  progress=progress, cancel=cancel)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if isinstance(fileobj, io.BytesIO) and length is None:
            start = fileobj.tell()
            data, size, _owner = byte_pointer(fileobj.getbuffer()[start:])
            info = self._transfer(tc, lambda info, h, o: self._lib.r2_transfer_upload_buffer(info, h, b, k, data, size,
                                                                                             o))
            del data, _owner  # the view must go before BytesIO may be resized again
            fileobj.seek(start + size)
            return info
        if length is None:
            length = remaining_length(fileobj)
        return self._upload_stream(b, k, fileobj, -1 if length is None else length, tc)

    def download_fileobj(self, bucket: str, key: str, fileobj: Any, *, callback: Progress = None,
                         progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                         threshold: Optional[int] = None, part_size: Optional[int] = None,
                         concurrency: Optional[int] = None, cancel: Optional[CancelToken] = None,
                         range: Range = None, if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                         if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                         validate_checksum: bool = False, sse_customer_key: Optional[bytes] = None,
                         Callback: Progress = None, Config: Any = None,
                         ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """boto3's download_fileobj through r2's transfer manager
        (r2_transfer_download_stream): ``fileobj.write`` gets the body in order on this
        thread. Below the threshold it is one GET; above it, ranges pinned to
        the object's ETag are fetched ``concurrency`` at a time into at most
        concurrency + 1 part buffers. Returns the object's metadata (from a
        HEAD). Callbacks, ``cancel`` and Ctrl-C as for upload_file.

        Conditions (range, if_match, if_none_match, if_modified_since,
        if_unmodified_since, validate_checksum, sse_customer_key; or boto3's
        ExtraArgs IfMatch, Range, ...) make it one conditional GET
        (r2_object_get_stream), which the transfer manager cannot send.
        """
        get = with_extra_args(picked(locals(), GET_FIELDS), ExtraArgs, DOWNLOAD_EXTRA_ARGS)
        config = config if config is not None else Config
        tc = TransferCall(self._lib, config=config, threshold=threshold, part_size=part_size, concurrency=concurrency,
                          callback=callback if callback is not None else Callback, progress=progress, cancel=cancel)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        opts = get_options(self._lib, **get)
        if opts is not None:  # a condition (or the SSE-C key): one conditional GET
            no_transfer_options(threshold, part_size, concurrency, cancel, config)
            return self._get_stream(b, k, opts, _reporting(lambda chunk, size: fileobj.write(string_at(chunk, size)),
                                                           tc))

        def write(chunk: Any, size: int, _userdata: Any) -> int:
            try:
                if tc.interrupted():
                    return 1
                # bytes, not a view of r2's buffer: an arbitrary fileobj may keep what it is given.
                fileobj.write(string_at(chunk, size))
                return 0
            except BaseException as e:  # noqa: B036 -- KeyboardInterrupt too: it must abort the transfer
                tc.errors.record(e)
                return 1
        write_cb = _ffi.r2_write_cb(write)
        return self._transfer(tc, lambda info, h, o: self._lib.r2_transfer_download_stream(info, h, b, k, write_cb,
                                                                                           None, o))

    def download_file(self, bucket: str, key: str, filename: PathLike, *, callback: Progress = None,
                      progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                      threshold: Optional[int] = None, part_size: Optional[int] = None,
                      concurrency: Optional[int] = None, state_path: Optional[PathLike] = None,
                      cancel: Optional[CancelToken] = None, fsync: bool = True, range: Range = None,
                      if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                      if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                      validate_checksum: bool = False, sse_customer_key: Optional[bytes] = None,
                      Callback: Progress = None, Config: Any = None,
                      ExtraArgs: Optional[Mapping[str, Any]] = None) -> ObjectInfo:
        """boto3's download_file through r2's transfer manager (r2_transfer_download_file):
        one GET below the threshold, else parallel ranged GETs pinned to the
        object's ETag (an overwrite mid-download is PreconditionFailed, not a
        mix), written by r2 without the GIL. The bytes go to
        ``<filename>.r2-partial``, renamed into place at the end: a failed,
        cancelled or interrupted download leaves nothing at ``filename``;
        the file is fsynced before that rename (``fsync=False`` skips it:
        faster, but a crash soon after may leave a short file). With
        ``state_path`` the partial file and the finished ranges are kept
        on failure, and calling again continues from them. Returns the
        object's metadata (from a HEAD). ``sse_customer_key`` is the key the
        object was written with. Callbacks, ``cancel`` and Ctrl-C as for
        upload_file.

        Conditions (range, if_match, ..., validate_checksum; as for
        download_fileobj) make it one conditional GET into a temporary file
        beside ``filename``.
        """
        get = with_extra_args(picked(locals(), GET_FIELDS), ExtraArgs, DOWNLOAD_EXTRA_ARGS)
        config = config if config is not None else Config
        tc = TransferCall(self._lib, config=config, threshold=threshold, part_size=part_size, concurrency=concurrency,
                          state_path=path(state_path, "state_path"),
                          callback=callback if callback is not None else Callback, progress=progress, cancel=cancel)
        tc.options.sse_customer_key = sse_key(sse_customer_key)  # the transfer manager sends the key itself
        tc.options.skip_fsync = 0 if fsync else 1
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if get_options(self._lib, **dict(get, sse_customer_key=None)) is not None:  # a condition: one conditional GET
            no_transfer_options(threshold, part_size, concurrency, cancel, config, state_path)
            return self._download_file_conditional(b, k, filename, get_options(self._lib, **get), tc, fsync)
        file = path(filename, "filename")
        return self._transfer(tc, lambda info, h, o: self._lib.r2_transfer_download_file(info, h, b, k, file, o))

    def _download_file_conditional(self, bucket: Optional[bytes], key: Optional[bytes], filename: PathLike,
                                   opts: Any, tc: TransferCall, fsync: bool) -> ObjectInfo:
        """One conditional GET streamed into a temporary file beside
        ``filename``, renamed into place once complete."""
        import tempfile  # here: it costs a noticeable part of `import r2`
        directory = os.path.dirname(os.path.abspath(filename))
        fd, partial = tempfile.mkstemp(prefix=".r2-", suffix=".part", dir=directory)
        try:
            with builtins.open(fd, "wb") as f:
                # A view of r2's buffer is safe here: BufferedWriter copies or writes it before returning.
                write = _reporting(lambda chunk, size: f.write(c_buffer(chunk, size)), tc)
                info = self._get_stream(bucket, key, opts, write)
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(partial, filename)
            return info
        except BaseException:
            os.unlink(partial)
            raise


def no_transfer_options(*values: Any) -> None:
    if any(v is not None for v in values):
        raise invalid_argument("conditions (range, if_match, ...) make a download one conditional GET: they cannot "
                               "be combined with threshold, part_size, concurrency, config, cancel or state_path")


def _reporting(on_data: Callable[[Any, int], Any], tc: TransferCall) -> Callable[[Any, int], None]:
    """Wraps a chunk consumer of a plain GET so that it reports progress as a transfer would."""
    done = 0

    def consume(chunk: Any, size: int) -> None:
        nonlocal done
        on_data(chunk, size)
        done += size
        if tc.callback is not None:
            tc.callback(size)
        if tc.progress is not None:
            tc.progress(done, None)
    return consume

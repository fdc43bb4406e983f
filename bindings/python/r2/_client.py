"""r2.Client: every object operation of the C API, as Python methods."""
from __future__ import annotations

import builtins
import datetime
import io
import os
import threading
import weakref
from ctypes import POINTER, byref, c_bool, c_char_p, c_uint8, pointer, string_at
from collections.abc import Iterable, Mapping

from . import _ffi
from ._convert import (CHECKSUMS, JURISDICTIONS, PAYLOAD_MODES, CallbackErrors, byte_pointer,
                       check, choice, cstr, header_array, http_date, seconds, to_unix_time)
from ._errors import EntityTooLarge, InvalidRequest, invalid_argument
from ._interrupt import Interrupts
from ._library import Library, load_library
from ._streams import ObjectReader, ObjectStream, ReadSource, c_buffer, remaining_length
from ._transfer import PART_CHECKSUMS, CancelToken, TransferCall, TransferConfig
from ._types import (CompletedPart, DeleteError, DeleteResult, ListPage, MultipartUpload, Object, ObjectEntry,
                     ObjectInfo, PartInfo, text)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional, Union

    from ._convert import Headers, HTTPDate
    from ._streams import Progress
    from ._transfer import ProgressCallback

    PathLike = Union[str, "os.PathLike[str]"]
    Body = Union[bytes, bytearray, memoryview, str, Any]  # or a binary file-like object, or an iterable of bytes
    Range = Union[str, "tuple[int, Optional[int]]", None]


def _path(value: Optional[PathLike], name: str) -> Optional[bytes]:
    return None if value is None else cstr(os.fspath(value), name)


def _ms(value: Optional[float]) -> Optional[int]:
    return None if value is None else int(round(value * 1000))


def _range(value: Range) -> Optional[bytes]:
    """The Range header: a str ("bytes=a-b") as given, or (start, end) with
    an inclusive end (None for "to the end")."""
    if isinstance(value, tuple):
        start, end = value
        value = f"bytes={start}-{'' if end is None else end}"
    return cstr(value, "range")


# boto3's ExtraArgs names and the keyword arguments they stand for.
UPLOAD_EXTRA_ARGS = {"ContentType": "content_type", "CacheControl": "cache_control",
                     "ContentDisposition": "content_disposition", "ContentEncoding": "content_encoding",
                     "ContentLanguage": "content_language", "Expires": "expires", "Metadata": "metadata",
                     "StorageClass": "storage_class"}
DOWNLOAD_EXTRA_ARGS = {"IfMatch": "if_match", "IfNoneMatch": "if_none_match",
                       "IfModifiedSince": "if_modified_since", "IfUnmodifiedSince": "if_unmodified_since",
                       "Range": "range"}


def _boto3_names(options: dict, extra_args: dict, callback: Progress) -> Progress:
    """Moves boto3's ``ExtraArgs`` into ``options`` under this binding's names
    and returns the callback (``callback=`` or boto3's ``Callback=``)."""
    boto3_callback = options.pop("Callback", None)
    for name, value in (options.pop("ExtraArgs", None) or {}).items():
        if name not in extra_args:
            raise invalid_argument(f"ExtraArgs {name!r} is not supported here; supported: {', '.join(extra_args)}")
        options.setdefault(extra_args[name], value)
    return boto3_callback if callback is None else callback


# The largest source one CopyObject takes in r2 (as its single-PUT limit, 5 GiB - 5 MiB).
_SINGLE_COPY_LIMIT = 5 * 1024 ** 3 - 5 * 1024 ** 2


def _sse_key(value: Optional[bytes], name: str = "sse_customer_key") -> Any:
    """A 32-byte SSE-C key as the c_uint8 array r2 reads (None: no key)."""
    if value is None:
        return None
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(bytes(value)) != 32:
        raise invalid_argument(f"{name} must be 32 bytes (an AES-256 key)")
    return (c_uint8 * 32).from_buffer_copy(bytes(value))


def _part_number(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"part_number must be an int, not {type(n).__name__}")
    if not 0 <= n < 1 << 32:
        raise invalid_argument(f"part number {n} is out of range (1 to 10 000)")
    return n  # r2 checks 1 to 10 000


def _completed(part: Any) -> tuple[int, str]:
    if isinstance(part, CompletedPart):
        return part.part_number, part.etag
    if isinstance(part, Mapping):
        return _part_number(part["PartNumber"]), part["ETag"]
    number, etag = part
    return _part_number(number), etag


def _no_transfer_options(*values: Any) -> None:
    if any(v is not None for v in values):
        raise invalid_argument("conditions (range, if_match, ...) make a download one conditional GET: they cannot "
                               "be combined with threshold, part_size, concurrency, config, cancel or state_path")


def _reporting(on_data: Callable[[Any, int], Any], tc: TransferCall) -> Callable[[Any, int], None]:
    """Wraps a chunk consumer of a plain GET so that it reports progress as a transfer would."""
    done = 0

    def consume(chunk, size: int) -> None:
        nonlocal done
        on_data(chunk, size)
        done += size
        if tc.callback is not None:
            tc.callback(size)
        if tc.progress is not None:
            tc.progress(done, None)
    return consume


class _InUse:
    """``with client._in_use as handle``: the client's handle for one C call.

    r2_client is thread-safe, but r2_client_free must not run while another
    thread is inside a call, so calls are counted and close() waits for them."""

    __slots__ = ("client",)

    def __init__(self, client: Client) -> None:
        self.client = client

    def __enter__(self):
        c = self.client
        with c._lock:
            if c._handle is None or c._closing:
                raise ValueError("the r2 client is closed")
            c._calls += 1
            return c._handle

    def __exit__(self, *exc) -> None:
        c = self.client
        with c._lock:
            c._calls -= 1
            if c._closing and c._calls == 0:
                c._lock.notify_all()


class Client:
    """A client for one R2 account (or any S3-compatible endpoint).

    Safe to share between threads; calls release the GIL while r2 works.
    Use it as a context manager, or call close(). Strings are str; bodies are
    bytes. Failures raise r2.R2Error subclasses (r2.NoSuchKey, ...).

    ``replay="cassette.json"`` serves every request from a cassette recorded
    by any r2 binding (no network); ``record="cassette.json"`` records one.
    ``library`` is a path to libr2.so (or an r2.Library) when the default
    search (see r2.load_library) is not wanted.
    """

    def __init__(self, account_id: Optional[str] = None, access_key_id: Optional[str] = None,
                 secret_access_key: Optional[str] = None, *, session_token: Optional[str] = None,
                 endpoint: Optional[str] = None, jurisdiction: Optional[str] = None, allow_http: bool = False,
                 ca_bundle: Optional[PathLike] = None, connect_timeout: Optional[float] = None,
                 request_timeout: Optional[float] = None, transfer_timeout: Optional[float] = None,
                 multipart_threshold: Optional[int] = None, multipart_part_size: Optional[int] = None,
                 multipart_concurrency: Optional[int] = None, pool_size: Optional[int] = None,
                 payload_mode: Optional[str] = None, record: Optional[PathLike] = None,
                 replay: Optional[PathLike] = None, replay_latency: bool = False,
                 stall_timeout: Optional[float] = None, stall_min_rate: Optional[int] = None,
                 list_timeout: Optional[float] = None, part_timeout: Optional[float] = None,
                 deadline: Optional[float] = None, max_attempts: Optional[int] = None,
                 rate_limit: Optional[float] = None, max_get_bytes: Optional[int] = None,
                 virtual_hosted_style: bool = False, region: Optional[str] = None,
                 library: Union[Library, PathLike, None] = None) -> None:
        self._handle = None  # so close() and __del__ work if __init__ fails below
        lib = library if isinstance(library, Library) else load_library(library)
        o = _ffi.r2_client_options()
        check(lib, lib.r2_client_options_init(byref(o), _ffi.R2_CLIENT_OPTIONS_VERSION))
        o.account_id = cstr(account_id, "account_id")
        o.access_key_id = cstr(access_key_id, "access_key_id")
        o.secret_access_key = cstr(secret_access_key, "secret_access_key")
        o.session_token = cstr(session_token, "session_token")
        o.endpoint = cstr(endpoint, "endpoint")
        o.jurisdiction = choice(jurisdiction, JURISDICTIONS, "jurisdiction")
        o.allow_http = allow_http
        o.ca_bundle_path = _path(ca_bundle, "ca_bundle")
        o.record_path = _path(record, "record")
        o.replay_path = _path(replay, "replay")
        o.replay_latency = replay_latency
        o.virtual_hosted_style = virtual_hosted_style
        o.region = cstr(region, "region")  # "auto" (default), "us-east-1" or ""; others raise r2.ConfigError
        if payload_mode is not None:
            o.payload_mode = choice(payload_mode, PAYLOAD_MODES, "payload_mode")
        numbers = {"connect_timeout_ms": _ms(connect_timeout), "request_timeout_ms": _ms(request_timeout),
                   "transfer_timeout_ms": _ms(transfer_timeout), "multipart_threshold": multipart_threshold,
                   "multipart_part_size": multipart_part_size, "multipart_concurrency": multipart_concurrency,
                   "pool_size": pool_size, "stall_timeout_ms": _ms(stall_timeout),
                   "stall_min_bytes_per_s": stall_min_rate, "list_timeout_ms": _ms(list_timeout),
                   "part_timeout_ms": _ms(part_timeout), "deadline_ms": _ms(deadline),
                   "rate_limit": rate_limit, "max_get_bytes": max_get_bytes}
        for name, value in numbers.items():
            if value is not None:
                setattr(o, name, value)  # r2 validates the range
        if max_attempts is not None:  # one budget for every retry class (1: never retry)
            for rule in (o.retry_slow_down, o.retry_server, o.retry_network, o.retry_interrupted):
                rule.max_attempts = max_attempts
        handle = POINTER(_ffi.r2_client)()
        check(lib, lib.r2_client_new(byref(handle), byref(o)))
        shown = {"endpoint": endpoint, "account_id": account_id, "jurisdiction": jurisdiction,
                 "access_key_id": access_key_id, "record": record and os.fspath(record),
                 "replay": replay and os.fspath(replay)}
        self._start(lib, handle, ", ".join(f"{k}={v!r}" for k, v in shown.items() if v))

    @classmethod
    def from_env(cls, *, library: Union[Library, PathLike, None] = None) -> Client:
        """A client configured by r2 from R2_ACCOUNT_ID, R2_ACCESS_KEY_ID,
        R2_SECRET_ACCESS_KEY, R2_ENDPOINT, R2_ALLOW_HTTP, R2_CA_BUNDLE, ...
        (see the README); a missing or invalid one raises r2.ConfigError."""
        lib = library if isinstance(library, Library) else load_library(library)
        handle = POINTER(_ffi.r2_client)()
        check(lib, lib.r2_client_new_from_env(byref(handle)))
        client = cls.__new__(cls)
        client._start(lib, handle, "from_env")
        return client

    def _start(self, lib: Library, handle, description: str) -> None:
        self._lib = lib
        self._handle = handle
        self._description = description
        self._lock = threading.Condition()
        self._calls = 0
        self._closing = False
        self._in_use = _InUse(self)
        self._children: weakref.WeakSet = weakref.WeakSet()  # open streams and list iterators

    def __repr__(self) -> str:  # never the secret or the session token
        state = " closed" if self._handle is None else ""
        return f"<r2.Client {getattr(self, '_description', '')}{state}>"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Closes open streams and iterators, waits for calls in flight on
        other threads, then frees the client. Idempotent. Do not call it from
        inside a callback of this client's own call (it would wait for itself)."""
        if self._handle is None:
            return
        with self._lock:
            if self._closing:
                return
            children = list(self._children)
        for child in children:
            child.close()
        with self._lock:
            self._closing = True
            self._lock.wait_for(lambda: self._calls == 0)
            handle, self._handle = self._handle, None
        self._lib.r2_client_free(handle)

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            self._lib.r2_client_free(self._handle)  # unreachable, so no call is in flight
            self._handle = None

    # -- options ------------------------------------------------------------

    def _get_options(self, range: Range = None, if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                     if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                     validate_checksum: bool = False, sse_customer_key: Optional[bytes] = None) -> Any:
        """byref(r2_get_options), or None (r2's defaults) when nothing is set,
        which spares a foreign call on the common path."""
        if validate_checksum is False and all(v is None for v in (range, if_match, if_none_match, if_modified_since,
                                                                  if_unmodified_since, sse_customer_key)):
            return None
        o = _ffi.r2_get_options()
        check(self._lib, self._lib.r2_get_options_init(byref(o), _ffi.R2_GET_OPTIONS_VERSION))
        o.range = _range(range)
        o.if_match = cstr(if_match, "if_match")
        o.if_none_match = cstr(if_none_match, "if_none_match")
        o.if_modified_since = http_date(if_modified_since, "if_modified_since")
        o.if_unmodified_since = http_date(if_unmodified_since, "if_unmodified_since")
        o.validate_checksum = validate_checksum
        o.sse_customer_key = _sse_key(sse_customer_key)
        return byref(o)

    def _put_options(self, content_type: Optional[str] = None, cache_control: Optional[str] = None,
                     content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                     content_language: Optional[str] = None, expires: HTTPDate = None, metadata: Headers = None,
                     if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                     if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                     payload_mode: Optional[str] = None, checksum: Optional[str] = None,
                     checksum_value: Optional[str] = None, storage_class: Optional[str] = None,
                     sse_customer_key: Optional[bytes] = None) -> Any:
        """byref(r2_put_options), or None (r2's defaults) when nothing is set."""
        o = self._put_struct(content_type, cache_control, content_disposition, content_encoding, content_language,
                             expires, metadata, if_match, if_none_match, if_modified_since, if_unmodified_since,
                             payload_mode, checksum, checksum_value, storage_class, sse_customer_key)
        return None if o is None else byref(o)

    def _put_struct(self, content_type: Optional[str] = None, cache_control: Optional[str] = None,
                    content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                    content_language: Optional[str] = None, expires: HTTPDate = None, metadata: Headers = None,
                    if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                    if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
                    payload_mode: Optional[str] = None, checksum: Optional[str] = None,
                    checksum_value: Optional[str] = None, storage_class: Optional[str] = None,
                    sse_customer_key: Optional[bytes] = None) -> Any:
        """An r2_put_options, or None when nothing is set."""
        if not any(v is not None for v in (content_type, cache_control, content_disposition, content_encoding,
                                             content_language, expires, metadata, if_match, if_none_match,
                                             if_modified_since, if_unmodified_since, payload_mode, checksum,
                                             checksum_value, storage_class, sse_customer_key)):
            return None
        o = _ffi.r2_put_options()
        check(self._lib, self._lib.r2_put_options_init(byref(o), _ffi.R2_PUT_OPTIONS_VERSION))
        o.content_type = cstr(content_type, "content_type")
        o.cache_control = cstr(cache_control, "cache_control")
        o.content_disposition = cstr(content_disposition, "content_disposition")
        o.content_encoding = cstr(content_encoding, "content_encoding")
        o.content_language = cstr(content_language, "content_language")
        o.expires = http_date(expires, "expires")
        o.metadata, o.metadata_count = header_array(metadata, "metadata")
        o.if_match = cstr(if_match, "if_match")
        o.if_none_match = cstr(if_none_match, "if_none_match")
        o.if_modified_since = http_date(if_modified_since, "if_modified_since")
        o.if_unmodified_since = http_date(if_unmodified_since, "if_unmodified_since")
        o.payload_mode = choice(payload_mode, PAYLOAD_MODES, "payload_mode")
        o.checksum = choice(checksum, CHECKSUMS, "checksum")
        o.checksum_value = cstr(checksum_value, "checksum_value")
        o.storage_class = cstr(storage_class, "storage_class")
        o.sse_customer_key = _sse_key(sse_customer_key)
        return o

    def _info_call(self, call: Callable[[Any, Any], int], errors: Optional[CallbackErrors] = None) -> ObjectInfo:
        """Runs ``call(byref(info), handle)`` and returns the info it filled."""
        info = _ffi.r2_object_info()
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

    def _transfer(self, tc: TransferCall, call: Callable[[Any, Any, Any], int]) -> ObjectInfo:
        """Runs ``call(byref(info), handle, byref(transfer options))`` under
        Ctrl-C protection: SIGINT cancels it through its r2_cancel (even while
        the network stalls) and is raised as KeyboardInterrupt once r2 has
        cleaned up (an unfinished multipart upload is aborted first)."""
        info = _ffi.r2_object_info()
        with Interrupts(tc.request_cancel) as guard:
            tc.interrupted = lambda: guard.interrupted
            with self._in_use as handle:
                code = call(byref(info), handle, byref(tc.options))
            try:
                tc.finish(code)
                return ObjectInfo.from_c(info)
            finally:
                self._lib.r2_object_info_dispose(byref(info))

    def _transfer_call(self, options: dict, extra_args: dict, *, callback: Progress, progress: ProgressCallback,
                       config: Any, threshold: Optional[int], part_size: Optional[int], concurrency: Optional[int],
                       part_checksum: Optional[str] = None, state_path: Optional[PathLike] = None,
                       cancel: Optional[CancelToken] = None, upload: bool = True) -> TransferCall:
        """A TransferCall from a method's arguments; ``options`` (the rest of
        its keyword arguments, boto3's Callback/Config/ExtraArgs included) is
        left with the put options (upload) or get conditions (download)."""
        callback = _boto3_names(options, extra_args, callback)
        boto3_config = options.pop("Config", None)
        config = boto3_config if config is None else config
        put = self._put_struct(**options) if upload else None
        return TransferCall(self._lib, config=config, threshold=threshold, part_size=part_size,
                            concurrency=concurrency, part_checksum=part_checksum,
                            state_path=_path(state_path, "state_path"), put=put, callback=callback,
                            progress=progress, cancel=cancel)

    # -- put ----------------------------------------------------------------

    def put(self, bucket: str, key: str, body: Body = b"", *, length: Optional[int] = None,
            callback: Progress = None, **options: Any) -> ObjectInfo:
        """Uploads ``body`` as bucket/key and returns the new ETag etc.

        ``body`` is bytes-like, str (sent as UTF-8), a binary file-like
        object (read from its current position), or an iterable of bytes.
        Bytes and streams of known length are one PUT (up to 5 GiB - 5 MiB;
        streams through r2_object_put_stream). The length of regular and
        seekable files is found; otherwise pass ``length`` (exactly that many
        bytes are read). A stream of unknown length (an iterable, a pipe)
        without ``length`` is a multipart upload through the transfer manager
        (r2_upload_stream), with the client's part size and concurrency: use
        upload_fileobj to choose them.

        ``callback(n)`` is called with the bytes sent since its last call,
        like boto3's Callback (for bytes-like bodies, once at the end). Options: content_type,
        cache_control, content_disposition, content_encoding,
        content_language, expires, metadata (dict), if_match, if_none_match
        ("*" to create only), if_modified_since, if_unmodified_since,
        payload_mode ("signed"/"unsigned"), checksum ("md5", "crc32",
        "crc32c", "sha1", "sha256"), checksum_value (base64, for streams),
        storage_class.
        """
        if isinstance(body, str):
            body = body.encode()
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if isinstance(body, (bytes, bytearray, memoryview)):
            opts = self._put_options(**options)
            data, size, _owner = byte_pointer(body)
            info = self._info_call(lambda info, h: self._lib.r2_object_put(info, h, b, k, data, size, opts))
            if callback is not None:
                callback(size)  # r2_object_put has no progress callback: report the whole body once it is sent
            return info
        file_like = hasattr(body, "readinto") or hasattr(body, "read")
        if not file_like and not isinstance(body, Iterable):
            raise TypeError(f"body must be bytes, str, a binary file-like object or an iterable of bytes, "
                            f"not {type(body).__name__}")
        if length is None and file_like:
            length = remaining_length(body)
        if length is None:
            tc = TransferCall(self._lib, put=self._put_struct(**options), callback=callback)
            return self._upload_stream(b, k, body, -1, tc)
        errors = CallbackErrors()
        with Interrupts() as guard:
            source = ReadSource(body, errors, callback, stop=lambda: guard.interrupted)
            read = _ffi.r2_read_cb(source.fill)
            put, rewind = self._rewindable(self._put_struct(**options), source)  # referenced until the call returns
            opts = None if put is None else byref(put)
            return self._info_call(lambda info, h: self._lib.r2_object_put_stream(info, h, b, k, length, read, None,
                                                                                  opts), errors)

    def _rewindable(self, put: Any, source: ReadSource) -> tuple[Any, Any]:
        """(put options, rewind callback): a seekable source gets a rewind
        callback (r2 then re-sends a failed PUT from its start); the callback
        object must stay referenced until the call returns."""
        if not source.can_rewind:
            return put, None
        if put is None:
            put = _ffi.r2_put_options()
            check(self._lib, self._lib.r2_put_options_init(byref(put), _ffi.R2_PUT_OPTIONS_VERSION))
        rewind = _ffi.r2_rewind_cb(source.rewind)
        put.rewind = rewind
        return put, rewind

    def _upload_stream(self, bucket: Optional[bytes], key: Optional[bytes], body: Any, length: int,
                       tc: TransferCall) -> ObjectInfo:
        """r2_upload_stream from a file-like object or iterable; length -1: unknown (multipart)."""
        source = ReadSource(body, tc.errors, stop=lambda: tc.interrupted())
        read = _ffi.r2_read_cb(source.fill)  # referenced until the call returns
        put = tc.options.put.contents if tc.options.put else None
        put, rewind = self._rewindable(put, source)  # noqa: F841 -- rewind referenced until the call returns
        if put is not None and not tc.options.put:
            tc.options.put = pointer(put)
        return self._transfer(tc, lambda info, h, o: self._lib.r2_upload_stream(info, h, bucket, key, length, read,
                                                                                None, o))

    def upload_file(self, filename: PathLike, bucket: str, key: str, *, callback: Progress = None,
                    progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                    threshold: Optional[int] = None, part_size: Optional[int] = None,
                    concurrency: Optional[int] = None, part_checksum: Optional[str] = None,
                    state_path: Optional[PathLike] = None, cancel: Optional[CancelToken] = None,
                    **options: Any) -> ObjectInfo:
        """boto3's upload_file through r2's transfer manager (r2_upload_file):
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
        tc = self._transfer_call(options, UPLOAD_EXTRA_ARGS, callback=callback, progress=progress, config=config,
                                 threshold=threshold, part_size=part_size, concurrency=concurrency,
                                 part_checksum=part_checksum, state_path=state_path, cancel=cancel)
        path = _path(filename, "filename")
        with builtins.open(filename, "rb"):  # FileNotFoundError, PermissionError, ... as Python reports them
            pass
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        return self._transfer(tc, lambda info, h, o: self._lib.r2_upload_file(info, h, b, k, path, o))

    def upload_fileobj(self, fileobj, bucket: str, key: str, *, length: Optional[int] = None,
                       callback: Progress = None, progress: ProgressCallback = None,
                       config: Optional[TransferConfig] = None, threshold: Optional[int] = None,
                       part_size: Optional[int] = None, concurrency: Optional[int] = None,
                       part_checksum: Optional[str] = None, cancel: Optional[CancelToken] = None,
                       **options: Any) -> ObjectInfo:
        """boto3's upload_fileobj through r2's transfer manager: a binary
        file-like object, read from its current position on this thread.

        With a known length (``length``, or found for regular and seekable
        files) below the threshold it is one streamed PUT; otherwise, and
        always for a stream of unknown length (a pipe, a socket), a multipart
        upload whose parts are read in order into at most concurrency + 1
        part buffers and sent by r2's workers (r2_upload_stream). An
        io.BytesIO is uploaded from its buffer without a copy
        (r2_upload_buffer). Other arguments as for upload_file (resuming
        needs upload_file: a stream cannot be read again).
        """
        if options.get("state_path") is not None:
            raise invalid_argument("state_path (resume) needs upload_file: a file object cannot be re-read where it "
                                   "stopped")
        options.pop("state_path", None)
        if not (hasattr(fileobj, "readinto") or hasattr(fileobj, "read")):
            raise TypeError(f"fileobj must be a binary file-like object, not {type(fileobj).__name__}")
        tc = self._transfer_call(options, UPLOAD_EXTRA_ARGS, callback=callback, progress=progress, config=config,
                                 threshold=threshold, part_size=part_size, concurrency=concurrency,
                                 part_checksum=part_checksum, cancel=cancel)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if isinstance(fileobj, io.BytesIO) and length is None:
            start = fileobj.tell()
            data, size, _owner = byte_pointer(fileobj.getbuffer()[start:])
            info = self._transfer(tc, lambda info, h, o: self._lib.r2_upload_buffer(info, h, b, k, data, size, o))
            del data, _owner  # the view must go before BytesIO may be resized again
            fileobj.seek(start + size)
            return info
        if length is None:
            length = remaining_length(fileobj)
        return self._upload_stream(b, k, fileobj, -1 if length is None else length, tc)

    # -- get ----------------------------------------------------------------

    def get(self, bucket: str, key: str, *, range: Range = None, if_match: Optional[str] = None,
            if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
            if_unmodified_since: HTTPDate = None, validate_checksum: bool = False,
            sse_customer_key: Optional[bytes] = None) -> Object:
        """Reads bucket/key (or a range of it) into memory.

        ``range`` is "bytes=a-b", "bytes=a-", "bytes=-n", or (start, end)
        with an inclusive end (None for "to the end"). Raises NoSuchKey,
        NotModified (if_none_match / if_modified_since), PreconditionFailed,
        InvalidRange, ChecksumMismatch, ... At most the client's
        ``max_get_bytes`` (1 GiB) are held: a larger or endless body raises
        EntityTooLarge. For large objects use open() or download_fileobj(),
        which stream.
        """
        opts = self._get_options(range, if_match, if_none_match, if_modified_since, if_unmodified_since,
                                 validate_checksum, sse_customer_key)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        body = _ffi.r2_buf()
        try:
            info = self._info_call(lambda info, h: self._lib.r2_object_get(byref(body), info, h, b, k, opts))
            return Object(string_at(body.ptr, body.size) if body.size else b"", info)
        finally:
            self._lib.r2_buf_dispose(byref(body))

    def _get_stream(self, bucket: Optional[bytes], key: Optional[bytes], opts: Any,
                    on_data: Callable[[Any, int], Any]) -> ObjectInfo:
        """r2_object_get_stream with ``on_data(pointer, size)`` per chunk on
        this thread; a false return cancels, an exception aborts and is re-raised."""
        errors = CallbackErrors()
        with Interrupts() as guard:
            def write(chunk, size, _userdata) -> int:
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

    def open(self, bucket: str, key: str, *, buffer_size: int = 1 << 16, **conditions: Any) -> ObjectReader:
        """Opens bucket/key for reading as a file-like object (io.BufferedReader)
        that streams the body from one GET in bounded memory.

        Errors before the body (NoSuchKey, NotModified, ...) are raised here.
        ``reader.info`` is available once the body has been read to the end.
        Use it with ``with`` (closing early cancels the download).
        Conditions as for get(): range, if_match, if_none_match,
        if_modified_since, if_unmodified_since, validate_checksum.
        """
        opts = self._get_options(**conditions)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")

        def run(on_chunk: Callable[[bytes], bool]) -> ObjectInfo:
            return self._get_stream(b, k, opts, lambda chunk, size: on_chunk(string_at(chunk, size)))
        stream = ObjectStream(run)
        with self._lock:
            self._children.add(stream)
        return ObjectReader(stream, buffer_size)

    def download_fileobj(self, bucket: str, key: str, fileobj, *, callback: Progress = None,
                         progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                         threshold: Optional[int] = None, part_size: Optional[int] = None,
                         concurrency: Optional[int] = None, cancel: Optional[CancelToken] = None,
                         **conditions: Any) -> ObjectInfo:
        """boto3's download_fileobj through r2's transfer manager
        (r2_download_stream): ``fileobj.write`` gets the body in order on this
        thread. Below the threshold it is one GET; above it, ranges pinned to
        the object's ETag are fetched ``concurrency`` at a time into at most
        concurrency + 1 part buffers. Returns the object's metadata (from a
        HEAD). Callbacks, ``cancel`` and Ctrl-C as for upload_file.

        Conditions (range, if_match, if_none_match, if_modified_since,
        if_unmodified_since, validate_checksum; or boto3's ExtraArgs IfMatch,
        Range, ...) make it one conditional GET (r2_object_get_stream), which
        the transfer manager cannot send.
        """
        tc = self._transfer_call(conditions, DOWNLOAD_EXTRA_ARGS, callback=callback, progress=progress, config=config,
                                 threshold=threshold, part_size=part_size, concurrency=concurrency, cancel=cancel,
                                 upload=False)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if conditions:
            _no_transfer_options(threshold, part_size, concurrency, cancel, config)
            return self._get_stream(b, k, self._get_options(**conditions),
                                    _reporting(lambda chunk, size: fileobj.write(string_at(chunk, size)), tc))

        def write(chunk, size, _userdata) -> int:
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
        return self._transfer(tc, lambda info, h, o: self._lib.r2_download_stream(info, h, b, k, write_cb, None, o))

    def download_file(self, bucket: str, key: str, filename: PathLike, *, callback: Progress = None,
                      progress: ProgressCallback = None, config: Optional[TransferConfig] = None,
                      threshold: Optional[int] = None, part_size: Optional[int] = None,
                      concurrency: Optional[int] = None, state_path: Optional[PathLike] = None,
                      cancel: Optional[CancelToken] = None, fsync: bool = True, **conditions: Any) -> ObjectInfo:
        """boto3's download_file through r2's transfer manager (r2_download_file):
        one GET below the threshold, else parallel ranged GETs pinned to the
        object's ETag (an overwrite mid-download is PreconditionFailed, not a
        mix), written by r2 without the GIL. The bytes go to
        ``<filename>.r2-partial``, renamed into place at the end: a failed,
        cancelled or interrupted download leaves nothing at ``filename``;
        the file is fsynced before that rename (``fsync=False`` skips it:
        faster, but a crash soon after may leave a short file). With ``state_path`` the partial file and the finished ranges are kept
        on failure, and calling again continues from them. Returns the
        object's metadata (from a HEAD). Callbacks, ``cancel`` and Ctrl-C as
        for upload_file.

        Conditions (as for download_fileobj) make it one conditional GET into
        a temporary file beside ``filename``.
        """
        sse_customer_key = conditions.pop("sse_customer_key", None)
        tc = self._transfer_call(conditions, DOWNLOAD_EXTRA_ARGS, callback=callback, progress=progress, config=config,
                                 threshold=threshold, part_size=part_size, concurrency=concurrency,
                                 state_path=state_path, cancel=cancel, upload=False)
        tc.options.sse_customer_key = _sse_key(sse_customer_key)
        tc.options.skip_fsync = 0 if fsync else 1
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if conditions:
            conditions["sse_customer_key"] = sse_customer_key
            _no_transfer_options(threshold, part_size, concurrency, cancel, config, state_path)
            return self._download_file_conditional(b, k, filename, self._get_options(**conditions), tc, fsync)
        path = _path(filename, "filename")
        return self._transfer(tc, lambda info, h, o: self._lib.r2_download_file(info, h, b, k, path, o))

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
                info = self._get_stream(bucket, key, opts, _reporting(lambda chunk, size: f.write(c_buffer(chunk, size)),
                                                                      tc))
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(partial, filename)
            return info
        except BaseException:
            os.unlink(partial)
            raise

    def head(self, bucket: str, key: str, **conditions: Any) -> ObjectInfo:
        """The object's metadata without its body (content_length is its size).
        A missing bucket also reads as NoSuchKey (HEAD responses have no body).
        Conditions as for get()."""
        opts = self._get_options(**conditions)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        return self._info_call(lambda info, h: self._lib.r2_object_head(info, h, b, k, opts))

    # -- delete, copy -------------------------------------------------------

    def delete(self, bucket: str, key: str) -> None:
        """Deletes bucket/key; deleting a missing key succeeds."""
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        with self._in_use as handle:
            code = self._lib.r2_object_delete(handle, b, k)
        check(self._lib, code)

    def delete_objects(self, bucket: str, keys: Iterable[str], *, quiet: bool = False) -> DeleteResult:
        """Deletes many keys (1000 per request). Keys the server could not
        delete are in the result's ``errors``; with ``quiet``, ``deleted`` is empty."""
        encoded = [cstr(key, "key") for key in keys]
        array = (c_char_p * len(encoded))(*encoded)
        b = cstr(bucket, "bucket")
        result = _ffi.r2_delete_result()
        with self._in_use as handle:
            code = self._lib.r2_objects_delete(byref(result), handle, b, array, len(encoded), quiet)
        try:
            check(self._lib, code)
            return DeleteResult(
                deleted=[text(result.deleted[i]) or "" for i in range(result.deleted_count)],
                errors=[DeleteError(text(e.key) or "", text(e.code) or "", text(e.message) or "")
                        for e in (result.errors[i] for i in range(result.error_count))])
        finally:
            self._lib.r2_delete_result_dispose(byref(result))

    def copy(self, src_bucket: str, src_key: str, bucket: str, key: str, *, replace_metadata: bool = False,
             content_type: Optional[str] = None, cache_control: Optional[str] = None,
             content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
             metadata: Headers = None, if_match: Optional[str] = None, if_none_match: Optional[str] = None,
             if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
             multipart_threshold: Optional[int] = None, part_size: Optional[int] = None,
             concurrency: Optional[int] = None, callback: Progress = None, progress: ProgressCallback = None,
             config: Optional[TransferConfig] = None, cancel: Optional[CancelToken] = None,
             sse_customer_key: Optional[bytes] = None, source_sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """Copies src_bucket/src_key to bucket/key on the server.

        SSE-C: ``sse_customer_key`` encrypts the copy, ``source_sse_customer_key``
        is the key the source was written with (32 bytes each).

        By default one CopyObject (up to 5 GiB). The source's metadata is
        kept unless ``replace_metadata``, which sets the content headers and
        metadata given here instead. The conditions (if_match, ...) apply to
        the source.

        Larger objects go through r2's transfer manager (r2_copy_large):
        UploadPartCopy ranges of ``part_size``, ``concurrency`` at a time.
        That happens when the source turns out to be too large for one
        CopyObject, or on request: with ``multipart_threshold`` (multipart
        when the source has at least that many bytes), ``part_size``,
        ``concurrency``, ``config``, a progress ``callback`` / ``progress``
        or ``cancel`` (as for upload_file; Ctrl-C cancels it too). The
        multipart path keeps the source's content headers and metadata, or
        sets the ones given with ``replace_metadata``; it takes no conditions.
        """
        conditions = (if_match, if_none_match, if_modified_since, if_unmodified_since)
        replaced: dict[str, Any] = dict(content_type=content_type, cache_control=cache_control,
                                        content_disposition=content_disposition, content_encoding=content_encoding,
                                        metadata=metadata)
        managed = any(v is not None for v in (multipart_threshold, part_size, concurrency, callback, progress,
                                              config, cancel))
        if not managed:
            try:
                return self._copy_object(src_bucket, src_key, bucket, key, replace_metadata, replaced, conditions,
                                         (sse_customer_key, source_sse_customer_key))
            except (EntityTooLarge, InvalidRequest):
                # Too large for CopyObject (S3 says InvalidRequest, some servers EntityTooLarge): go multipart
                # when the source really is larger than one copy may be and nothing asks for a single copy.
                if any(c is not None for c in conditions):
                    raise
                if self.head(src_bucket, src_key, sse_customer_key=source_sse_customer_key).content_length \
                        <= _SINGLE_COPY_LIMIT:
                    raise
                multipart_threshold = _SINGLE_COPY_LIMIT + 1
        elif any(c is not None for c in conditions):
            raise invalid_argument("copy conditions (if_match, ...) need a single CopyObject: they cannot be combined "
                                   "with multipart_threshold, part_size, concurrency, config, callback, progress or "
                                   "cancel")
        tc = TransferCall(self._lib, config=config, threshold=multipart_threshold, part_size=part_size,
                          concurrency=concurrency, callback=callback, progress=progress, cancel=cancel,
                          put=self._put_struct(**replaced) if replace_metadata else None)
        tc.options.sse_customer_key = _sse_key(sse_customer_key)
        tc.options.source_sse_customer_key = _sse_key(source_sse_customer_key, "source_sse_customer_key")
        if replace_metadata:
            # Below its threshold r2_copy_large sends CopyObject without the replaced metadata; do that here instead.
            threshold = tc.options.threshold or _SINGLE_COPY_LIMIT + 1
            size = self.head(src_bucket, src_key, sse_customer_key=source_sse_customer_key).content_length
            if size < threshold:
                info = self._copy_object(src_bucket, src_key, bucket, key, True, replaced, conditions,
                                         (sse_customer_key, source_sse_customer_key))
                tc.report_end(size)
                return info
        args = (cstr(src_bucket, "src_bucket"), cstr(src_key, "src_key"), cstr(bucket, "bucket"), cstr(key, "key"))
        return self._transfer(tc, lambda info, h, o: self._lib.r2_copy_large(info, h, *args, o))

    def _copy_object(self, src_bucket: str, src_key: str, bucket: str, key: str, replace_metadata: bool,
                     replaced: dict, conditions: tuple, keys: tuple = (None, None)) -> ObjectInfo:
        """One CopyObject (r2_object_copy)."""
        o = _ffi.r2_copy_options()
        check(self._lib, self._lib.r2_copy_options_init(byref(o), _ffi.R2_COPY_OPTIONS_VERSION))
        o.sse_customer_key = _sse_key(keys[0])
        o.source_sse_customer_key = _sse_key(keys[1], "source_sse_customer_key")
        o.replace_metadata = replace_metadata
        o.content_type = cstr(replaced["content_type"], "content_type")
        o.cache_control = cstr(replaced["cache_control"], "cache_control")
        o.content_disposition = cstr(replaced["content_disposition"], "content_disposition")
        o.content_encoding = cstr(replaced["content_encoding"], "content_encoding")
        o.metadata, o.metadata_count = header_array(replaced["metadata"], "metadata")
        if_match, if_none_match, if_modified_since, if_unmodified_since = conditions
        o.if_match = cstr(if_match, "if_match")
        o.if_none_match = cstr(if_none_match, "if_none_match")
        o.if_modified_since = http_date(if_modified_since, "if_modified_since")
        o.if_unmodified_since = http_date(if_unmodified_since, "if_unmodified_since")
        args = (cstr(src_bucket, "src_bucket"), cstr(src_key, "src_key"), cstr(bucket, "bucket"), cstr(key, "key"))
        return self._info_call(lambda info, h: self._lib.r2_object_copy(info, h, *args, byref(o)))

    # -- multipart ----------------------------------------------------------

    def create_multipart_upload(self, bucket: str, key: str, **options: Any) -> str:
        """Starts a multipart upload of bucket/key and returns its upload id.
        Options as for put() (content_type, metadata, ...); a checksum is
        refused (R2 has no full-object checksum for multipart uploads: check
        the parts with upload_part's ``checksum``)."""
        opts = self._put_options(**options)
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        return self._buf_call(lambda out, h: self._lib.r2_multipart_create(out, h, b, k, opts))

    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int, body: Any, *,
                    checksum: Optional[str] = None, sse_customer_key: Optional[bytes] = None) -> CompletedPart:
        """Uploads part ``part_number`` (1 to 10 000) from bytes-like ``body``
        and returns it for complete_multipart_upload. R2 wants every part but
        the last to be at least 5 MiB and all of them the same size (r2 checks
        what it can before sending). ``checksum``: "md5", "crc32" or "crc32c"."""
        if isinstance(body, str):
            body = body.encode()
        data, size, _owner = byte_pointer(body)
        algorithm = choice(checksum, PART_CHECKSUMS, "checksum")
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        number = _part_number(part_number)
        o = _ffi.r2_part_options()
        check(self._lib, self._lib.r2_part_options_init(byref(o), _ffi.R2_PART_OPTIONS_VERSION))
        o.checksum = algorithm
        o.sse_customer_key = _sse_key(sse_customer_key)
        etag = self._buf_call(lambda out, h: self._lib.r2_multipart_upload_part_with_options(out, h, b, k, u, number,
                                                                                               data, size, byref(o)))
        return CompletedPart(part_number, etag)

    def upload_part_copy(self, bucket: str, key: str, upload_id: str, part_number: int, src_bucket: str,
                         src_key: str, *, range: Optional[tuple[int, int]] = None,
                         sse_customer_key: Optional[bytes] = None,
                         source_sse_customer_key: Optional[bytes] = None) -> CompletedPart:
        """Copies bytes of src_bucket/src_key as part ``part_number``
        (UploadPartCopy): ``range=(first, last)`` with an inclusive last byte,
        or the whole source without it."""
        first, last = (-1, -1) if range is None else range
        args = (cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id"), _part_number(part_number),
                cstr(src_bucket, "src_bucket"), cstr(src_key, "src_key"), first, last)
        o = _ffi.r2_part_options()
        check(self._lib, self._lib.r2_part_options_init(byref(o), _ffi.R2_PART_OPTIONS_VERSION))
        o.sse_customer_key = _sse_key(sse_customer_key)
        o.source_sse_customer_key = _sse_key(source_sse_customer_key, "source_sse_customer_key")
        etag = self._buf_call(lambda out, h: self._lib.r2_multipart_upload_part_copy_with_options(out, h, *args,
                                                                                                    byref(o)))
        return CompletedPart(part_number, etag)

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str,
                                  parts: Iterable[Any], *, if_match: Optional[str] = None,
                                  if_none_match: Optional[str] = None,
                                  sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """Assembles the object from ``parts``: CompletedPart values (what
        upload_part returns), (part_number, etag) pairs, or boto3's
        {"PartNumber": n, "ETag": etag} dicts, in any order.

        Every part is checked against R2's size rules before sending (r2.InvalidPart,
        r2.EntityTooSmall). ``if_none_match="*"`` completes only when the key
        does not exist, ``if_match=etag`` only when it holds that object; a
        failed condition (r2.PreconditionFailed) is final: R2 treats the upload
        as aborted. After an ambiguous failure (timeout, reset, 5xx, lost
        answer) r2 reads the object back and compares its multipart ETag
        instead of re-sending blindly; a multipart ETag that does not match
        the parts is r2.ChecksumMismatch."""
        pairs = [_completed(p) for p in parts]
        array = (_ffi.r2_completed_part * len(pairs))()
        for i, (number, etag) in enumerate(pairs):
            array[i].part_number = number
            array[i].etag = cstr(etag, "etag")
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        opts = None
        if if_match is not None or if_none_match is not None or sse_customer_key is not None:
            o = _ffi.r2_complete_options()
            check(self._lib, self._lib.r2_complete_options_init(byref(o), _ffi.R2_COMPLETE_OPTIONS_VERSION))
            o.if_match = cstr(if_match, "if_match")
            o.if_none_match = cstr(if_none_match, "if_none_match")
            o.sse_customer_key = _sse_key(sse_customer_key)
            opts = byref(o)
        return self._info_call(lambda info, h: self._lib.r2_multipart_complete_with_options(info, h, b, k, u, array,
                                                                                            len(pairs), opts))

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Aborts an upload and frees its parts on the server."""
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        with self._in_use as handle:
            code = self._lib.r2_multipart_abort(handle, b, k, u)
        check(self._lib, code)

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        """Every uploaded part of an upload (all pages), by part number.
        NoSuchUpload once it was completed or aborted (or after R2's 7 days)."""
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        result = _ffi.r2_part_list()
        with self._in_use as handle:
            code = self._lib.r2_multipart_list_parts(byref(result), handle, b, k, u)
        try:
            check(self._lib, code)
            return [PartInfo.from_c(result.parts[i]) for i in range(result.count)]
        finally:
            self._lib.r2_part_list_dispose(byref(result))

    def list_multipart_uploads(self, bucket: str, prefix: Optional[str] = None) -> list[MultipartUpload]:
        """Every unfinished multipart upload of bucket (whose key starts with ``prefix``)."""
        b, p = cstr(bucket, "bucket"), cstr(prefix, "prefix")
        result = _ffi.r2_upload_list()
        with self._in_use as handle:
            code = self._lib.r2_multipart_list_uploads(byref(result), handle, b, p)
        try:
            check(self._lib, code)
            return [MultipartUpload.from_c(result.uploads[i]) for i in range(result.count)]
        finally:
            self._lib.r2_upload_list_dispose(byref(result))

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

    # -- list ---------------------------------------------------------------

    def _list_options(self, prefix: Optional[str], delimiter: Optional[str], start_after: Optional[str],
                      continuation_token: Optional[str], max_keys: Optional[int]) -> Any:
        """byref(r2_list_options), or None (r2's defaults) when nothing is set."""
        if all(v is None for v in (prefix, delimiter, start_after, continuation_token, max_keys)):
            return None
        o = _ffi.r2_list_options()
        check(self._lib, self._lib.r2_list_options_init(byref(o), _ffi.R2_LIST_OPTIONS_VERSION))
        o.prefix = cstr(prefix, "prefix")
        o.delimiter = cstr(delimiter, "delimiter")
        o.start_after = cstr(start_after, "start_after")
        o.continuation_token = cstr(continuation_token, "continuation_token")
        o.max_keys = max_keys or 0
        return byref(o)

    def list(self, bucket: str, *, prefix: Optional[str] = None, delimiter: Optional[str] = None,
             start_after: Optional[str] = None, continuation_token: Optional[str] = None,
             max_keys: Optional[int] = None) -> ListPage:
        """One page of ListObjectsV2 (up to ``max_keys``, default 1000)."""
        opts = self._list_options(prefix, delimiter, start_after, continuation_token, max_keys)
        b = cstr(bucket, "bucket")
        page = _ffi.r2_list_result()
        with self._in_use as handle:
            code = self._lib.r2_list_objects(byref(page), handle, b, opts)
        try:
            check(self._lib, code)
            return ListPage(
                objects=[ObjectEntry.from_c(page.objects[i]) for i in range(page.object_count)],
                common_prefixes=[text(page.common_prefixes[i]) or "" for i in range(page.common_prefix_count)],
                is_truncated=page.is_truncated, next_continuation_token=text(page.next_continuation_token),
                request_id=text(page.request_id))
        finally:
            self._lib.r2_list_result_dispose(byref(page))

    def list_all(self, bucket: str, *, prefix: Optional[str] = None, delimiter: Optional[str] = None,
                 start_after: Optional[str] = None, page_size: Optional[int] = None) -> ObjectIterator:
        """Every object of bucket (under ``prefix``), lazily, fetching a page
        of ``page_size`` (default 1000) whenever the previous one is used up."""
        opts = self._list_options(prefix, delimiter, start_after, None, page_size)
        b = cstr(bucket, "bucket")
        handle = POINTER(_ffi.r2_list_iter)()
        with self._in_use as client:
            code = self._lib.r2_list_iter_new(byref(handle), client, b, opts)
        check(self._lib, code)
        iterator = ObjectIterator(self, handle)
        with self._lock:
            self._children.add(iterator)
        return iterator

    # -- presign ------------------------------------------------------------

    def presign(self, method: str, bucket: str, key: str, expires: Union[int, datetime.timedelta] = 3600, *,
                headers: Headers = None, query: Headers = None,
                unix_time: Union[int, datetime.datetime, None] = None,
                sse_customer_key: Optional[bytes] = None) -> str:
        """A presigned URL for GET, PUT, HEAD or DELETE of bucket/key, valid
        for ``expires`` seconds (int or timedelta; 1 s to 7 days). ``headers``
        (e.g. Content-Type for a PUT) are signed, so the URL's user must send
        them. ``query`` adds signed query parameters (unencoded; r2 encodes
        them), e.g. ``{"response-content-disposition": 'attachment;
        filename="a.txt"'}`` to set a header of the GET's response.
        ``unix_time`` (int or aware datetime) fixes the signing time.
        ``sse_customer_key`` signs the SSE-C headers (the URL's user must send
        them too: the algorithm, the base64 key and its MD5). No network call."""
        if sse_customer_key is not None:
            _sse_key(sse_customer_key)
            import base64
            import hashlib
            headers = dict(headers.items() if isinstance(headers, Mapping) else (headers or []))
            headers.update({"x-amz-server-side-encryption-customer-algorithm": "AES256",
                            "x-amz-server-side-encryption-customer-key": base64.b64encode(bytes(sse_customer_key)).decode(),
                            "x-amz-server-side-encryption-customer-key-MD5":
                                base64.b64encode(hashlib.md5(bytes(sse_customer_key)).digest()).decode()})
        opts = None
        if headers or query or unix_time is not None:
            # Every field given at once (no r2_presign_options_init call: one foreign call less).
            header_list, header_count = header_array(headers, "headers")
            query_list, query_count = header_array(query, "query")
            o = _ffi.r2_presign_options(_ffi.R2_PRESIGN_OPTIONS_VERSION, header_list, header_count,
                                        to_unix_time(unix_time), query_list, query_count)
            opts = byref(o)
        return self._presign(method, bucket, cstr(key, "key"), expires, opts)

    def presign_list_objects(self, bucket: str, expires: Union[int, datetime.timedelta] = 3600, *,
                             prefix: Optional[str] = None, delimiter: Optional[str] = None,
                             continuation_token: Optional[str] = None, start_after: Optional[str] = None,
                             max_keys: Optional[int] = None, encoding_type: Optional[str] = "url",
                             unix_time: Union[int, datetime.datetime, None] = None) -> str:
        """A presigned ListObjectsV2 URL of ``bucket`` (a bucket-level GET) with
        the listing's parameters signed in. No network call."""
        query = {"list-type": "2"}
        for name, value in (("prefix", prefix), ("delimiter", delimiter), ("continuation-token", continuation_token),
                            ("start-after", start_after), ("max-keys", None if max_keys is None else str(max_keys)),
                            ("encoding-type", encoding_type)):
            if value is not None:
                query[name] = value
        o = _ffi.r2_presign_options()
        check(self._lib, self._lib.r2_presign_options_init(byref(o), _ffi.R2_PRESIGN_OPTIONS_VERSION))
        o.query, o.query_count = header_array(query, "query")
        o.unix_time = to_unix_time(unix_time)
        return self._presign("GET", bucket, None, expires, byref(o))

    def _presign(self, method: str, bucket: str, k: Optional[bytes], expires: Any, opts: Any) -> str:
        url = _ffi.r2_buf()
        m, b = cstr(method, "method"), cstr(bucket, "bucket")
        with self._in_use as handle:
            code = self._lib.r2_presign(byref(url), handle, m, b, k, seconds(expires), opts)
        check(self._lib, code)
        try:
            return string_at(url.ptr, url.size).decode()
        finally:
            self._lib.r2_buf_dispose(byref(url))


class ObjectIterator:
    """The objects of a listing (ObjectEntry), fetched page by page as the
    iteration goes (r2_list_iter). Close it (or use ``with``) to release it
    before the end; it is released at the end and when collected."""

    def __init__(self, client: Client, handle) -> None:
        self._client = client
        self._handle = handle
        self._lock = threading.Lock()  # an r2_list_iter is used from one thread at a time

    def __iter__(self) -> Iterator[ObjectEntry]:
        return self

    def __next__(self) -> ObjectEntry:
        lib = self._client._lib
        with self._lock:
            if self._handle is None:
                raise StopIteration
            entry, has_entry = _ffi.r2_object_entry(), c_bool()
            with self._client._in_use:
                code = lib.r2_list_iter_next(self._handle, byref(entry), byref(has_entry))
            check(lib, code)  # a failed page can be retried by calling next() again
            if has_entry:
                return ObjectEntry.from_c(entry)  # copied now: the entry's strings live until the next call
            self._free()
            raise StopIteration

    def _free(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            self._client._lib.r2_list_iter_free(handle)

    def close(self) -> None:
        with self._lock:
            self._free()

    def __enter__(self) -> ObjectIterator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self._free()

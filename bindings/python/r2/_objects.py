"""The Client's single-object operations: put, get, open, head, delete,
delete_objects and copy."""
from __future__ import annotations

from ctypes import byref, c_char_p, string_at
from collections.abc import Iterable

from . import _ffi
from ._base import ClientBase
from ._convert import CallbackErrors, byte_pointer, check, cstr
from ._errors import EntityTooLarge, InvalidRequest, invalid_argument
from ._options import GET_FIELDS, PUT_FIELDS, by_ref, copy_options, get_options, picked, put_struct, sse_key
from ._streams import ObjectReader, ObjectStream, ReadSource, remaining_length
from ._transfer import TransferCall
from ._types import DeleteError, DeleteResult, Object, ObjectInfo, text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Union

    from ._convert import Headers, HTTPDate
    from ._options import Range
    from ._streams import Progress
    from ._transfer import CancelToken, ProgressCallback, TransferConfig

    Body = Union[bytes, bytearray, memoryview, str, Any]  # or a binary file-like object, or an iterable of bytes

# The largest source one CopyObject takes in r2 (as its single-PUT limit, 5 GiB - 5 MiB).
_SINGLE_COPY_LIMIT = 5 * 1024 ** 3 - 5 * 1024 ** 2


def copy_is_managed(*settings: Any) -> bool:
    """Whether copy goes through the transfer manager: when any transfer setting is given."""
    return any(v is not None for v in settings)


def copy_without_conditions(conditions: tuple) -> None:
    if any(c is not None for c in conditions):
        raise invalid_argument("copy conditions (if_match, ...) need a single CopyObject: they cannot be combined "
                               "with multipart_threshold, part_size, concurrency, config, callback, progress or "
                               "cancel")


def copy_transfer_call(lib: Any, *, replace_metadata: bool, content_type: Optional[str],
                       cache_control: Optional[str], content_disposition: Optional[str],
                       content_encoding: Optional[str], metadata: Headers, config: Any, threshold: Optional[int],
                       part_size: Optional[int], concurrency: Optional[int], callback: Progress,
                       progress: ProgressCallback, cancel: Optional[CancelToken], sse_customer_key: Optional[bytes],
                       source_sse_customer_key: Optional[bytes]) -> TransferCall:
    """The TransferCall of r2_transfer_copy. It replaces the source's headers and
    metadata with the ones in its put options, on both of its paths (one
    CopyObject below the threshold, UploadPartCopy above it)."""
    put = put_struct(lib, content_type=content_type, cache_control=cache_control,
                     content_disposition=content_disposition, content_encoding=content_encoding,
                     metadata=metadata) if replace_metadata else None
    tc = TransferCall(lib, config=config, threshold=threshold, part_size=part_size, concurrency=concurrency,
                      callback=callback, progress=progress, cancel=cancel, put=put)
    tc.options.sse_customer_key = sse_key(sse_customer_key)
    tc.options.source_sse_customer_key = sse_key(source_sse_customer_key, "source_sse_customer_key")
    return tc


def delete_result(result: Any) -> DeleteResult:
    """The DeleteResult of a filled r2_delete_result."""
    return DeleteResult(
        deleted=[text(result.deleted[i]) or "" for i in range(result.deleted_count)],
        errors=[DeleteError(text(e.key) or "", text(e.code) or "", text(e.message) or "")
                for e in (result.errors[i] for i in range(result.error_count))])


class ObjectsMixin(ClientBase):
    """put, get, open, head, delete, delete_objects, copy."""

    def put(self, bucket: str, key: str, body: Body = b"", *, length: Optional[int] = None,
            callback: Progress = None, content_type: Optional[str] = None, cache_control: Optional[str] = None,
            content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
            content_language: Optional[str] = None, expires: HTTPDate = None, metadata: Headers = None,
            if_match: Optional[str] = None, if_none_match: Optional[str] = None,
            if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
            payload_mode: Optional[str] = None, checksum: Optional[str] = None,
            checksum_value: Optional[str] = None, storage_class: Optional[str] = None,
            sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """Uploads ``body`` as bucket/key and returns the new ETag etc.

        ``body`` is bytes-like, str (sent as UTF-8), a binary file-like
        object (read from its current position), or an iterable of bytes.
        Bytes and streams of known length are one PUT (up to 5 GiB - 5 MiB;
        streams through r2_object_put_stream). The length of regular and
        seekable files is found; otherwise pass ``length`` (exactly that many
        bytes are read). A stream of unknown length (an iterable, a pipe)
        without ``length`` is a multipart upload through the transfer manager
        (r2_transfer_upload_stream), with the client's part size and concurrency: use
        upload_fileobj to choose them.

        ``callback(n)`` is called with the bytes sent since its last call,
        like boto3's Callback (for bytes-like bodies, once at the end).
        ``if_none_match="*"`` creates only; ``payload_mode`` is "signed" or
        "unsigned"; ``checksum`` is "md5", "crc32", "crc32c", "sha1" or
        "sha256" (``checksum_value``: its base64 value, for streams);
        ``storage_class`` is "STANDARD" or "STANDARD_IA".
        """
        put = put_struct(self._lib, **picked(locals(), PUT_FIELDS))
        if isinstance(body, str):
            body = body.encode()
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        if isinstance(body, (bytes, bytearray, memoryview)):
            opts = by_ref(put)
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
            return self._upload_stream(b, k, body, -1, TransferCall(self._lib, put=put, callback=callback))
        from ._interrupt import Interrupts  # here: signal and enum are a noticeable part of `import r2`
        errors = CallbackErrors()
        with Interrupts() as guard:
            source = ReadSource(body, errors, callback, stop=lambda: guard.interrupted)
            read = _ffi.r2_read_cb(source.fill)
            put, rewind = self._rewindable(put, source)  # referenced until the call returns
            opts = by_ref(put)
            return self._info_call(lambda info, h: self._lib.r2_object_put_stream(info, h, b, k, length, read, None,
                                                                                  opts), errors)

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
        opts = get_options(self._lib, **picked(locals(), GET_FIELDS))
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        body = _ffi.r2_buf()
        try:
            info = self._info_call(lambda info, h: self._lib.r2_object_get(byref(body), info, h, b, k, opts))
            return Object(string_at(body.ptr, body.size) if body.size else b"", info)
        finally:
            self._lib.r2_buf_dispose(byref(body))

    def open(self, bucket: str, key: str, *, buffer_size: int = 1 << 16, range: Range = None,
             if_match: Optional[str] = None, if_none_match: Optional[str] = None,
             if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
             validate_checksum: bool = False, sse_customer_key: Optional[bytes] = None) -> ObjectReader:
        """Opens bucket/key for reading as a file-like object (io.BufferedReader)
        that streams the body from one GET in bounded memory.

        Errors before the body (NoSuchKey, NotModified, ...) are raised here.
        ``reader.info`` is available once the body has been read to the end.
        Use it with ``with`` (closing early cancels the download).
        Conditions as for get().
        """
        opts = get_options(self._lib, **picked(locals(), GET_FIELDS))
        b, k = cstr(bucket, "bucket"), cstr(key, "key")

        def run(on_chunk: Callable[[bytes], bool]) -> ObjectInfo:
            return self._get_stream(b, k, opts, lambda chunk, size: on_chunk(string_at(chunk, size)))
        stream = ObjectStream(run)
        self._adopt(stream)
        return ObjectReader(stream, buffer_size)

    def head(self, bucket: str, key: str, *, if_match: Optional[str] = None, if_none_match: Optional[str] = None,
             if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
             sse_customer_key: Optional[bytes] = None) -> ObjectInfo:
        """The object's metadata without its body (content_length is its size).
        A missing bucket also reads as NoSuchKey (HEAD responses have no body).
        Conditions and ``sse_customer_key`` as for get() (a HEAD has no range
        and no body to check)."""
        opts = get_options(self._lib, **picked(locals(), GET_FIELDS))
        b, k = cstr(bucket, "bucket"), cstr(key, "key")
        return self._info_call(lambda info, h: self._lib.r2_object_head(info, h, b, k, opts))

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
        o = _ffi.r2_delete_many_options(_ffi.R2_DELETE_MANY_OPTIONS_VERSION, quiet)
        result = _ffi.r2_delete_result(_ffi.R2_DELETE_RESULT_VERSION)
        with self._in_use as handle:
            code = self._lib.r2_object_delete_many(byref(result), handle, b, array, len(encoded), byref(o))
        try:
            check(self._lib, code)
            return delete_result(result)
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

        Larger objects go through r2's transfer manager (r2_transfer_copy):
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
        managed = copy_is_managed(multipart_threshold, part_size, concurrency, callback, progress, config, cancel)
        if not managed:
            try:
                opts = copy_options(self._lib, replace_metadata=replace_metadata, content_type=content_type,
                                    cache_control=cache_control, content_disposition=content_disposition,
                                    content_encoding=content_encoding, metadata=metadata, if_match=if_match,
                                    if_none_match=if_none_match, if_modified_since=if_modified_since,
                                    if_unmodified_since=if_unmodified_since, sse_customer_key=sse_customer_key,
                                    source_sse_customer_key=source_sse_customer_key)
                args = (cstr(src_bucket, "src_bucket"), cstr(src_key, "src_key"), cstr(bucket, "bucket"),
                        cstr(key, "key"))
                return self._info_call(lambda info, h: self._lib.r2_object_copy(info, h, *args, opts))
            except (EntityTooLarge, InvalidRequest):
                # Too large for CopyObject (S3 says InvalidRequest, some servers EntityTooLarge)? r2_transfer_copy
                # reads the source's size and copies it in parts when it is larger than one copy may be (a
                # smaller source gets the CopyObject again, which fails the same way). Conditions need the
                # single copy: the error stands.
                if any(c is not None for c in conditions):
                    raise
                multipart_threshold = _SINGLE_COPY_LIMIT + 1
        else:
            copy_without_conditions(conditions)
        tc = copy_transfer_call(self._lib, replace_metadata=replace_metadata, content_type=content_type,
                                cache_control=cache_control, content_disposition=content_disposition,
                                content_encoding=content_encoding, metadata=metadata, config=config,
                                threshold=multipart_threshold, part_size=part_size, concurrency=concurrency,
                                callback=callback, progress=progress, cancel=cancel,
                                sse_customer_key=sse_customer_key, source_sse_customer_key=source_sse_customer_key)
        args = (cstr(src_bucket, "src_bucket"), cstr(src_key, "src_key"), cstr(bucket, "bucket"), cstr(key, "key"))
        return self._transfer(tc, lambda info, h, o: self._lib.r2_transfer_copy(info, h, *args, o))

"""The Client's multipart API itself: create, upload parts (from bytes or
copied), complete, abort, and list parts and unfinished uploads."""
from __future__ import annotations

from ctypes import byref

from . import _ffi
from ._base import ClientBase
from ._convert import byte_pointer, check, choice, cstr
from ._options import PUT_FIELDS, by_ref, completed, part_number as checked_part_number, picked, put_struct, sse_key
from ._transfer import PART_CHECKSUMS
from ._types import CompletedPart, MultipartUpload, ObjectInfo, PartInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional

    from ._convert import Headers, HTTPDate


def part_options(checksum: Optional[str], sse_customer_key: Optional[bytes],
                 source_sse_customer_key: Optional[bytes] = None) -> Any:
    """The r2_part_options of upload_part (checksum: "md5", "crc32", "crc32c") or upload_part_copy."""
    return _ffi.r2_part_options(_ffi.R2_PART_OPTIONS_VERSION, choice(checksum, PART_CHECKSUMS, "checksum"),
                                sse_key(sse_customer_key), sse_key(source_sse_customer_key, "source_sse_customer_key"))


def part_copy_args(bucket: str, key: str, upload_id: str, part_number: int, src_bucket: str, src_key: str,
                   range: Optional[tuple[int, int]]) -> tuple:
    """r2_multipart_upload_part_copy's arguments from bucket to last (range: (first, last) or the whole source)."""
    first, last = (-1, -1) if range is None else range
    return (cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id"), checked_part_number(part_number),
            cstr(src_bucket, "src_bucket"), cstr(src_key, "src_key"), first, last)


def completed_parts(parts: Iterable[Any]) -> tuple[Any, int]:
    """(r2_completed_part array, count) from CompletedPart values, (number, etag) pairs or boto3's dicts."""
    pairs = [completed(p) for p in parts]
    array = (_ffi.r2_completed_part * len(pairs))()
    for i, (number, etag) in enumerate(pairs):
        array[i].part_number = number
        array[i].etag = cstr(etag, "etag")
    return array, len(pairs)


def complete_options(if_match: Optional[str], if_none_match: Optional[str],
                     sse_customer_key: Optional[bytes]) -> Any:
    """byref(r2_complete_options), or None when nothing is set."""
    if if_match is None and if_none_match is None and sse_customer_key is None:
        return None
    return byref(_ffi.r2_complete_options(_ffi.R2_COMPLETE_OPTIONS_VERSION, cstr(if_match, "if_match"),
                                          cstr(if_none_match, "if_none_match"), sse_key(sse_customer_key)))


def list_uploads_options(prefix: Optional[str]) -> Any:
    return _ffi.r2_list_uploads_options(_ffi.R2_LIST_UPLOADS_OPTIONS_VERSION, cstr(prefix, "prefix"))


class MultipartMixin(ClientBase):
    """create_multipart_upload, upload_part, upload_part_copy,
    complete_multipart_upload, abort_multipart_upload, list_parts,
    list_multipart_uploads."""

    def create_multipart_upload(self, bucket: str, key: str, *, content_type: Optional[str] = None,
                                cache_control: Optional[str] = None, content_disposition: Optional[str] = None,
                                content_encoding: Optional[str] = None, content_language: Optional[str] = None,
                                expires: HTTPDate = None, metadata: Headers = None,
                                storage_class: Optional[str] = None,
                                sse_customer_key: Optional[bytes] = None) -> str:
        """Starts a multipart upload of bucket/key and returns its upload id.
        The object's headers and metadata as for put(). No checksum (R2 has
        no full-object checksum for multipart uploads: check the parts with
        upload_part's ``checksum``) and no conditions (they go on
        complete_multipart_upload)."""
        opts = by_ref(put_struct(self._lib, **picked(locals(), PUT_FIELDS)))
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
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        number = checked_part_number(part_number)
        o = part_options(checksum, sse_customer_key)
        etag = self._buf_call(lambda out, h: self._lib.r2_multipart_upload_part(out, h, b, k, u, number, data, size,
                                                                                  byref(o)))
        return CompletedPart(part_number, etag)

    def upload_part_copy(self, bucket: str, key: str, upload_id: str, part_number: int, src_bucket: str,
                         src_key: str, *, range: Optional[tuple[int, int]] = None,
                         sse_customer_key: Optional[bytes] = None,
                         source_sse_customer_key: Optional[bytes] = None) -> CompletedPart:
        """Copies bytes of src_bucket/src_key as part ``part_number``
        (UploadPartCopy): ``range=(first, last)`` with an inclusive last byte,
        or the whole source without it."""
        args = part_copy_args(bucket, key, upload_id, part_number, src_bucket, src_key, range)
        o = part_options(None, sse_customer_key, source_sse_customer_key)
        etag = self._buf_call(lambda out, h: self._lib.r2_multipart_upload_part_copy(out, h, *args, byref(o)))
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
        array, count = completed_parts(parts)
        b, k, u = cstr(bucket, "bucket"), cstr(key, "key"), cstr(upload_id, "upload_id")
        opts = complete_options(if_match, if_none_match, sse_customer_key)
        return self._info_call(lambda info, h: self._lib.r2_multipart_complete(info, h, b, k, u, array, count, opts))

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
        result = _ffi.r2_multipart_part_list(_ffi.R2_MULTIPART_PART_LIST_VERSION)
        with self._in_use as handle:
            code = self._lib.r2_multipart_list_parts(byref(result), handle, b, k, u, None)
        try:
            check(self._lib, code)
            return [PartInfo.from_c(result.parts[i]) for i in range(result.count)]
        finally:
            self._lib.r2_multipart_part_list_dispose(byref(result))

    def list_multipart_uploads(self, bucket: str, prefix: Optional[str] = None) -> list[MultipartUpload]:
        """Every unfinished multipart upload of bucket (whose key starts with ``prefix``)."""
        b = cstr(bucket, "bucket")
        o = list_uploads_options(prefix)
        result = _ffi.r2_multipart_upload_list(_ffi.R2_MULTIPART_UPLOAD_LIST_VERSION)
        with self._in_use as handle:
            code = self._lib.r2_multipart_list_uploads(byref(result), handle, b, byref(o))
        try:
            check(self._lib, code)
            return [MultipartUpload.from_c(result.uploads[i]) for i in range(result.count)]
        finally:
            self._lib.r2_multipart_upload_list_dispose(byref(result))


"""Keyword arguments to r2's option structs (r2_get_options, r2_put_options,
r2_list_options, r2_copy_options) and the small argument conversions the
Client's methods share. Each builder returns None when nothing is set, so
that r2 takes its defaults without a foreign call on the common path."""
from __future__ import annotations

import os
from ctypes import byref, c_uint8
from collections.abc import Mapping

from . import _ffi
from ._convert import CHECKSUMS, PAYLOAD_MODES, choice, cstr, header_array, http_date
from ._errors import invalid_argument
from ._types import CompletedPart

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

    from ._convert import Headers, HTTPDate
    from ._library import Library

    PathLike = Union[str, "os.PathLike[str]"]
    Range = Union[str, "tuple[int, Optional[int]]", None]


def path(value: Optional[PathLike], name: str) -> Optional[bytes]:
    return None if value is None else cstr(os.fspath(value), name)


def ms(value: Optional[float]) -> Optional[int]:
    return None if value is None else int(round(value * 1000))


def range_header(value: Range) -> Optional[bytes]:
    """The Range header: a str ("bytes=a-b") as given, or (start, end) with
    an inclusive end (None for "to the end")."""
    if isinstance(value, tuple):
        start, end = value
        value = f"bytes={start}-{'' if end is None else end}"
    return cstr(value, "range")


def sse_key(value: Optional[bytes], name: str = "sse_customer_key") -> Any:
    """A 32-byte SSE-C key as the c_uint8 array r2 reads (None: no key)."""
    if value is None:
        return None
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(bytes(value)) != 32:
        raise invalid_argument(f"{name} must be 32 bytes (an AES-256 key)")
    return (c_uint8 * 32).from_buffer_copy(bytes(value))


def part_number(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"part_number must be an int, not {type(n).__name__}")
    if not 0 <= n < 1 << 32:
        raise invalid_argument(f"part number {n} is out of range (1 to 10 000)")
    return n  # r2 checks 1 to 10 000


def completed(part: Any) -> tuple[int, str]:
    """(part number, ETag) of a CompletedPart, a (number, etag) pair or boto3's dict."""
    if isinstance(part, CompletedPart):
        return part.part_number, part.etag
    if isinstance(part, Mapping):
        return part_number(part["PartNumber"]), part["ETag"]
    number, etag = part
    return part_number(number), etag


def get_options(lib: Library, *, range: Range = None, if_match: Optional[str] = None,
                if_none_match: Optional[str] = None, if_modified_since: HTTPDate = None,
                if_unmodified_since: HTTPDate = None, validate_checksum: bool = False,
                sse_customer_key: Optional[bytes] = None) -> Any:
    """byref(r2_get_options), or None when nothing is set."""
    if validate_checksum is False and all(v is None for v in (range, if_match, if_none_match, if_modified_since,
                                                              if_unmodified_since, sse_customer_key)):
        return None
    o = _ffi.r2_get_options(_ffi.R2_GET_OPTIONS_VERSION)
    o.range = range_header(range)
    o.if_match = cstr(if_match, "if_match")
    o.if_none_match = cstr(if_none_match, "if_none_match")
    o.if_modified_since = http_date(if_modified_since, "if_modified_since")
    o.if_unmodified_since = http_date(if_unmodified_since, "if_unmodified_since")
    o.validate_checksum = validate_checksum
    o.sse_customer_key = sse_key(sse_customer_key)
    return byref(o)


def put_struct(lib: Library, *, content_type: Optional[str] = None, cache_control: Optional[str] = None,
               content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
               content_language: Optional[str] = None, expires: HTTPDate = None, metadata: Headers = None,
               if_match: Optional[str] = None, if_none_match: Optional[str] = None,
               if_modified_since: HTTPDate = None, if_unmodified_since: HTTPDate = None,
               payload_mode: Optional[str] = None, checksum: Optional[str] = None,
               checksum_value: Optional[str] = None, storage_class: Optional[str] = None,
               sse_customer_key: Optional[bytes] = None) -> Any:
    """An r2_put_options (the struct: the transfer options point at it), or None when nothing is set."""
    if all(v is None for v in (content_type, cache_control, content_disposition, content_encoding, content_language,
                               expires, metadata, if_match, if_none_match, if_modified_since, if_unmodified_since,
                               payload_mode, checksum, checksum_value, storage_class, sse_customer_key)):
        return None
    o = _ffi.r2_put_options(_ffi.R2_PUT_OPTIONS_VERSION)
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
    o.sse_customer_key = sse_key(sse_customer_key)
    return o


# The keyword arguments of get_options and put_struct. Methods that take them
# as explicit parameters hand them on with ``picked(locals(), ...)``.
GET_FIELDS = ("range", "if_match", "if_none_match", "if_modified_since", "if_unmodified_since", "validate_checksum",
              "sse_customer_key")
PUT_FIELDS = ("content_type", "cache_control", "content_disposition", "content_encoding", "content_language",
              "expires", "metadata", "if_match", "if_none_match", "if_modified_since", "if_unmodified_since",
              "payload_mode", "checksum", "checksum_value", "storage_class", "sse_customer_key")


def picked(values: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The entries of ``values`` (a method's ``locals()``) named in ``names``
    that it has (a method may take only some of them)."""
    return {name: values[name] for name in names if name in values}


def by_ref(struct: Any) -> Any:
    """byref(struct), or None (r2's defaults) for None."""
    return None if struct is None else byref(struct)


def list_options(lib: Library, *, prefix: Optional[str], delimiter: Optional[str], start_after: Optional[str],
                 continuation_token: Optional[str], max_keys: Optional[int]) -> Any:
    """byref(r2_list_options), or None when nothing is set."""
    if all(v is None for v in (prefix, delimiter, start_after, continuation_token, max_keys)):
        return None
    o = _ffi.r2_list_options(_ffi.R2_LIST_OPTIONS_VERSION)
    o.prefix = cstr(prefix, "prefix")
    o.delimiter = cstr(delimiter, "delimiter")
    o.start_after = cstr(start_after, "start_after")
    o.continuation_token = cstr(continuation_token, "continuation_token")
    o.max_keys = max_keys or 0
    return byref(o)


def copy_options(lib: Library, *, replace_metadata: bool, content_type: Optional[str],
                 cache_control: Optional[str], content_disposition: Optional[str],
                 content_encoding: Optional[str], metadata: Headers, if_match: Optional[str],
                 if_none_match: Optional[str], if_modified_since: HTTPDate, if_unmodified_since: HTTPDate,
                 sse_customer_key: Optional[bytes], source_sse_customer_key: Optional[bytes]) -> Any:
    """byref(r2_copy_options) for one CopyObject."""
    o = _ffi.r2_copy_options(_ffi.R2_COPY_OPTIONS_VERSION)
    o.sse_customer_key = sse_key(sse_customer_key)
    o.source_sse_customer_key = sse_key(source_sse_customer_key, "source_sse_customer_key")
    o.replace_metadata = replace_metadata
    o.content_type = cstr(content_type, "content_type")
    o.cache_control = cstr(cache_control, "cache_control")
    o.content_disposition = cstr(content_disposition, "content_disposition")
    o.content_encoding = cstr(content_encoding, "content_encoding")
    o.metadata, o.metadata_count = header_array(metadata, "metadata")
    o.if_match = cstr(if_match, "if_match")
    o.if_none_match = cstr(if_none_match, "if_none_match")
    o.if_modified_since = http_date(if_modified_since, "if_modified_since")
    o.if_unmodified_since = http_date(if_unmodified_since, "if_unmodified_since")
    return byref(o)


# boto3's ExtraArgs names and the keyword arguments they stand for.
UPLOAD_EXTRA_ARGS = {"ContentType": "content_type", "CacheControl": "cache_control",
                     "ContentDisposition": "content_disposition", "ContentEncoding": "content_encoding",
                     "ContentLanguage": "content_language", "Expires": "expires", "Metadata": "metadata",
                     "StorageClass": "storage_class"}
DOWNLOAD_EXTRA_ARGS = {"IfMatch": "if_match", "IfNoneMatch": "if_none_match",
                       "IfModifiedSince": "if_modified_since", "IfUnmodifiedSince": "if_unmodified_since",
                       "Range": "range"}


def with_extra_args(values: dict[str, Any], extra_args: Optional[Mapping[str, Any]],
                    names: Mapping[str, str]) -> dict[str, Any]:
    """``values`` (keyword arguments by name) with boto3's ``ExtraArgs`` added
    under this binding's names; a keyword given explicitly wins."""
    for name, value in (extra_args or {}).items():
        if name not in names:
            raise invalid_argument(f"ExtraArgs {name!r} is not supported here; supported: {', '.join(names)}")
        if values[names[name]] is None:
            values[names[name]] = value
    return values

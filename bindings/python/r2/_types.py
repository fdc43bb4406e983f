"""Plain Python values copied out of r2's result structs (which are released
right after), so nothing returned to the caller points into C memory."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from . import _ffi


def text(value: Optional[bytes]) -> Optional[str]:
    """A C string from r2 as str; r2 uses "" for absent, Python uses None."""
    return value.decode("utf-8", "surrogateescape") if value else None


@dataclass(frozen=True)
class ObjectInfo:
    """What the server said about an object after a put, get, head or copy.

    Strings are None when the server did not send them. ``last_modified`` and
    ``expires`` are HTTP dates as sent. ``content_length`` is the size of this
    response's body (the object's size for head).
    """

    etag: Optional[str] = None
    version_id: Optional[str] = None
    content_type: Optional[str] = None
    content_range: Optional[str] = None
    last_modified: Optional[str] = None
    cache_control: Optional[str] = None
    content_disposition: Optional[str] = None
    content_encoding: Optional[str] = None
    content_language: Optional[str] = None
    expires: Optional[str] = None
    storage_class: Optional[str] = None
    checksum_crc32: Optional[str] = None
    checksum_crc32c: Optional[str] = None
    checksum_sha1: Optional[str] = None
    checksum_sha256: Optional[str] = None
    request_id: Optional[str] = None
    content_length: int = 0
    http_status: int = 0
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_c(cls, info: _ffi.r2_object_info) -> ObjectInfo:
        strings = {f[0]: text(getattr(info, f[0])) for f in info._fields_ if f[1] is _ffi.c_char_p}
        metadata = {text(info.metadata[i].name) or "": text(info.metadata[i].value) or ""
                    for i in range(info.metadata_count)}
        return cls(**strings, content_length=info.content_length, http_status=info.http_status, metadata=metadata)


@dataclass(frozen=True)
class Object:
    """The result of Client.get: the body and what the server said about it."""

    body: bytes
    info: ObjectInfo

    def __bytes__(self) -> bytes:
        return self.body


@dataclass(frozen=True)
class ObjectEntry:
    """One object of a listing. ``last_modified`` is ISO 8601 as sent."""

    key: str
    size: int
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    storage_class: Optional[str] = None

    @classmethod
    def from_c(cls, e: _ffi.r2_object_entry) -> ObjectEntry:
        return cls(key=text(e.key) or "", size=e.size, etag=text(e.etag), last_modified=text(e.last_modified),
                   storage_class=text(e.storage_class))


@dataclass(frozen=True)
class ListPage:
    """One page of ListObjectsV2. Pass ``next_continuation_token`` as
    ``continuation_token`` for the next page (or use Client.list_all)."""

    objects: list[ObjectEntry]
    common_prefixes: list[str]
    is_truncated: bool
    next_continuation_token: Optional[str]
    request_id: Optional[str]


@dataclass(frozen=True)
class DeleteError:
    """A key that DeleteObjects could not delete."""

    key: str
    code: str
    message: str


@dataclass(frozen=True)
class DeleteResult:
    """The outcome of Client.delete_objects: a partial failure is reported
    here, key by key, and is not an exception."""

    deleted: list[str]
    errors: list[DeleteError]


class Signed:
    """A signed (or presigned) request: what to send, and what was signed.

    For a signature, send ``headers`` (they include Authorization). For a
    presignature, ``query`` is the whole query string and ``authorization``
    is empty. Read-only. From a Signer, nothing is read from the library
    until a field is used (then all of them, in one call).
    """

    __slots__ = ("_source", "_fields")

    def __init__(self, authorization: str, headers: list[tuple[str, str]], query: str, signature: str,
                 canonical_request: str, string_to_sign: str) -> None:
        self._source = None
        self._fields = (authorization, headers, query, signature, canonical_request, string_to_sign)

    @classmethod
    def _lazy(cls, source) -> "Signed":
        """Fields read on first use from ``source.read()`` (which returns the
        six in order); ``source`` owns the library's result."""
        s = cls.__new__(cls)
        s._source, s._fields = source, None
        return s

    def _get(self, i: int):
        fields = self._fields
        if fields is None:
            fields = self._fields = self._source.read()
        return fields[i]

    authorization = property(lambda self: self._get(0), doc="the Authorization header value")
    headers = property(lambda self: self._get(1), doc="the headers to send, in order")
    query = property(lambda self: self._get(2), doc="the query string to send")
    signature = property(lambda self: self._get(3), doc="the hex signature")
    canonical_request = property(lambda self: self._get(4))
    string_to_sign = property(lambda self: self._get(5))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Signed):
            return NotImplemented
        return all(self._get(i) == other._get(i) for i in range(6))

    __hash__ = None  # type: ignore[assignment]  # like the frozen dataclass it was: headers is a list

    def __repr__(self) -> str:  # never the signature or the Authorization value
        return f"Signed(headers={[n for n, _ in self.headers]!r}, query_length={len(self.query)}, signature=<redacted>)"


@dataclass(frozen=True)
class CompletedPart:
    """A part of a multipart upload, as upload_part and upload_part_copy
    return it and complete_multipart_upload takes it."""

    part_number: int
    etag: str


@dataclass(frozen=True)
class PartInfo:
    """An uploaded part, from list_parts."""

    part_number: int
    size: int
    etag: str
    last_modified: Optional[str] = None

    @classmethod
    def from_c(cls, p: _ffi.r2_part_info) -> PartInfo:
        return cls(part_number=p.part_number, size=p.size, etag=text(p.etag) or "",
                   last_modified=text(p.last_modified))


@dataclass(frozen=True)
class MultipartUpload:
    """An unfinished multipart upload, from list_multipart_uploads."""

    key: str
    upload_id: str
    initiated: Optional[str] = None

    @classmethod
    def from_c(cls, u: _ffi.r2_upload_info) -> MultipartUpload:
        return cls(key=text(u.key) or "", upload_id=text(u.upload_id) or "", initiated=text(u.initiated))

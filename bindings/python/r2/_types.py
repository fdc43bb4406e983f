"""Plain Python values copied out of r2's result structs (which are released
right after), so nothing returned to the caller points into C memory."""
from __future__ import annotations

from collections.abc import Sequence
from ctypes import sizeof

from . import _ffi

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Optional


class Record:
    """Base of the result types: immutable, equal when their fields are, a repr
    of the fields (what @dataclass(frozen=True) gave). Plain classes with
    __slots__: importing dataclasses and building 11 of them cost ~16 ms of
    ``import r2``. A subclass lists its fields in __slots__, in order."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple:
        return tuple([getattr(self, name) for name in self.__slots__])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:  # TypeError when a field is a list or dict, as for the dataclasses
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join([f"{name}={getattr(self, name)!r}" for name in self.__slots__])
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of {type(self).__name__} (read-only)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of {type(self).__name__} (read-only)")

    def __reduce__(self) -> tuple:  # pickle and copy through the constructor (__setattr__ refuses)
        return (type(self), self._values())


_set = object.__setattr__


def text(value: Optional[bytes]) -> Optional[str]:
    """A C string from r2 as str; r2 uses "" for absent, Python uses None."""
    return value.decode("utf-8", "surrogateescape") if value else None


class ObjectInfo(Record):
    """What the server said about an object after a put, get, head or copy.

    Strings are None when the server did not send them. ``last_modified`` and
    ``expires`` are HTTP dates as sent. ``content_length`` is the size of this
    response's body (the object's size for head).
    """

    __slots__ = (
        "etag", "version_id", "content_type", "content_range", "last_modified", "cache_control",
        "content_disposition", "content_encoding", "content_language", "expires", "storage_class", "checksum_crc32",
        "checksum_crc32c", "checksum_sha1", "checksum_sha256", "request_id", "content_length", "http_status",
        "metadata",
    )
    etag: Optional[str]
    version_id: Optional[str]
    content_type: Optional[str]
    content_range: Optional[str]
    last_modified: Optional[str]
    cache_control: Optional[str]
    content_disposition: Optional[str]
    content_encoding: Optional[str]
    content_language: Optional[str]
    expires: Optional[str]
    storage_class: Optional[str]
    checksum_crc32: Optional[str]
    checksum_crc32c: Optional[str]
    checksum_sha1: Optional[str]
    checksum_sha256: Optional[str]
    request_id: Optional[str]
    content_length: int
    http_status: int
    metadata: dict[str, str]

    def __init__(self, etag: Optional[str] = None, version_id: Optional[str] = None,
                 content_type: Optional[str] = None, content_range: Optional[str] = None,
                 last_modified: Optional[str] = None, cache_control: Optional[str] = None,
                 content_disposition: Optional[str] = None, content_encoding: Optional[str] = None,
                 content_language: Optional[str] = None, expires: Optional[str] = None,
                 storage_class: Optional[str] = None, checksum_crc32: Optional[str] = None,
                 checksum_crc32c: Optional[str] = None, checksum_sha1: Optional[str] = None,
                 checksum_sha256: Optional[str] = None, request_id: Optional[str] = None, content_length: int = 0,
                 http_status: int = 0, metadata: Optional[dict[str, str]] = None) -> None:
        _set(self, "etag", etag)
        _set(self, "version_id", version_id)
        _set(self, "content_type", content_type)
        _set(self, "content_range", content_range)
        _set(self, "last_modified", last_modified)
        _set(self, "cache_control", cache_control)
        _set(self, "content_disposition", content_disposition)
        _set(self, "content_encoding", content_encoding)
        _set(self, "content_language", content_language)
        _set(self, "expires", expires)
        _set(self, "storage_class", storage_class)
        _set(self, "checksum_crc32", checksum_crc32)
        _set(self, "checksum_crc32c", checksum_crc32c)
        _set(self, "checksum_sha1", checksum_sha1)
        _set(self, "checksum_sha256", checksum_sha256)
        _set(self, "request_id", request_id)
        _set(self, "content_length", content_length)
        _set(self, "http_status", http_status)
        _set(self, "metadata", {} if metadata is None else metadata)

    @classmethod
    def from_c(cls, info: _ffi.r2_object_info) -> ObjectInfo:
        strings = {f[0]: text(getattr(info, f[0])) for f in info._fields_ if f[1] is _ffi.c_char_p}
        metadata = {text(info.metadata[i].name) or "": text(info.metadata[i].value) or ""
                    for i in range(info.metadata_count)}
        return cls(**strings, content_length=info.content_length, http_status=info.http_status, metadata=metadata)


class Object(Record):
    """The result of Client.get: the body and what the server said about it."""

    __slots__ = ("body", "info")
    body: bytes
    info: ObjectInfo

    def __init__(self, body: bytes, info: ObjectInfo) -> None:
        _set(self, "body", body)
        _set(self, "info", info)

    def __bytes__(self) -> bytes:
        return self.body


class ObjectEntry(Record):
    """One object of a listing. ``last_modified`` is ISO 8601 as sent."""

    __slots__ = ("key", "size", "etag", "last_modified", "storage_class")
    key: str
    size: int
    etag: Optional[str]
    last_modified: Optional[str]
    storage_class: Optional[str]

    def __init__(self, key: str, size: int, etag: Optional[str] = None, last_modified: Optional[str] = None,
                 storage_class: Optional[str] = None) -> None:
        _set(self, "key", key)
        _set(self, "size", size)
        _set(self, "etag", etag)
        _set(self, "last_modified", last_modified)
        _set(self, "storage_class", storage_class)

    @classmethod
    def from_c(cls, e: _ffi.r2_object_entry) -> ObjectEntry:
        return cls(key=text(e.key) or "", size=e.size, etag=text(e.etag), last_modified=text(e.last_modified),
                   storage_class=text(e.storage_class))


_new = object.__new__
_set_key, _set_size, _set_etag, _set_last_modified, _set_storage_class = (
    ObjectEntry.__dict__[name].__set__ for name in ObjectEntry.__slots__)


def _entry(key: str, size: int, etag: Optional[str], last_modified: Optional[str],
           storage_class: Optional[str]) -> ObjectEntry:
    """ObjectEntry(key, size, ...) through its slots directly: a third cheaper
    than the constructor, for the 1 000 entries of a page."""
    e = _new(ObjectEntry)
    _set_key(e, key)
    _set_size(e, size)
    _set_etag(e, etag)
    _set_last_modified(e, last_modified)
    _set_storage_class(e, storage_class)
    return e


# Where an entry's fields sit in a page's entry table read as 64-bit words
# (r2 lays the entries out as r2_object_entry version 1, whatever the page's version).
_ENTRY_WORDS = sizeof(_ffi.r2_object_entry) // 8
_KEY, _ETAG, _LAST_MODIFIED, _STORAGE_CLASS, _SIZE = (
    getattr(_ffi.r2_object_entry, f).offset // 8 for f in ("key", "etag", "last_modified", "storage_class", "size"))


class ObjectEntries(Sequence):
    """The objects of one listed page, made into ObjectEntry values as they are
    read: list() copies the page's text and its entry table out of r2 in two
    pieces instead of building 1 000 objects up front. A read-only sequence
    (len, index, slice, iterate, ==) of ObjectEntry; pickles as a list."""

    __slots__ = ("_text", "_ascii", "_base", "_table", "_made")

    def __init__(self, text: bytes, base: int, table: Any, count: int) -> None:
        self._text = text    # every string of the page, NUL-terminated (r2_list_result.strings)
        self._ascii: Optional[str] = None  # the text as str when it is ASCII (offsets then match), once read
        self._base = base    # the address the text was copied from
        self._table = table  # the entries as 64-bit words (pointers into the text, sizes)
        self._made: list[Optional[ObjectEntry]] = [None] * count

    def __len__(self) -> int:
        return len(self._made)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._made)))]
        entry = self._made[index]  # IndexError and negative indices as a list's
        if entry is None:
            i = index % len(self._made)
            entry = self._made[i] = self._make(i)
        return entry

    def __iter__(self) -> Any:
        made = self._made
        for i, entry in enumerate(made):
            if entry is None:
                entry = made[i] = self._make(i)
            yield entry

    def _make(self, i: int) -> ObjectEntry:
        words, at, base = self._table, i * _ENTRY_WORDS, self._base
        k, e = words[at + _KEY] - base, words[at + _ETAG] - base
        m, c = words[at + _LAST_MODIFIED] - base, words[at + _STORAGE_CLASS] - base
        t = self._ascii
        if t is None and self._text.isascii():
            t = self._ascii = self._text.decode("ascii")
        if t is not None:  # one decode for the page; each string is then a slice
            return _entry(t[k:t.index("\0", k)], words[at + _SIZE], t[e:t.index("\0", e)] or None,
                          t[m:t.index("\0", m)] or None, t[c:t.index("\0", c)] or None)
        b = self._text

        def string(start: int) -> str:
            return b[start:b.index(0, start)].decode("utf-8", "surrogateescape")
        return _entry(string(k), words[at + _SIZE], string(e) or None, string(m) or None, string(c) or None)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (ObjectEntries, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a list's

    def __repr__(self) -> str:
        return repr(list(self))

    def __reduce__(self) -> tuple:
        return (list, (list(self),))


class ListPage(Record):
    """One page of ListObjectsV2. Pass ``next_continuation_token`` as
    ``continuation_token`` for the next page (or use Client.list_all)."""

    __slots__ = ("objects", "common_prefixes", "is_truncated", "next_continuation_token", "request_id")
    objects: Sequence[ObjectEntry]  # an ObjectEntries from Client.list: entries made as they are read
    common_prefixes: list[str]
    is_truncated: bool
    next_continuation_token: Optional[str]
    request_id: Optional[str]

    def __init__(self, objects: Sequence[ObjectEntry], common_prefixes: list[str], is_truncated: bool,
                 next_continuation_token: Optional[str], request_id: Optional[str]) -> None:
        _set(self, "objects", objects)
        _set(self, "common_prefixes", common_prefixes)
        _set(self, "is_truncated", is_truncated)
        _set(self, "next_continuation_token", next_continuation_token)
        _set(self, "request_id", request_id)


class DeleteError(Record):
    """A key that DeleteObjects could not delete."""

    __slots__ = ("key", "code", "message")
    key: str
    code: str
    message: str

    def __init__(self, key: str, code: str, message: str) -> None:
        _set(self, "key", key)
        _set(self, "code", code)
        _set(self, "message", message)


class DeleteResult(Record):
    """The outcome of Client.delete_objects: a partial failure is reported
    here, key by key, and is not an exception."""

    __slots__ = ("deleted", "errors")
    deleted: list[str]
    errors: list[DeleteError]

    def __init__(self, deleted: list[str], errors: list[DeleteError]) -> None:
        _set(self, "deleted", deleted)
        _set(self, "errors", errors)


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
        self._source: Any = None
        self._fields: Optional[tuple] = (authorization, headers, query, signature, canonical_request, string_to_sign)

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


class CompletedPart(Record):
    """A part of a multipart upload, as upload_part and upload_part_copy
    return it and complete_multipart_upload takes it."""

    __slots__ = ("part_number", "etag")
    part_number: int
    etag: str

    def __init__(self, part_number: int, etag: str) -> None:
        _set(self, "part_number", part_number)
        _set(self, "etag", etag)


class PartInfo(Record):
    """An uploaded part, from list_parts."""

    __slots__ = ("part_number", "size", "etag", "last_modified")
    part_number: int
    size: int
    etag: str
    last_modified: Optional[str]

    def __init__(self, part_number: int, size: int, etag: str, last_modified: Optional[str] = None) -> None:
        _set(self, "part_number", part_number)
        _set(self, "size", size)
        _set(self, "etag", etag)
        _set(self, "last_modified", last_modified)

    @classmethod
    def from_c(cls, p: _ffi.r2_multipart_part_info) -> PartInfo:
        return cls(part_number=p.part_number, size=p.size, etag=text(p.etag) or "",
                   last_modified=text(p.last_modified))


class MultipartUpload(Record):
    """An unfinished multipart upload, from list_multipart_uploads."""

    __slots__ = ("key", "upload_id", "initiated")
    key: str
    upload_id: str
    initiated: Optional[str]

    def __init__(self, key: str, upload_id: str, initiated: Optional[str] = None) -> None:
        _set(self, "key", key)
        _set(self, "upload_id", upload_id)
        _set(self, "initiated", initiated)

    @classmethod
    def from_c(cls, u: _ffi.r2_multipart_upload_info) -> MultipartUpload:
        return cls(key=text(u.key) or "", upload_id=text(u.upload_id) or "", initiated=text(u.initiated))

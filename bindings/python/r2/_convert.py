"""Python values to C arguments, and C statuses to exceptions."""
from __future__ import annotations

import ctypes
import datetime
from collections.abc import Mapping

from . import _ffi
from ._errors import invalid_argument, last_error

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional, Union

    Headers = Union[Mapping[str, str], Iterable[tuple[str, str]], None]
    HTTPDate = Union[str, datetime.datetime, None]


def check(lib, code: int) -> None:
    """Raises the exception for a non-zero r2 status (on the calling thread)."""
    if code != _ffi.R2_OK:
        raise last_error(lib, code)


def cstr(value: Optional[str], name: str) -> Optional[bytes]:
    """A str as NUL-terminated UTF-8 for C. Lone surrogates pass through as
    bytes that are not UTF-8, so that r2 refuses them and names the parameter;
    a NUL is refused here because C would take it as the end of the string."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise invalid_argument(f"{name} contains a NUL character")
    return value.encode("utf-8", "surrogatepass")


def http_date(value: HTTPDate, name: str) -> Optional[bytes]:
    """An HTTP date given as str (sent as is) or an aware datetime."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise invalid_argument(f"{name} must be timezone-aware (e.g. datetime.timezone.utc)")
        from email.utils import format_datetime  # here: email.utils is slow to import and rarely needed
        value = format_datetime(value.astimezone(datetime.timezone.utc), usegmt=True)
    return cstr(value, name)


def to_unix_time(value: Union[int, float, datetime.datetime, None]) -> int:
    """Signing time in whole seconds since 1970; 0 (r2's "now") for None."""
    if value is None:
        return 0
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise invalid_argument("a signing time must be timezone-aware (e.g. datetime.timezone.utc)")
        return int(value.timestamp())
    return int(value)


def seconds(value: Union[int, float, datetime.timedelta]) -> int:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    return int(value)


def header_array(headers: Headers, name: str) -> tuple[Any, int]:
    """(r2_header array or None, count) for a mapping or sequence of pairs,
    in the order given, to assign to a POINTER(r2_header) field (no cast: a
    cast costs more than the rest). The array keeps its encoded strings alive."""
    if not headers:
        return None, 0
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    array = (_ffi.r2_header * len(pairs))()
    for i, (key, value) in enumerate(pairs):
        h = array[i]
        if type(key) is str and type(value) is str and "\0" not in key and "\0" not in value:
            h.name, h.value = key.encode("utf-8", "surrogatepass"), value.encode("utf-8", "surrogatepass")
        else:  # the checks, with the parameter's name for the error
            h.name = cstr(key, f"{name} name")
            h.value = cstr(value, f"{name} {key!r}")
    return array, len(pairs)


def byte_pointer(data: Union[bytes, bytearray, memoryview]) -> tuple[Any, int, Any]:
    """(POINTER(c_uint8), length, owner) for a bytes-like body without copying
    bytes or writable buffers; ``owner`` must stay referenced during the call."""
    if isinstance(data, memoryview) and (data.readonly or not data.c_contiguous):
        data = data.tobytes()  # ctypes can only borrow writable buffers (or bytes itself)
    if isinstance(data, bytes):
        n = len(data)
        return (ctypes.cast(ctypes.c_char_p(data), ctypes.POINTER(ctypes.c_uint8)) if n else None), n, data
    view = memoryview(data).cast("B")
    n = view.nbytes
    if n == 0:
        return None, 0, data
    # The array itself, not ctypes.cast(array, ...): a cast of an array makes a
    # reference cycle, which would keep the caller's buffer exported (a
    # bytearray or BytesIO that cannot be resized) until the next GC run.
    # ctypes passes a c_uint8 array where POINTER(c_uint8) is expected.
    array = (ctypes.c_uint8 * n).from_buffer(view)
    return array, n, view


def choice(value: Optional[str], choices: Mapping[str, int], name: str) -> int:
    """The C enum value of one of a few names ("md5", "eu", ...)."""
    if value is None:
        return 0
    try:
        return choices[value.lower()]
    except (KeyError, AttributeError):
        raise invalid_argument(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}") from None


JURISDICTIONS = {"default": _ffi.R2_JURISDICTION_DEFAULT, "eu": _ffi.R2_JURISDICTION_EU,
                 "fedramp": _ffi.R2_JURISDICTION_FEDRAMP, "us": _ffi.R2_JURISDICTION_US}
PAYLOAD_MODES = {"default": _ffi.R2_PAYLOAD_DEFAULT, "signed": _ffi.R2_PAYLOAD_SIGNED,
                 "unsigned": _ffi.R2_PAYLOAD_UNSIGNED}
CHECKSUMS = {"none": _ffi.R2_CHECKSUM_NONE, "md5": _ffi.R2_CHECKSUM_MD5, "crc32": _ffi.R2_CHECKSUM_CRC32,
             "crc32c": _ffi.R2_CHECKSUM_CRC32C, "sha1": _ffi.R2_CHECKSUM_SHA1, "sha256": _ffi.R2_CHECKSUM_SHA256}


class CallbackErrors:
    """Carries an exception out of a ctypes callback. ctypes only prints
    exceptions raised in callbacks, so each callback catches everything
    (KeyboardInterrupt included), records it here and returns r2's abort code;
    once the C call has returned, ``raise_or_check`` re-raises it."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: Optional[BaseException] = None

    def record(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error

    def raise_or_check(self, lib, code: int) -> None:
        if self.error is not None:
            # The caller's exception is the cause of the abort, so it is what the
            # caller sees, with its traceback from inside the callback.
            error, self.error = self.error, None
            raise error
        check(lib, code)

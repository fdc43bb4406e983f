"""The Client's presigned URLs (no network call): presign and presign_list_objects."""
from __future__ import annotations

import datetime
import threading
from ctypes import byref, c_int64, c_size_t, create_string_buffer
from collections.abc import Mapping

from . import _ffi
from ._base import ClientBase
from ._convert import check, cstr, header_array, seconds, to_unix_time
from ._options import sse_key

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

    from ._convert import Headers


# A presigned URL costs a few µs, so the Python around the C call counts (a
# ctypes call costs ~0.8 µs, each ctypes object made per call ~0.1 µs): one
# foreign call per URL, r2_client_presign_into, which writes the URL into a
# buffer each thread keeps, with an r2_presign_options for a signing time
# alone. They are taken out of _local while in use: a signal handler that
# presigns on this thread between two steps of a call makes its own. The
# (method, bucket, expiry) triples a program uses (a handful) are converted once.
_arguments: dict[tuple, tuple] = {}
_local = threading.local()


def _c_arguments(method: str, bucket: str, expires: Union[int, datetime.timedelta]) -> tuple[Any, Any, Any]:
    """(method, bucket, expires) as C arguments (int64_t as c_int64.from_param's
    object: passed as it is, where a c_int64 would make a new one per call),
    remembered for exact str, str, int (an equal key of another type, such as
    3600.0 or a str subclass, converts to the same)."""
    m, b = cstr(method, "method"), cstr(bucket, "bucket")
    e = c_int64.from_param(expires if type(expires) is int else seconds(expires))
    if type(method) is str and type(bucket) is str and type(expires) is int and len(_arguments) < 256:
        _arguments[method, bucket, expires] = (m, b, e)
    return m, b, e


def _url_buffer(capacity: int) -> tuple[Any, Any, Any, int, Any, Any, Any]:
    """(buffer, byref(buffer), its size_t capacity argument, capacity,
    byref(length), length, time options) for r2_client_presign_into."""
    buf, length = create_string_buffer(capacity), c_size_t()
    return (buf, byref(buf), c_size_t.from_param(capacity), capacity, byref(length), length,
            _ffi.r2_presign_options(_ffi.R2_PRESIGN_OPTIONS_VERSION))


def _options(headers: Headers, query: Headers, unix_time: Any, sse_customer_key: Optional[bytes],
             time_options: Any) -> Any:
    """byref(r2_presign_options) for presign's options; a signing time alone
    is set in ``time_options`` (the calling thread's, see above)."""
    if sse_customer_key is not None:
        sse_key(sse_customer_key)
        import base64
        import hashlib
        headers = dict(headers.items() if isinstance(headers, Mapping) else (headers or []))
        headers.update({"x-amz-server-side-encryption-customer-algorithm": "AES256",
                        "x-amz-server-side-encryption-customer-key": base64.b64encode(bytes(sse_customer_key)).decode(),
                        "x-amz-server-side-encryption-customer-key-MD5":
                            base64.b64encode(hashlib.md5(bytes(sse_customer_key)).digest()).decode()})
    if headers or query:
        # Every field given at once.
        header_list, header_count = header_array(headers, "headers")
        query_list, query_count = header_array(query, "query")
        return byref(_ffi.r2_presign_options(_ffi.R2_PRESIGN_OPTIONS_VERSION, header_list, header_count,
                                             to_unix_time(unix_time), query_list, query_count))
    time_options.unix_time = unix_time if type(unix_time) is int else to_unix_time(unix_time)
    return byref(time_options)


class PresignMixin(ClientBase):
    """presign, presign_list_objects."""

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
        k = key.encode("utf-8", "surrogatepass") if type(key) is str and "\0" not in key else cstr(key, "key")
        try:
            args = _arguments.get((method, bucket, expires))
        except TypeError:  # unhashable: _c_arguments names the argument
            args = None
        m, b, e = args or _c_arguments(method, bucket, expires)
        out = getattr(_local, "url", None)
        _local.url = None
        if out is None:
            out = _url_buffer(4096)  # a URL is a few hundred bytes
        try:
            buf, buf_ref, capacity_arg, capacity, length_ref, length, time_options = out
            opts = None
            if headers or query or unix_time is not None or sse_customer_key is not None:
                opts = _options(headers, query, unix_time, sse_customer_key, time_options)
            presign_into = self._lib.unchecked.r2_client_presign_into  # every argument is already its C type
            in_use = self._in_use
            while True:
                # `with self._in_use as handle:` written out: its two method calls
                # are ~0.25 µs of a URL. Same steps, same order (see _InUse).
                in_use.calls.append(None)
                try:
                    handle = self._handle
                    if self._closing or handle is None:
                        raise ValueError("the r2 client is closed")
                    code = presign_into(buf_ref, capacity_arg, length_ref, handle, m, b, k, e, opts)
                finally:
                    in_use.calls.pop()
                    if self._closing:
                        in_use.wake()
                if not code:
                    return buf[:length.value].decode()
                if length.value < capacity:  # not a URL longer than the buffer: a real error
                    check(self._lib, code)
                out = _url_buffer(length.value + 1)  # opts may point into the old one: it stays alive with opts
                buf, buf_ref, capacity_arg, capacity, length_ref, length, _ = out
        finally:
            _local.url = out

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
        return self.presign("GET", bucket, None, expires, query=query, unix_time=unix_time)  # type: ignore[arg-type]

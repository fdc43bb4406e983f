"""The Client's presigned URLs (no network call): presign and presign_list_objects."""
from __future__ import annotations

import datetime
import threading
from ctypes import byref, c_int64
from collections.abc import Mapping

from . import _ffi
from ._base import ClientBase
from ._convert import check, cstr, header_array, seconds, to_unix_time
from ._options import sse_key

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

    from ._convert import Headers


# A presigned URL costs a few µs, so the Python around the C call counts:
# the method and bucket names a program uses (a handful) are encoded once, and
# each thread reuses one r2_presign_options for a signing time alone.
_names: dict[str, bytes] = {}
_local = threading.local()


def _name(value: str, what: str) -> Optional[bytes]:
    b = _names.get(value) if type(value) is str else None
    if b is None:
        b = cstr(value, what)
        if b is not None and len(_names) < 256 and type(value) is str:
            _names[value] = b
    return b


def _time_options(unix_time: Any) -> Any:
    o = getattr(_local, "options", None)
    if o is None:
        o = _local.options = _ffi.r2_presign_options(_ffi.R2_PRESIGN_OPTIONS_VERSION)
    o.unix_time = unix_time if type(unix_time) is int else to_unix_time(unix_time)
    return byref(o)


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
        if sse_customer_key is not None:
            sse_key(sse_customer_key)
            import base64
            import hashlib
            headers = dict(headers.items() if isinstance(headers, Mapping) else (headers or []))
            headers.update({"x-amz-server-side-encryption-customer-algorithm": "AES256",
                            "x-amz-server-side-encryption-customer-key": base64.b64encode(bytes(sse_customer_key)).decode(),
                            "x-amz-server-side-encryption-customer-key-MD5":
                                base64.b64encode(hashlib.md5(bytes(sse_customer_key)).digest()).decode()})
        opts = None
        if headers or query:
            # Every field given at once.
            header_list, header_count = header_array(headers, "headers")
            query_list, query_count = header_array(query, "query")
            opts = byref(_ffi.r2_presign_options(_ffi.R2_PRESIGN_OPTIONS_VERSION, header_list, header_count,
                                                 to_unix_time(unix_time), query_list, query_count))
        elif unix_time is not None:
            opts = _time_options(unix_time)
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
        o = _ffi.r2_presign_options(_ffi.R2_PRESIGN_OPTIONS_VERSION)
        o.query, o.query_count = header_array(query, "query")
        o.unix_time = to_unix_time(unix_time)
        return self._presign("GET", bucket, None, expires, byref(o))

    def _presign(self, method: str, bucket: str, k: Optional[bytes], expires: Any, opts: Any) -> str:
        url = _ffi.r2_buf()
        out = byref(url)
        m, b = _name(method, "method"), _name(bucket, "bucket")
        e = c_int64(expires if type(expires) is int else seconds(expires))
        lib = self._lib.unchecked  # every argument is already its C type (see Library.unchecked)
        with self._in_use as handle:
            code = lib.r2_client_presign(out, handle, m, b, k, e, opts)
        check(self._lib, code)
        try:
            return url.ptr[:url.size].decode()
        finally:
            lib.r2_buf_dispose(out)

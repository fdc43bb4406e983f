"""r2.Signer: the standalone SigV4 signer (r2_signer_*), for callers that
send their own requests and for checking r2 against other implementations."""
from __future__ import annotations

import datetime
import os
from ctypes import POINTER, byref, c_int64, string_at

from . import _ffi
from ._convert import byte_pointer, check, cstr, header_array, seconds, to_unix_time
from ._library import Library, load_library
from ._managed import Managed
from ._types import Signed

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

    from ._convert import Headers


class _SignedResult(Managed):
    """Owns one r2_signed (freed when collected) and reads it in one call."""

    __slots__ = ()
    _kind = "signing result"

    def __init__(self, lib: Library, handle) -> None:
        self._own(lib, handle)

    def _free(self, lib: Library, handle) -> None:
        lib.unchecked.r2_signed_free(handle)

    def read(self) -> tuple:
        f = _ffi.r2_signed_fields()
        f.version = _ffi.R2_SIGNED_FIELDS_VERSION
        check(self._lib, self._lib.unchecked.r2_signed_get(byref(f), self._ptr()))
        parts = string_at(f.header_block, f.header_block_len).decode().split("\0")
        headers = list(zip(parts[0:-1:2], parts[1:-1:2]))
        return (f.authorization.decode(), headers, f.query.decode(), f.signature.decode(),
                f.canonical_request.decode(), f.string_to_sign.decode())


class Signer(Managed):
    """AWS Signature Version 4 with S3's rules (region "auto", service "s3"
    by default). Thread-safe. Paths are signed exactly as given (already
    percent-encoded, never normalised); ``query`` is the raw query string.
    Close it (or use ``with``) when done: close() must not race calls on other threads."""

    _kind = "signer"

    def __init__(self, access_key_id: str, secret_access_key: str, *, session_token: Optional[str] = None,
                 region: str = "auto", service: str = "s3",
                 library: Union[Library, str, "os.PathLike[str]", None] = None) -> None:
        lib = library if isinstance(library, Library) else load_library(library)
        o = _ffi.r2_signer_options(_ffi.R2_SIGNER_OPTIONS_VERSION)
        o.access_key_id = cstr(access_key_id, "access_key_id")
        o.secret_access_key = cstr(secret_access_key, "secret_access_key")
        o.session_token = cstr(session_token, "session_token")
        o.region = cstr(region, "region")
        o.service = cstr(service, "service")
        handle = POINTER(_ffi.r2_signer)()
        check(lib, lib.r2_signer_new(byref(handle), byref(o)))
        self._own(lib, handle)
        self._description = f"access_key_id={access_key_id!r}, region={region!r}, service={service!r}"

    def __repr__(self) -> str:  # never the secret or the session token
        return f"<r2.Signer {self._description}>"

    def _free(self, lib: Library, handle) -> None:
        lib.r2_signer_free(handle)

    def _request(self, method: str, path: str, query: Optional[str], headers: Headers, body: bytes,
                 payload_hash: Optional[str], unix_time, content_sha256_header: bool,
                 omit_session_token: bool) -> tuple[_ffi.r2_sign_request, object]:
        array, count = header_array(headers, "headers")
        data, size, owner = byte_pointer(body)
        # Every field given at once (no r2_sign_request_init call: one foreign call less).
        r = _ffi.r2_sign_request(_ffi.R2_SIGN_REQUEST_VERSION, cstr(method, "method"), cstr(path, "path"),
                                 cstr(query, "query"), array, count, data, size, cstr(payload_hash, "payload_hash"),
                                 to_unix_time(unix_time), not content_sha256_header, omit_session_token)
        return r, owner

    def _signed(self, function, request: _ffi.r2_sign_request, *expires: Any) -> Signed:
        """Calls ``function(&result, signer, &request, *expires)`` (an unchecked
        r2_signer_sign or r2_signer_presign: every argument is already its C type)."""
        result = POINTER(_ffi.r2_signed)()
        check(self._lib, function(byref(result), self._ptr(), byref(request), *expires))
        return Signed._lazy(_SignedResult(self._lib, result))

    def sign(self, method: str, path: str, *, query: Optional[str] = None, headers: Headers = None,
             body: bytes = b"", payload_hash: Optional[str] = None,
             unix_time: Union[int, datetime.datetime, None] = None, content_sha256_header: bool = True,
             omit_session_token: bool = False) -> Signed:
        """Signs a request for the Authorization header. ``headers`` must
        include Host; the result's headers are the ones to send (with
        X-Amz-Date, x-amz-content-sha256 and Authorization added). The body's
        SHA-256 is computed unless ``payload_hash`` is given (a hex digest or
        "UNSIGNED-PAYLOAD")."""
        r, _owner = self._request(method, path, query, headers, body, payload_hash, unix_time, content_sha256_header,
                                  omit_session_token)
        return self._signed(self._lib.unchecked.r2_signer_sign, r)

    def presign(self, method: str, path: str, *, expires: Union[int, datetime.timedelta] = 3600,
                query: Optional[str] = None, headers: Headers = None, payload_hash: Optional[str] = None,
                unix_time: Union[int, datetime.datetime, None] = None, omit_session_token: bool = False) -> Signed:
        """Presigns a request (query-string auth) for ``expires`` seconds; the
        result's ``query`` is the whole query string to send."""
        r, _owner = self._request(method, path, query, headers, b"", payload_hash, unix_time, True, omit_session_token)
        return self._signed(self._lib.unchecked.r2_signer_presign, r, c_int64(seconds(expires)))

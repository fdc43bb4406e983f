"""r2.Signer: the standalone SigV4 signer (r2_signer_*), for callers that
send their own requests and for checking r2 against other implementations."""
from __future__ import annotations

import datetime
import os
from ctypes import POINTER, byref, string_at
from typing import Optional, Union

from . import _ffi
from ._convert import Headers, byte_pointer, check, cstr, header_array, seconds, to_unix_time
from ._library import Library, load_library
from ._types import Signed


class Signer:
    """AWS Signature Version 4 with S3's rules (region "auto", service "s3"
    by default). Thread-safe. Paths are signed exactly as given (already
    percent-encoded, never normalised); ``query`` is the raw query string."""

    def __init__(self, access_key_id: str, secret_access_key: str, *, session_token: Optional[str] = None,
                 region: str = "auto", service: str = "s3",
                 library: Union[Library, str, "os.PathLike[str]", None] = None) -> None:
        self._handle = None
        lib = library if isinstance(library, Library) else load_library(library)
        o = _ffi.r2_signer_options()
        check(lib, lib.r2_signer_options_init(byref(o), _ffi.R2_SIGNER_OPTIONS_VERSION))
        o.access_key_id = cstr(access_key_id, "access_key_id")
        o.secret_access_key = cstr(secret_access_key, "secret_access_key")
        o.session_token = cstr(session_token, "session_token")
        o.region = cstr(region, "region")
        o.service = cstr(service, "service")
        handle = POINTER(_ffi.r2_signer)()
        check(lib, lib.r2_signer_new(byref(handle), byref(o)))
        self._lib, self._handle = lib, handle
        self._description = f"access_key_id={access_key_id!r}, region={region!r}, service={service!r}"

    def __repr__(self) -> str:  # never the secret or the session token
        return f"<r2.Signer {self._description}>"

    def close(self) -> None:
        """Frees the signer. Not thread-safe against calls in flight: close it when done with it."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.r2_signer_free(handle)

    __del__ = close

    def __enter__(self) -> Signer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, path: str, query: Optional[str], headers: Headers, body: bytes,
                 payload_hash: Optional[str], unix_time, content_sha256_header: bool,
                 omit_session_token: bool) -> tuple[_ffi.r2_sign_request, object]:
        r = _ffi.r2_sign_request()
        r.version = _ffi.R2_SIGN_REQUEST_VERSION  # every field is set below: no init call needed
        r.method = cstr(method, "method")
        r.path = cstr(path, "path")
        r.query = cstr(query, "query")
        r.headers, r.header_count = header_array(headers, "headers")
        data, r.body_len, owner = byte_pointer(body)
        r.body = data
        r.payload_hash = cstr(payload_hash, "payload_hash")
        r.unix_time = to_unix_time(unix_time)
        r.content_sha256_header = content_sha256_header
        r.omit_session_token = omit_session_token
        return r, owner

    def _signed(self, call) -> Signed:
        if self._handle is None:
            raise ValueError("the r2 signer is closed")
        result = POINTER(_ffi.r2_signed)()
        check(self._lib, call(byref(result)))
        lib = self._lib
        try:
            f = _ffi.r2_signed_fields()
            f.version = _ffi.R2_SIGNED_FIELDS_VERSION
            check(lib, lib.r2_signed_get(byref(f), result))  # every field in one call
            # c_char_p fields read as bytes (copies); decoding waits until a field is used.
            return Signed._from_bytes(f.authorization, string_at(f.header_block, f.header_block_len), f.query,
                                      f.signature, f.canonical_request, f.string_to_sign)
        finally:
            lib.r2_signed_free(result)

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
        return self._signed(lambda out: self._lib.r2_signer_sign(out, self._handle, byref(r)))

    def presign(self, method: str, path: str, *, expires: Union[int, datetime.timedelta] = 3600,
                query: Optional[str] = None, headers: Headers = None, payload_hash: Optional[str] = None,
                unix_time: Union[int, datetime.datetime, None] = None, omit_session_token: bool = False) -> Signed:
        """Presigns a request (query-string auth) for ``expires`` seconds; the
        result's ``query`` is the whole query string to send."""
        r, _owner = self._request(method, path, query, headers, b"", payload_hash, unix_time, True, omit_session_token)
        return self._signed(lambda out: self._lib.r2_signer_presign(out, self._handle, byref(r), seconds(expires)))

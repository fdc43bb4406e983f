"""r2.Client: every object operation of the C API, as Python methods.

The methods are grouped by concern in mixins over one ClientBase (the owned
handle and the call plumbing, _base): _objects (put, get, open, head, delete,
copy), _listing (list, list_all), _multipart (the multipart API), _transfers
(upload_file, download_file, ...) and _presign. This module configures and
creates the client."""
from __future__ import annotations

import os
from ctypes import POINTER, byref

from . import _ffi
from ._convert import JURISDICTIONS, PAYLOAD_MODES, check, choice, cstr
from ._errors import ConfigError
from ._library import Library, load_library
from ._base import ClientBase
from ._listing import ListingMixin, ObjectIterator
from ._multipart import MultipartMixin
from ._objects import ObjectsMixin
from ._options import ms, path
from ._presign import PresignMixin
from ._transfers import TransfersMixin

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Optional, TypeVar, Union

    from ._options import PathLike

    _Self = TypeVar("_Self", bound="ClientSettings")

__all__ = ["Client", "ClientSettings", "ObjectIterator"]

# In r2_client_options zero means the default, so a 0 given here must be
# told apart: these fields turn off with R2_OFF, these default to "none"
# (0 is that), and the others have no 0.
_OFF_WHEN_ZERO = ("list_timeout_ms", "stall_min_bytes_per_s")
_NONE_WHEN_ZERO = ("transfer_timeout_ms", "part_timeout_ms", "deadline_ms", "rate_limit")


def _nonzero(value: Any, name: str) -> Any:
    """The C value of a setting given explicitly."""
    if value != 0 or name in _NONE_WHEN_ZERO:
        return value
    if name in _OFF_WHEN_ZERO:
        return _ffi.R2_OFF
    raise ConfigError(f"{name.removesuffix('_ms')} must not be 0 (leave it out for r2's default)",
                      code=_ffi.R2_ERR_CONFIG)


class ClientSettings(ClientBase):
    """The constructor, ``from_env`` and ``repr`` shared by r2.Client and
    r2.aio.Client: one way to turn settings into an r2_client."""

    _public_name = "r2.Client"

    def __init__(self, account_id: Optional[str] = None, access_key_id: Optional[str] = None,
                 secret_access_key: Optional[str] = None, *, session_token: Optional[str] = None,
                 endpoint: Optional[str] = None, jurisdiction: Optional[str] = None, allow_http: bool = False,
                 ca_bundle: Optional[PathLike] = None, connect_timeout: Optional[float] = None,
                 request_timeout: Optional[float] = None, transfer_timeout: Optional[float] = None,
                 multipart_threshold: Optional[int] = None, multipart_part_size: Optional[int] = None,
                 multipart_concurrency: Optional[int] = None, pool_size: Optional[int] = None,
                 payload_mode: Optional[str] = None, record: Optional[PathLike] = None,
                 replay: Optional[PathLike] = None, replay_latency: bool = False,
                 stall_timeout: Optional[float] = None, stall_min_rate: Optional[int] = None,
                 list_timeout: Optional[float] = None, part_timeout: Optional[float] = None,
                 deadline: Optional[float] = None, max_attempts: Optional[int] = None,
                 rate_limit: Optional[float] = None, max_get_bytes: Optional[int] = None,
                 virtual_hosted_style: bool = False, region: Optional[str] = None,
                 library: Union[Library, PathLike, None] = None) -> None:
        lib = library if isinstance(library, Library) else load_library(library)
        o = _ffi.r2_client_options(_ffi.R2_CLIENT_OPTIONS_VERSION)  # zero (None) means r2's default
        o.account_id = cstr(account_id, "account_id")
        o.access_key_id = cstr(access_key_id, "access_key_id")
        o.secret_access_key = cstr(secret_access_key, "secret_access_key")
        o.session_token = cstr(session_token, "session_token")
        o.endpoint = cstr(endpoint, "endpoint")
        o.jurisdiction = choice(jurisdiction, JURISDICTIONS, "jurisdiction")
        o.allow_http = allow_http
        o.ca_bundle_path = path(ca_bundle, "ca_bundle")
        o.record_path = path(record, "record")
        o.replay_path = path(replay, "replay")
        o.replay_latency = replay_latency
        o.virtual_hosted_style = virtual_hosted_style
        o.region = cstr(region, "region")  # "auto" (default), "us-east-1" or ""; others raise r2.ConfigError
        if payload_mode is not None:
            o.payload_mode = choice(payload_mode, PAYLOAD_MODES, "payload_mode")
        numbers = {"connect_timeout_ms": ms(connect_timeout), "request_timeout_ms": ms(request_timeout),
                   "transfer_timeout_ms": ms(transfer_timeout), "multipart_threshold": multipart_threshold,
                   "multipart_part_size": multipart_part_size, "multipart_concurrency": multipart_concurrency,
                   "pool_size": pool_size, "stall_timeout_ms": ms(stall_timeout),
                   "stall_min_bytes_per_s": stall_min_rate, "list_timeout_ms": ms(list_timeout),
                   "part_timeout_ms": ms(part_timeout), "deadline_ms": ms(deadline),
                   "rate_limit": rate_limit, "max_get_bytes": max_get_bytes}
        for name, value in numbers.items():
            if value is not None:
                setattr(o, name, _nonzero(value, name))  # r2 validates the range
        if max_attempts is not None:  # one budget for every retry class (1: never retry)
            max_attempts = _nonzero(max_attempts, "max_attempts")
            for rule in (o.retry_slow_down, o.retry_server, o.retry_network, o.retry_interrupted):
                rule.max_attempts = max_attempts
        handle = POINTER(_ffi.r2_client)()
        check(lib, lib.r2_client_new(byref(handle), byref(o)))
        shown = {"endpoint": endpoint, "account_id": account_id, "jurisdiction": jurisdiction,
                 "access_key_id": access_key_id, "record": record and os.fspath(record),
                 "replay": replay and os.fspath(replay)}
        self._start(lib, handle, ", ".join(f"{k}={v!r}" for k, v in shown.items() if v))

    @classmethod
    def from_env(cls: type[_Self], *, library: Union[Library, PathLike, None] = None) -> _Self:
        """A client configured by r2 from R2_ACCOUNT_ID, R2_ACCESS_KEY_ID,
        R2_SECRET_ACCESS_KEY, R2_ENDPOINT, R2_ALLOW_HTTP, R2_CA_BUNDLE, ...
        (see the README); a missing or invalid one raises r2.ConfigError."""
        lib = library if isinstance(library, Library) else load_library(library)
        handle = POINTER(_ffi.r2_client)()
        check(lib, lib.r2_client_new_from_env(byref(handle)))
        client = cls.__new__(cls)
        client._start(lib, handle, "from_env")
        return client

    def __repr__(self) -> str:  # never the secret or the session token
        state = " closed" if self.closed else ""
        return f"<{self._public_name} {getattr(self, '_description', '')}{state}>"


class Client(ObjectsMixin, ListingMixin, MultipartMixin, TransfersMixin, PresignMixin, ClientSettings):
    """A client for one R2 account (or any S3-compatible endpoint).

    Safe to share between threads; calls release the GIL while r2 works.
    Use it as a context manager, or call close(). Strings are str; bodies are
    bytes. Failures raise r2.R2Error subclasses (r2.NoSuchKey, ...).

    ``replay="cassette.json"`` serves every request from a cassette recorded
    by any r2 binding (no network); ``record="cassette.json"`` records one.
    ``library`` is a path to libr2.so (or an r2.Library) when the default
    search (see r2.load_library) is not wanted.

    None (the default of every setting) means r2's default. 0 turns off
    ``list_timeout`` and the minimum rate of ``stall_min_rate`` (only the
    no-byte check stays); ``transfer_timeout``, ``part_timeout``,
    ``deadline`` and ``rate_limit`` are off unless set; any other setting
    refuses 0 (r2.ConfigError).
    """

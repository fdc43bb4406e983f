"""r2: a client for Cloudflare R2 (S3-compatible object storage).

A thin Python layer over libr2's C API (ctypes; no third-party dependency):

    import r2
    with r2.Client(account_id="...", access_key_id="...", secret_access_key="...") as client:
        client.put("my-bucket", "hello.txt", "hello")
        print(client.get("my-bucket", "hello.txt").body)
        client.upload_file("big.iso", "my-bucket", "big.iso")   # multipart above 100 MiB
        url = client.presign("GET", "my-bucket", "hello.txt", expires=3600)

libr2.so is found as described by r2.load_library(); it is loaded when the
first Client or Signer is made, so ``import r2`` does not touch it.
"""
from ._client import Client, ObjectIterator
from ._errors import (Aborted, AccessDenied, AuthError, BadDigest, BucketError, Cancelled, ChecksumMismatch,
                      CircuitOpen, ConfigError, ConnectionFailed, EntityTooLarge, EntityTooSmall, ExpiredCredentials,
                      ExpiredRequest, MetadataTooLarge, SSECustomerKeyRequired,
                      HTTPError, IncompleteBody, InvalidAccessKey, LibraryBug,
                      InvalidArgument, InvalidBucketName, InvalidObjectName, InvalidPart, InvalidPartOrder,
                      InvalidRange, InvalidRequest, MalformedResponse, MissingContentLength, MultipartError,
                      NetworkError, NoSuchBucket, NoSuchKey, NoSuchUpload, NotFound, NotModified, ObjectError,
                      PreconditionFailed, R2Error, ReplayUnmatched, RequestError, ServerError, ServerNotImplemented,
                      ServerInternal, ServiceUnavailable, SignatureDoesNotMatch, SlowDown, StreamInterrupted, Timeout, TLSError,
                      TransferError, Unauthorized, Unsupported)
from ._ffi import R2_VERSION_STRING as __version__
from ._library import Library, LibraryError, load_library
from ._signer import Signer
from ._streams import ObjectReader
from ._transfer import CancelToken, TransferConfig
from ._types import (CompletedPart, DeleteError, DeleteResult, ListPage, MultipartUpload, Object, ObjectEntry,
                     ObjectInfo, PartInfo, Signed)

__all__ = [
    "__version__", "Client", "Signer", "Library", "LibraryError", "load_library", "ObjectIterator", "ObjectReader",
    "ObjectInfo", "Object", "ObjectEntry", "ListPage", "DeleteResult", "DeleteError", "Signed",
    "TransferConfig", "CancelToken", "CompletedPart", "PartInfo", "MultipartUpload",
    "validate_bucket", "validate_key",
    "R2Error", "AuthError", "BucketError", "ObjectError", "MultipartError", "NetworkError", "ServerError",
    "RequestError", "TransferError", "NotFound",
    "InvalidArgument", "ConfigError", "Aborted", "Cancelled", "LibraryBug", "MalformedResponse",
    "ReplayUnmatched", "CircuitOpen", "Unsupported", "InvalidAccessKey", "SignatureDoesNotMatch",
    "ExpiredCredentials", "ExpiredRequest", "MetadataTooLarge", "SSECustomerKeyRequired", "Unauthorized", "NoSuchBucket", "AccessDenied", "InvalidBucketName", "NoSuchKey",
    "PreconditionFailed", "NotModified", "EntityTooLarge", "InvalidRange", "InvalidObjectName", "NoSuchUpload",
    "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "ConnectionFailed", "Timeout", "TLSError",
    "ServerInternal", "ServiceUnavailable", "SlowDown", "ServerNotImplemented", "BadDigest",
    "MissingContentLength", "InvalidRequest", "StreamInterrupted", "ChecksumMismatch", "IncompleteBody",
    "HTTPError",
]

# Public names read as r2.X in tracebacks and reprs, not r2._errors.X.
for _name in __all__:
    _obj = globals().get(_name)
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj


def __getattr__(name: str):
    """The error classes' names before 1.0 (InternalError, InternalLibraryError) still work, with a warning."""
    from ._errors import DEPRECATED_NAMES
    if name in DEPRECATED_NAMES:
        import warnings
        new = DEPRECATED_NAMES[name]
        warnings.warn(f"r2.{name} is deprecated: use r2.{new.__name__}", DeprecationWarning, stacklevel=2)
        return new
    raise AttributeError(f"module 'r2' has no attribute {name!r}")


def validate_bucket(name: str) -> None:
    """Raises InvalidBucketName (or InvalidArgument) unless ``name`` is a valid R2 bucket name."""
    from ._convert import check, cstr
    lib = load_library()
    check(lib, lib.r2_bucket_validate(cstr(name, "bucket")))


def validate_key(key: str) -> None:
    """Raises InvalidObjectName (or InvalidArgument) unless ``key`` is a valid object key (1-1024 bytes of UTF-8)."""
    from ._convert import check, cstr
    lib = load_library()
    check(lib, lib.r2_key_validate(cstr(key, "key")))

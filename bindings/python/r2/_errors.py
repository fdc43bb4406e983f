"""The exceptions: one class per r2_status, grouped as the header groups them.

Each class names its ``code`` (an R2_ERR_* of the header); its ``status`` (the
name r2_status_string() gives), its docstring and its place in BY_CODE are
derived from the generated _status.py. A test checks that every R2_ERR_* of
the header has exactly one class here.
"""
from __future__ import annotations

from . import _ffi, _status

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Optional


class R2Error(Exception):
    """A failed r2 call: the contents of r2_error_last() at the time.

    ``code`` is the r2_status (negative int), ``status`` its name,
    ``http_status`` the response's status (0 without a response), ``s3_code``
    the S3 error code (or None), ``request_id`` the x-amz-request-id (or None),
    ``retryable`` whether the same call may succeed later, and ``retry_after``
    the server's Retry-After in seconds (or None).
    """

    status = "Unknown"
    code = 0  # on a subclass: the r2_status it stands for

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:  # a group (AuthError, NotFound, ...)
            return
        if code in BY_CODE:
            raise TypeError(f"{cls.__name__} and {BY_CODE[code].__name__} both stand for status {code}")
        BY_CODE[code] = cls
        cls.status = _status.NAMES[code]
        if cls.__doc__ is None:
            cls.__doc__ = _status.DESCRIPTIONS[code]

    def __init__(self, message: str, *, code: Optional[int] = None, http_status: int = 0, s3_code: Optional[str] = None,
                 request_id: Optional[str] = None, retryable: bool = False, retry_after: Optional[float] = None):
        super().__init__(message)
        self.message = message
        self.code = type(self).code if code is None else code
        self.http_status = http_status
        self.s3_code = s3_code
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        details = [self.status]
        if self.http_status:
            details.append(f"HTTP {self.http_status}")
        if self.request_id:
            details.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(details)})"

    def __reduce__(self):  # keyword-only fields survive pickling (multiprocessing, concurrent.futures)
        return (_rebuild, (type(self), self.message, self.code, self.http_status, self.s3_code,
                           self.request_id, self.retryable, self.retry_after))


def _rebuild(cls, message, code, http_status, s3_code, request_id, retryable, retry_after):
    return cls(message, code=code, http_status=http_status, s3_code=s3_code, request_id=request_id,
               retryable=retryable, retry_after=retry_after)


# The class of each r2_status, filled as the classes below are defined.
BY_CODE: dict[int, type[R2Error]] = {}


# Groups (the header's hundreds), and NotFound across them.
class AuthError(R2Error): """Credentials or signature refused."""
class BucketError(R2Error): """A problem with the bucket."""
class ObjectError(R2Error): """A problem with the object or its conditions."""
class MultipartError(R2Error): """A problem with a multipart upload."""
class NetworkError(R2Error): """No usable connection to the server."""
class ServerError(R2Error): """The server failed or asked to slow down."""
class RequestError(R2Error): """The server refused the request as malformed."""
class TransferError(R2Error): """A body was cut short or did not match its checksum."""
class NotFound(R2Error): """The bucket, key or upload does not exist."""


# Caller and library errors.
class InvalidArgument(R2Error, ValueError): code = _ffi.R2_ERR_INVALID_ARGUMENT
class ConfigError(R2Error): code = _ffi.R2_ERR_CONFIG
class Aborted(R2Error): code = _ffi.R2_ERR_ABORTED
class Cancelled(R2Error): code = _ffi.R2_ERR_CANCELLED
class LibraryBug(R2Error): code = _ffi.R2_ERR_LIBRARY_BUG
class MalformedResponse(R2Error): code = _ffi.R2_ERR_MALFORMED_RESPONSE
class ReplayUnmatched(R2Error): code = _ffi.R2_ERR_REPLAY_UNMATCHED
class CircuitOpen(R2Error): code = _ffi.R2_ERR_CIRCUIT_OPEN
class Unsupported(R2Error): code = _ffi.R2_ERR_UNSUPPORTED
# Auth.
class InvalidAccessKey(AuthError): code = _ffi.R2_ERR_INVALID_ACCESS_KEY
class SignatureDoesNotMatch(AuthError): code = _ffi.R2_ERR_SIGNATURE_MISMATCH
class ExpiredCredentials(AuthError): code = _ffi.R2_ERR_EXPIRED_CREDENTIALS
class Unauthorized(AuthError): code = _ffi.R2_ERR_UNAUTHORIZED
class ExpiredRequest(AuthError): code = _ffi.R2_ERR_EXPIRED_REQUEST
# Bucket.
class NoSuchBucket(BucketError, NotFound): code = _ffi.R2_ERR_NO_SUCH_BUCKET
class AccessDenied(BucketError): code = _ffi.R2_ERR_ACCESS_DENIED
class InvalidBucketName(BucketError, InvalidArgument): code = _ffi.R2_ERR_INVALID_BUCKET_NAME
# Object.
class NoSuchKey(ObjectError, NotFound): code = _ffi.R2_ERR_NO_SUCH_KEY
class PreconditionFailed(ObjectError): code = _ffi.R2_ERR_PRECONDITION_FAILED
class NotModified(ObjectError): code = _ffi.R2_ERR_NOT_MODIFIED
class EntityTooLarge(ObjectError): code = _ffi.R2_ERR_ENTITY_TOO_LARGE
class InvalidRange(ObjectError): code = _ffi.R2_ERR_INVALID_RANGE
class InvalidObjectName(ObjectError, InvalidArgument): code = _ffi.R2_ERR_INVALID_OBJECT_NAME
class MetadataTooLarge(ObjectError): code = _ffi.R2_ERR_METADATA_TOO_LARGE
class SSECustomerKeyRequired(ObjectError): code = _ffi.R2_ERR_SSE_CUSTOMER_KEY_REQUIRED
# Multipart.
class NoSuchUpload(MultipartError, NotFound): code = _ffi.R2_ERR_NO_SUCH_UPLOAD
class InvalidPart(MultipartError): code = _ffi.R2_ERR_INVALID_PART
class InvalidPartOrder(MultipartError): code = _ffi.R2_ERR_INVALID_PART_ORDER
class EntityTooSmall(MultipartError): code = _ffi.R2_ERR_ENTITY_TOO_SMALL
# Network.
class ConnectionFailed(NetworkError): code = _ffi.R2_ERR_CONNECTION_FAILED
class Timeout(NetworkError): code = _ffi.R2_ERR_TIMEOUT
class TLSError(NetworkError): code = _ffi.R2_ERR_TLS
# Server.
class ServerInternal(ServerError): code = _ffi.R2_ERR_SERVER_INTERNAL
class ServiceUnavailable(ServerError): code = _ffi.R2_ERR_SERVICE_UNAVAILABLE
class SlowDown(ServerError): code = _ffi.R2_ERR_SLOW_DOWN
class ServerNotImplemented(ServerError): code = _ffi.R2_ERR_NOT_IMPLEMENTED
# Request.
class BadDigest(RequestError): code = _ffi.R2_ERR_BAD_DIGEST
class MissingContentLength(RequestError): code = _ffi.R2_ERR_MISSING_CONTENT_LENGTH
class InvalidRequest(RequestError): code = _ffi.R2_ERR_INVALID_REQUEST
# Transfer.
class StreamInterrupted(TransferError): code = _ffi.R2_ERR_STREAM_INTERRUPTED
class ChecksumMismatch(TransferError): code = _ffi.R2_ERR_CHECKSUM_MISMATCH
class IncompleteBody(TransferError): code = _ffi.R2_ERR_INCOMPLETE_BODY
# Any other HTTP error status.
class HTTPError(R2Error): code = _ffi.R2_ERR_HTTP


# The names r2 had before 1.0; importing them from r2 warns (r2/__init__.py).
DEPRECATED_NAMES = {"InternalLibraryError": LibraryBug, "InternalError": ServerInternal}


def invalid_argument(message: str) -> InvalidArgument:
    """An InvalidArgument found by the binding itself (e.g. a NUL in a string,
    which C would never see because it ends the string)."""
    return InvalidArgument(message, code=_ffi.R2_ERR_INVALID_ARGUMENT)


def last_error(lib, code: int) -> R2Error:
    """The exception for a call that just returned ``code``, from this
    thread's r2_error_last(). Must run on the thread that made the call,
    before any other r2 call on it."""
    e = lib.r2_error_last().contents
    if e.code != code:  # cannot happen with a correct library; keep the code we were given
        return BY_CODE.get(code, R2Error)(lib.r2_status_string(code).decode(), code=code)
    text = lambda b: b.decode("utf-8", "replace") or None  # noqa: E731  ("" means absent)
    return BY_CODE.get(code, R2Error)(
        text(e.message) or lib.r2_status_string(code).decode(), code=code, http_status=e.http_status,
        s3_code=text(e.s3_code), request_id=text(e.request_id), retryable=bool(e.retryable),
        retry_after=e.retry_after_ms / 1000 if e.retry_after_ms >= 0 else None)

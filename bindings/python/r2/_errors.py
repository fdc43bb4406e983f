"""The exceptions: one class per r2_status, grouped as the header groups them.

Every class has a ``status`` naming its code as r2_status_string() does; a
test checks that every R2_ERR_* of the header has exactly one class here.
"""
from __future__ import annotations

from . import _ffi

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

    def __init__(self, message: str, *, code: int = 0, http_status: int = 0, s3_code: Optional[str] = None,
                 request_id: Optional[str] = None, retryable: bool = False, retry_after: Optional[float] = None):
        super().__init__(message)
        self.message = message
        self.code = code
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
class InvalidArgument(R2Error, ValueError): status = "InvalidArgument"
class ConfigError(R2Error): status = "Config"
class Aborted(R2Error): status = "Aborted"
class Cancelled(R2Error): status = "Cancelled"
class InternalLibraryError(R2Error): status = "Internal"
class MalformedResponse(R2Error): status = "MalformedResponse"
class ReplayUnmatched(R2Error): status = "ReplayUnmatched"
class CircuitOpen(R2Error): status = "CircuitOpen"
class Unsupported(R2Error): status = "Unsupported"
# Auth.
class InvalidAccessKey(AuthError): status = "InvalidAccessKey"
class SignatureDoesNotMatch(AuthError): status = "SignatureDoesNotMatch"
class ExpiredCredentials(AuthError): status = "ExpiredCredentials"
class Unauthorized(AuthError): status = "Unauthorized"
class ExpiredRequest(AuthError): status = "ExpiredRequest"
# Bucket.
class NoSuchBucket(BucketError, NotFound): status = "NoSuchBucket"
class AccessDenied(BucketError): status = "AccessDenied"
class InvalidBucketName(BucketError, InvalidArgument): status = "InvalidBucketName"
# Object.
class NoSuchKey(ObjectError, NotFound): status = "NoSuchKey"
class PreconditionFailed(ObjectError): status = "PreconditionFailed"
class NotModified(ObjectError): status = "NotModified"
class EntityTooLarge(ObjectError): status = "EntityTooLarge"
class InvalidRange(ObjectError): status = "InvalidRange"
class InvalidObjectName(ObjectError, InvalidArgument): status = "InvalidObjectName"
class MetadataTooLarge(ObjectError): status = "MetadataTooLarge"
class SSECustomerKeyRequired(ObjectError): status = "SSECustomerKeyRequired"
# Multipart.
class NoSuchUpload(MultipartError, NotFound): status = "NoSuchUpload"
class InvalidPart(MultipartError): status = "InvalidPart"
class InvalidPartOrder(MultipartError): status = "InvalidPartOrder"
class EntityTooSmall(MultipartError): status = "EntityTooSmall"
# Network.
class ConnectionFailed(NetworkError): status = "ConnectionFailed"
class Timeout(NetworkError): status = "Timeout"
class TLSError(NetworkError): status = "TLS"
# Server.
class InternalError(ServerError): status = "InternalError"
class ServiceUnavailable(ServerError): status = "ServiceUnavailable"
class SlowDown(ServerError): status = "SlowDown"
class ServerNotImplemented(ServerError): status = "NotImplemented"
# Request.
class BadDigest(RequestError): status = "BadDigest"
class MissingContentLength(RequestError): status = "MissingContentLength"
class InvalidRequest(RequestError): status = "InvalidRequest"
# Transfer.
class StreamInterrupted(TransferError): status = "StreamInterrupted"
class ChecksumMismatch(TransferError): status = "ChecksumMismatch"
class IncompleteBody(TransferError): status = "IncompleteBody"
# Any other HTTP error status.
class HTTPError(R2Error): status = "HTTPError"


BY_CODE: dict[int, type[R2Error]] = {
    _ffi.R2_ERR_INVALID_ARGUMENT: InvalidArgument,
    _ffi.R2_ERR_CONFIG: ConfigError,
    _ffi.R2_ERR_ABORTED: Aborted,
    _ffi.R2_ERR_CANCELLED: Cancelled,
    _ffi.R2_ERR_INTERNAL: InternalLibraryError,
    _ffi.R2_ERR_MALFORMED_RESPONSE: MalformedResponse,
    _ffi.R2_ERR_REPLAY_UNMATCHED: ReplayUnmatched,
    _ffi.R2_ERR_CIRCUIT_OPEN: CircuitOpen,
    _ffi.R2_ERR_UNSUPPORTED: Unsupported,
    _ffi.R2_ERR_INVALID_ACCESS_KEY: InvalidAccessKey,
    _ffi.R2_ERR_SIGNATURE_MISMATCH: SignatureDoesNotMatch,
    _ffi.R2_ERR_EXPIRED_CREDENTIALS: ExpiredCredentials,
    _ffi.R2_ERR_UNAUTHORIZED: Unauthorized,
    _ffi.R2_ERR_EXPIRED_REQUEST: ExpiredRequest,
    _ffi.R2_ERR_NO_SUCH_BUCKET: NoSuchBucket,
    _ffi.R2_ERR_ACCESS_DENIED: AccessDenied,
    _ffi.R2_ERR_INVALID_BUCKET_NAME: InvalidBucketName,
    _ffi.R2_ERR_NO_SUCH_KEY: NoSuchKey,
    _ffi.R2_ERR_PRECONDITION_FAILED: PreconditionFailed,
    _ffi.R2_ERR_NOT_MODIFIED: NotModified,
    _ffi.R2_ERR_ENTITY_TOO_LARGE: EntityTooLarge,
    _ffi.R2_ERR_INVALID_RANGE: InvalidRange,
    _ffi.R2_ERR_INVALID_OBJECT_NAME: InvalidObjectName,
    _ffi.R2_ERR_METADATA_TOO_LARGE: MetadataTooLarge,
    _ffi.R2_ERR_SSE_CUSTOMER_KEY_REQUIRED: SSECustomerKeyRequired,
    _ffi.R2_ERR_NO_SUCH_UPLOAD: NoSuchUpload,
    _ffi.R2_ERR_INVALID_PART: InvalidPart,
    _ffi.R2_ERR_INVALID_PART_ORDER: InvalidPartOrder,
    _ffi.R2_ERR_ENTITY_TOO_SMALL: EntityTooSmall,
    _ffi.R2_ERR_CONNECTION_FAILED: ConnectionFailed,
    _ffi.R2_ERR_TIMEOUT: Timeout,
    _ffi.R2_ERR_TLS: TLSError,
    _ffi.R2_ERR_INTERNAL_ERROR: InternalError,
    _ffi.R2_ERR_SERVICE_UNAVAILABLE: ServiceUnavailable,
    _ffi.R2_ERR_SLOW_DOWN: SlowDown,
    _ffi.R2_ERR_NOT_IMPLEMENTED: ServerNotImplemented,
    _ffi.R2_ERR_BAD_DIGEST: BadDigest,
    _ffi.R2_ERR_MISSING_CONTENT_LENGTH: MissingContentLength,
    _ffi.R2_ERR_INVALID_REQUEST: InvalidRequest,
    _ffi.R2_ERR_STREAM_INTERRUPTED: StreamInterrupted,
    _ffi.R2_ERR_CHECKSUM_MISMATCH: ChecksumMismatch,
    _ffi.R2_ERR_INCOMPLETE_BODY: IncompleteBody,
    _ffi.R2_ERR_HTTP: HTTPError,
}


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

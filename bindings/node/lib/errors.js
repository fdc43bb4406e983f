'use strict';
// The error taxonomy: one R2Error subclass per r2_status, named as
// r2_status_string() names it (NoSuchKey, SlowDown, ...).

class R2Error extends Error {
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.code = fields.code ?? 'Internal';
    this.status = fields.status ?? 0;
    this.s3Code = fields.s3Code ?? '';
    this.requestId = fields.requestId ?? '';
    this.retryable = fields.retryable ?? false;
    this.retryAfterMs = fields.retryAfterMs ?? -1;
  }
}

// [status number, name]; the numbers are r2.h's and never change.
const STATUSES = [
  [-1, 'InvalidArgument'], [-2, 'Config'], [-3, 'Aborted'], [-4, 'Cancelled'], [-5, 'Internal'],
  [-6, 'MalformedResponse'], [-7, 'ReplayUnmatched'], [-8, 'CircuitOpen'], [-9, 'Unsupported'],
  [-100, 'InvalidAccessKey'], [-101, 'SignatureDoesNotMatch'], [-102, 'ExpiredCredentials'], [-103, 'Unauthorized'],
  [-104, 'ExpiredRequest'],
  [-200, 'NoSuchBucket'], [-201, 'AccessDenied'], [-202, 'InvalidBucketName'],
  [-300, 'NoSuchKey'], [-301, 'PreconditionFailed'], [-302, 'NotModified'], [-303, 'EntityTooLarge'],
  [-304, 'InvalidRange'], [-305, 'InvalidObjectName'], [-306, 'MetadataTooLarge'], [-307, 'SSECustomerKeyRequired'],
  [-400, 'NoSuchUpload'], [-401, 'InvalidPart'], [-402, 'InvalidPartOrder'], [-403, 'EntityTooSmall'],
  [-500, 'ConnectionFailed'], [-501, 'Timeout'], [-502, 'TLS'],
  [-600, 'InternalError'], [-601, 'ServiceUnavailable'], [-602, 'SlowDown'], [-603, 'NotImplemented'],
  [-700, 'BadDigest'], [-701, 'MissingContentLength'], [-702, 'InvalidRequest'],
  [-800, 'StreamInterrupted'], [-801, 'ChecksumMismatch'], [-802, 'IncompleteBody'],
  [-900, 'HTTPError'],
];

const classes = { R2Error };
const byStatus = new Map();
for (const [status, name] of STATUSES) {
  // A named class per code, so `err instanceof r2.NoSuchKey` and stack traces read well.
  const cls = { [name]: class extends R2Error {} }[name];
  classes[name] = cls;
  byStatus.set(status, cls);
}

// The addon's plain Error (r2Status, httpStatus, ...) → its R2Error subclass.
function fromNative(e) {
  if (e instanceof R2Error || e === null || typeof e !== 'object' || typeof e.r2Status !== 'number') return e;
  const cls = byStatus.get(e.r2Status) ?? R2Error;
  const err = new cls(e.message, {
    code: cls === R2Error ? e.r2Name : cls.name,
    status: e.httpStatus,
    s3Code: e.s3Code,
    requestId: e.requestId,
    retryable: e.retryable,
    retryAfterMs: e.retryAfterMs,
  });
  return err;
}

// The error of a call stopped by its AbortSignal: Cancelled, named AbortError
// like Node's own aborted calls, with the signal's reason as its cause.
function abortError(signal, what) {
  const reason = signal && signal.reason;
  const err = new classes.Cancelled(`${what || 'the call'} was aborted`, { code: 'Cancelled', cause: reason });
  err.name = 'AbortError';
  return err;
}

module.exports = { ...classes, fromNative, abortError, STATUSES };

// ES module entry: the same objects as require('r2').
import { createRequire } from 'node:module';

const r2 = createRequire(import.meta.url)('./index.js');
export default r2;
export const {
  Client, Signer, R2Bucket, R2Object, R2ObjectBody, R2Service, R2SigningClient, createR2SigningClientFromEnv,
  R2Error, version, libraryPath,
  InvalidArgument, Config, Aborted, Cancelled, Internal, MalformedResponse, ReplayUnmatched, CircuitOpen,
  Unsupported, InvalidAccessKey, SignatureDoesNotMatch, ExpiredCredentials, Unauthorized, ExpiredRequest, NoSuchBucket,
  AccessDenied, InvalidBucketName, NoSuchKey, PreconditionFailed, NotModified, EntityTooLarge, InvalidRange,
  InvalidObjectName, MetadataTooLarge, SSECustomerKeyRequired, NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall, ConnectionFailed, Timeout,
  TLS, InternalError, ServiceUnavailable, SlowDown, NotImplemented, BadDigest, MissingContentLength,
  InvalidRequest, StreamInterrupted, ChecksumMismatch, IncompleteBody, HTTPError,
} = r2;

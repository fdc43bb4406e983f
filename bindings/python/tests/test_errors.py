"""The exception classes against the header's status codes."""
from __future__ import annotations

import pickle

import pytest

import r2
from r2 import _errors, _ffi

STATUS_CODES = {name: value for name, value in vars(_ffi).items() if name.startswith("R2_ERR_")}


def test_every_status_code_has_its_own_class_named_as_the_library_names_it(lib):
    assert set(_errors.BY_CODE) == set(STATUS_CODES.values())
    classes = list(_errors.BY_CODE.values())
    assert len(set(classes)) == len(classes)
    for code, cls in _errors.BY_CODE.items():
        assert cls.status == lib.r2_status_string(code).decode(), cls
        assert issubclass(cls, r2.R2Error)
        assert getattr(r2, cls.__name__) is cls, f"r2.{cls.__name__} is not exported"


@pytest.mark.parametrize("cls, groups", [
    (r2.NoSuchKey, (r2.NotFound, r2.ObjectError)),
    (r2.NoSuchBucket, (r2.NotFound, r2.BucketError)),
    (r2.NoSuchUpload, (r2.NotFound, r2.MultipartError)),
    (r2.SignatureDoesNotMatch, (r2.AuthError,)),
    (r2.InvalidBucketName, (r2.InvalidArgument, ValueError, r2.BucketError)),
    (r2.InvalidObjectName, (r2.InvalidArgument, ValueError, r2.ObjectError)),
    (r2.SlowDown, (r2.ServerError,)),
    (r2.ChecksumMismatch, (r2.TransferError,)),
    (r2.Timeout, (r2.NetworkError,)),
])
def test_groups(cls, groups):
    for group in groups:
        assert issubclass(cls, group)


def test_fields_str_and_pickling():
    e = r2.SlowDown("Please reduce your request rate.", code=_ffi.R2_ERR_SLOW_DOWN, http_status=503,
                    s3_code="SlowDown", request_id="abc123", retryable=True, retry_after=2.5)
    assert str(e) == "Please reduce your request rate. (SlowDown, HTTP 503, request id abc123)"
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is r2.SlowDown
    assert (copy.code, copy.http_status, copy.s3_code, copy.request_id, copy.retryable, copy.retry_after) == \
        (-602, 503, "SlowDown", "abc123", True, 2.5)


def test_last_error_reads_the_thread_local_record(lib):
    code = lib.r2_bucket_validate(b"Bad_Bucket")
    e = _errors.last_error(lib, code)
    assert type(e) is r2.InvalidBucketName
    assert e.code == _ffi.R2_ERR_INVALID_BUCKET_NAME and e.http_status == 0 and not e.retryable
    assert e.s3_code is None and e.request_id is None and e.retry_after is None
    assert "Bad_Bucket" in e.message


def test_validation_helpers():
    r2.validate_bucket("my-bucket")
    r2.validate_key("a/b/ü.txt")
    with pytest.raises(r2.InvalidBucketName):
        r2.validate_bucket("192.168.0.1")
    with pytest.raises(r2.InvalidObjectName):
        r2.validate_key("k" * 1025)
    with pytest.raises(r2.InvalidArgument, match="NUL"):
        r2.validate_key("a\0b")
    with pytest.raises(r2.InvalidArgument, match="key"):
        r2.validate_key("bad \udcff surrogate")  # not UTF-8: refused by r2, which names the parameter


def test_classes_take_name_retryable_and_doc_from_the_generated_table(lib):
    from r2 import _status
    for code, cls in _errors.BY_CODE.items():
        assert cls.status == _status.NAMES[code] and cls.code == code
        assert cls.__doc__ == _status.DESCRIPTIONS[code], cls
    assert r2.ServerInternal.code == _ffi.R2_ERR_SERVER_INTERNAL == -600 and r2.ServerInternal.status == "ServerInternal"
    assert r2.LibraryBug.code == _ffi.R2_ERR_LIBRARY_BUG == -5 and r2.LibraryBug.status == "LibraryBug"
    assert _status.RETRYABLE == {_ffi.R2_ERR_SERVER_INTERNAL, _ffi.R2_ERR_SERVICE_UNAVAILABLE, _ffi.R2_ERR_SLOW_DOWN,
                                 _ffi.R2_ERR_CONNECTION_FAILED, _ffi.R2_ERR_TIMEOUT, _ffi.R2_ERR_STREAM_INTERRUPTED,
                                 _ffi.R2_ERR_INCOMPLETE_BODY}
    assert _ffi.R2_ITER_OVER == 1 and lib.r2_status_string(_ffi.R2_ITER_OVER) == b"IterOver"
    assert r2.SlowDown("x").code == _ffi.R2_ERR_SLOW_DOWN  # the class's code unless given


def test_names_before_1_0_still_work_with_a_warning():
    with pytest.warns(DeprecationWarning, match="r2.ServerInternal"):
        assert r2.InternalError is r2.ServerInternal
    with pytest.warns(DeprecationWarning, match="r2.LibraryBug"):
        assert r2.InternalLibraryError is r2.LibraryBug
    with pytest.raises(AttributeError):
        r2.NoSuchThing  # noqa: B018

"""r2.Signer's results without a server: Signed is read lazily (one
r2_signed_get on first use), equals one built from the same values, is
read-only and never shows its signature in repr."""
from __future__ import annotations

import gc

import pytest

import r2

HOST = [("Host", "examplebucket.s3.amazonaws.com")]


@pytest.fixture
def signer():
    with r2.Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region="us-east-1") as s:
        yield s


def test_s3_documentation_example(signer):
    # The S3 documentation's GET Object example (also in the SigV4 vector files).
    s = signer.sign("GET", "/test.txt", headers=HOST + [("Range", "bytes=0-9")], unix_time=1369353600,
                    payload_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    assert s.headers[-1] == ("Authorization", s.authorization)
    assert [n for n, _ in s.headers] == ["Host", "Range", "X-Amz-Date", "x-amz-content-sha256", "Authorization"]
    assert s.query == ""
    assert s.string_to_sign.endswith(s.string_to_sign.split("\n")[-1]) and s.canonical_request.startswith("GET\n/test.txt\n")


def test_lazy_result_equals_a_built_one_and_is_read_only(signer):
    s = signer.sign("PUT", "/b/k", query="a=1&b", headers=HOST + [("Content-Type", "text/plain")], unix_time=1700000000)
    built = r2.Signed(authorization=s.authorization, headers=list(s.headers), query=s.query, signature=s.signature,
                      canonical_request=s.canonical_request, string_to_sign=s.string_to_sign)
    assert s == built and built == s
    assert s.headers is s.headers  # read once, then kept
    with pytest.raises(AttributeError):
        s.signature = "0" * 64
    for text in (repr(s), repr(built)):
        assert s.signature not in text and "Signature=" not in text


def test_results_outlive_the_signer_and_are_freed():
    signer = r2.Signer("AKID", "secret")
    results = [signer.sign("GET", f"/b/{i}", headers=HOST, unix_time=1700000000) for i in range(50)]
    signer.close()
    assert len({r.signature for r in results}) == 50  # each read after its signer is gone
    del results
    gc.collect()
    with pytest.raises(ValueError):
        signer.sign("GET", "/b/k", headers=HOST)


def test_presigned_fields(signer):
    p = signer.presign("GET", "/b/k", headers=HOST, expires=60, unix_time=1700000000)
    assert p.authorization == "" and p.headers == HOST
    assert p.query.startswith("X-Amz-Algorithm=AWS4-HMAC-SHA256&") and p.query.endswith("&X-Amz-Signature=" + p.signature)

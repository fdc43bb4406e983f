#!/usr/bin/env python3
"""Writes sigv4-presign-operations.json: presigned URLs made by botocore (an
independent signer) for operations beyond get/put/head_object, bucket-level
ones included, in the format of Tests/Fixtures/testdata/sigv4/r2-presigned.json.
`make vectors FILE=Tests/Fixtures/sigv4-presign-operations.json` checks r2
against them. usage: .venv/bin/python Tests/Fixtures/gen_presign_vectors.py"""
import datetime
import json
import os
from unittest import mock

import botocore.session
from botocore.config import Config

ENDPOINT = "https://023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com"
AK, SK = "e8b8f6d1c2a34f5b9d7e0a1b2c3d4e5f", "3b0f9c6a2e4d8b1f7a5c9e3d2b6f8a0c4e1d7b9f3a5c2e8d6b4f0a9c1e3d5b7f"
NOW = datetime.datetime(2025, 12, 14, 12, 0, 0)
CASES = [
    ("list-objects-v2", "list_objects_v2", {"Bucket": "my-bucket", "Prefix": "photos/2025 é/", "Delimiter": "/",
                                            "ContinuationToken": "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
                                            "EncodingType": "url", "MaxKeys": 100, "StartAfter": "photos/a"}),
    ("list-objects-v2-plain", "list_objects_v2", {"Bucket": "my-bucket"}),
    ("list-parts", "list_parts", {"Bucket": "my-bucket", "Key": "big.iso", "UploadId": "abc/def+1", "MaxParts": 50,
                                  "PartNumberMarker": 3}),
    ("list-multipart-uploads", "list_multipart_uploads", {"Bucket": "my-bucket", "Prefix": "tmp/", "MaxUploads": 10,
                                                          "KeyMarker": "tmp/a", "UploadIdMarker": "u1"}),
    ("upload-part", "upload_part", {"Bucket": "my-bucket", "Key": "big.iso", "UploadId": "abc", "PartNumber": 7}),
    ("abort-multipart-upload", "abort_multipart_upload", {"Bucket": "my-bucket", "Key": "big.iso", "UploadId": "abc"}),
    ("get-bucket-cors", "get_bucket_cors", {"Bucket": "my-bucket"}),
    ("delete-object", "delete_object", {"Bucket": "my-bucket", "Key": "a b/ü.txt"}),
]
METHODS = {"list_objects_v2": "GET", "list_parts": "GET", "list_multipart_uploads": "GET", "upload_part": "PUT",
           "abort_multipart_upload": "DELETE", "get_bucket_cors": "GET", "delete_object": "DELETE"}

session = botocore.session.get_session()
client = session.create_client("s3", endpoint_url=ENDPOINT, region_name="auto", aws_access_key_id=AK,
                               aws_secret_access_key=SK,
                               config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
cases = []
with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
    for name, op, params in CASES:
        url = client.generate_presigned_url(op, Params=params, ExpiresIn=600)
        base = url.split("?", 1)[0]
        path = base[len(ENDPOINT):]
        cases.append({
            "name": "presign-" + name, "kind": "presigned", "operation": op, "params": params,
            "request": {"method": METHODS[op], "url_unsigned_base": base, "path": path, "signed_headers": "host",
                        "headers_client_must_send": [["host", ENDPOINT.split("//")[1]]]},
            "credentials": {"access_key": AK, "secret_key": SK}, "region": "auto", "service": "s3",
            "timestamp": "2025-12-14T12:00:00Z", "amz_date": "20251214T120000Z", "expires_in": 600,
            "expected": {"signature": url.rsplit("X-Amz-Signature=", 1)[1], "url": url}})
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sigv4-presign-operations.json")
with open(out, "w") as f:
    json.dump({"format": "r2-sigv4-vectors/1", "generator": f"botocore {botocore.__version__}", "endpoint": ENDPOINT,
               "addressing_style": "path", "region": "auto", "service": "s3", "cases": cases}, f, indent=1,
              ensure_ascii=False)
print(out, len(cases))

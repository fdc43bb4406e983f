"""Put, get, head, list, copy and delete objects.

    R2_ACCOUNT_ID=... R2_ACCESS_KEY_ID=... R2_SECRET_ACCESS_KEY=... python basics.py my-bucket

(or R2_ENDPOINT=http://127.0.0.1:8333 R2_ALLOW_HTTP=1 for a local S3 server).
"""
import sys

import r2

bucket = sys.argv[1] if len(sys.argv) > 1 else "r2-demo"

with r2.Client.from_env() as client:
    info = client.put(bucket, "notes/hello.txt", "Hello from Python ✓", content_type="text/plain; charset=utf-8",
                      metadata={"author": "example"})
    print("put", info.etag)

    obj = client.get(bucket, "notes/hello.txt")
    print("get", obj.body.decode(), obj.info.metadata)
    print("first five bytes", client.get(bucket, "notes/hello.txt", range=(0, 4)).body)

    # Conditional requests raise instead of returning stale data.
    try:
        client.get(bucket, "notes/hello.txt", if_none_match=info.etag)
    except r2.NotModified:
        print("not modified since", info.etag)

    client.copy(bucket, "notes/hello.txt", bucket, "notes/copy.txt")
    print("size", client.head(bucket, "notes/copy.txt").content_length)

    for entry in client.list_all(bucket, prefix="notes/"):  # fetches pages lazily
        print("listed", entry.key, entry.size)

    result = client.delete_objects(bucket, ["notes/hello.txt", "notes/copy.txt"])
    print("deleted", result.deleted, "failed", result.errors)

    try:
        client.get(bucket, "notes/hello.txt")
    except r2.NoSuchKey as e:
        print("gone:", e.s3_code, e.http_status, e.request_id)

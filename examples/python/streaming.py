"""Stream files up and down in bounded memory, with a progress callback.

    python streaming.py my-bucket path/to/big.file
"""
import hashlib
import os
import shutil
import sys

import r2


class Progress:
    """Callback-compatible with boto3's (and so with tqdm's update)."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def __call__(self, n: int) -> None:
        before = self.done * 100 // max(self.total, 1)
        self.done += n
        if self.done * 100 // max(self.total, 1) != before:
            print(f"\r{self.done * 100 // max(self.total, 1):3d}%", end="", flush=True)


bucket, path = sys.argv[1], sys.argv[2]
key = "uploads/" + os.path.basename(path)

with r2.Client.from_env() as client:
    size = os.path.getsize(path)
    client.upload_file(path, bucket, key, callback=Progress(size))  # multipart above 100 MiB (see transfer.py)
    print(" uploaded", key)

    # A file-like object over one GET: read(), iteration, shutil.copyfileobj...
    sha = hashlib.sha256()
    with client.open(bucket, key) as remote:
        for chunk in iter(lambda: remote.read(1 << 20), b""):
            sha.update(chunk)
    print("sha256", sha.hexdigest(), "etag", remote.info.etag)

    with client.open(bucket, key) as remote, open(path + ".copy", "wb") as local:
        shutil.copyfileobj(remote, local)

    # Or straight to a file, renamed into place only once complete.
    client.download_file(bucket, key, path + ".downloaded", callback=Progress(size))
    print(" downloaded")

    # Any iterable of bytes works: one PUT when its length is known, else a multipart upload.
    lines = (f"line {i}\n".encode() for i in range(1000))
    client.put(bucket, "uploads/lines.txt", lines, length=sum(len(f"line {i}\n") for i in range(1000)))

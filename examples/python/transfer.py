"""Big files through r2's transfer manager: multipart, progress bars, resume, Ctrl-C.

    python transfer.py my-bucket path/to/big.file

Above the threshold (100 MiB unless configured; 8 MiB here) r2 sends parts of
the file in parallel on its own threads, without the GIL. Ctrl-C stops the
upload at once; with ``state_path`` the parts sent so far are kept, and
running this again sends only the missing ones.
"""
import os
import sys

import r2

try:
    from tqdm import tqdm
except ImportError:  # the same interface, in a few lines
    class tqdm:  # type: ignore[no-redef]
        def __init__(self, total: int, desc: str, **_) -> None:
            self.total, self.desc, self.n = total, desc, 0

        def update(self, n: int) -> None:  # boto3-style callbacks give increments
            self.n += n
            print(f"\r{self.desc} {self.n * 100 // max(self.total, 1):3d}%", end="", flush=True)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            print()


bucket, path = sys.argv[1], sys.argv[2]
key = "transfers/" + os.path.basename(path)
size = os.path.getsize(path)
config = r2.TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=8)

with r2.Client.from_env() as client:
    with tqdm(total=size, desc="upload", unit="B", unit_scale=True) as bar:
        info = client.upload_file(path, bucket, key, config=config, callback=bar.update,
                                  state_path=path + ".r2-upload")  # resumable
    print("uploaded", key, info.etag)

    with tqdm(total=size, desc="download", unit="B", unit_scale=True) as bar:
        client.download_file(bucket, key, path + ".downloaded", config=config, callback=bar.update)

    # A stream of unknown length (a pipe, a generator) is always a multipart upload.
    lines = (f"line {i}\n".encode() for i in range(200_000))
    info = client.put(bucket, key + ".log", lines)
    print("streamed", key + ".log", info.etag)

    # Nothing unfinished is left behind.
    print("unfinished uploads:", [u.key for u in client.list_multipart_uploads(bucket, prefix="transfers/")])

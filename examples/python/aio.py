"""asyncio: hundreds of requests in flight from one event loop, on r2's engine
(a few r2 threads for the whole process, not a thread per request).

    python aio.py my-bucket path/to/file
"""
import asyncio
import hashlib
import os
import sys

import r2
import r2.aio


async def main(bucket: str, path: str) -> None:
    async with r2.aio.Client.from_env() as client:  # r2.Client's settings; `async with` waits for calls in flight
        # 200 small objects up and down, all at once
        keys = [f"aio/small/{i}" for i in range(200)]
        await asyncio.gather(*(client.put(bucket, key, f"object {i}".encode()) for i, key in enumerate(keys)))
        bodies = await asyncio.gather(*(client.get(bucket, key) for key in keys))
        assert [o.body for o in bodies] == [f"object {i}".encode() for i in range(200)]
        print("200 puts and 200 gets")

        # a file, with progress on the loop (multipart above the threshold, its parts on the engine)
        key = "aio/" + os.path.basename(path)
        await client.upload_file(path, bucket, key, progress=lambda done, total: print(f"\rsent {done}/{total}", end=""))
        print()

        # a streamed GET read with `async for`: r2 pauses the transfer while this loop is behind
        sha = hashlib.sha256()
        async with client.open(bucket, key) as body:
            async for chunk in body:
                sha.update(chunk)
        print("sha256", sha.hexdigest(), "etag", body.info.etag)
        await client.download_file(bucket, key, path + ".downloaded")

        # a call that takes too long is cancelled with its task (r2_op_cancel)
        try:
            await asyncio.wait_for(client.get(bucket, key), timeout=0.000001)
        except asyncio.TimeoutError:
            print("cancelled by wait_for")

        names = [entry.key async for entry in client.list_all(bucket, prefix="aio/")]
        print(len(names), "objects under aio/")
        result = await client.delete_objects(bucket, names)
        print("deleted", len(result.deleted), "errors", result.errors)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
    except r2.R2Error as e:
        sys.exit(f"r2: {e}")

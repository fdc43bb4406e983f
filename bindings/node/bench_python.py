#!/usr/bin/env python3
"""The Python binding's side of `make node-bench` (bench.js runs it, one case per process).

  small get|put N THREADS   N x 4 KiB with THREADS in flight (a thread pool of blocking calls)
  list PREFIX               one ListObjectsV2 page of the 1000 objects under PREFIX (median of 5)
  up|down FILE KEY          a file through the transfer manager (r2's defaults)

Prints one JSON line: wall, user + sys CPU of the measured part, peak RSS of the process.
Needs R2_TEST_* (scripts/test-server.sh) and libr2 (R2_LIBRARY or the checkout's build).
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import r2  # noqa: E402


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_split():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def main():
    env = os.environ
    # UNSIGNED-PAYLOAD, as the Node and C rows send it
    c = r2.Client(endpoint=env["R2_TEST_ENDPOINT"], allow_http=True, access_key_id=env["R2_TEST_ACCESS_KEY_ID"],
                  secret_access_key=env["R2_TEST_SECRET_ACCESS_KEY"], payload_mode="unsigned")
    bucket = env.get("R2_TEST_BUCKET", "r2-test")
    case = sys.argv[1]
    if case == "small":
        from concurrent.futures import ThreadPoolExecutor
        op, n, threads, prefix = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        body = os.urandom(4096)
        keys = [f"{prefix}{i % 100:03d}" for i in range(n)]
        fn = (lambda k: c.put(bucket, k, body)) if op == "put" else (lambda k: len(c.get(bucket, k).body))
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(fn, keys[:threads]))  # warm up: threads and connections
            c0, t0 = cpu(), time.perf_counter()
            sizes = list(pool.map(fn, keys))
            wall, used = time.perf_counter() - t0, cpu() - c0
        if op == "get":
            assert all(s == 4096 for s in sizes)
        out = {"wall": wall, "cpu": used, "ops": n}
    elif case == "list":
        prefix = sys.argv[2]
        assert len(c.list(bucket, prefix=prefix, max_keys=1000).objects) == 1000  # warm up
        runs = []
        for _ in range(5):
            c0, t0 = cpu(), time.perf_counter()
            n = len(c.list(bucket, prefix=prefix, max_keys=1000).objects)
            runs.append((time.perf_counter() - t0, cpu() - c0))
            assert n == 1000
        runs.sort()
        out = {"wall": runs[2][0], "cpu": sorted(r[1] for r in runs)[2]}
    else:
        path, key = sys.argv[2], sys.argv[3]
        (u0, s0), t0 = cpu_split(), time.perf_counter()
        if case == "up":
            c.upload_file(path, bucket, key)
        else:
            c.download_file(bucket, key, path)
        wall, (u1, s1) = time.perf_counter() - t0, cpu_split()
        out = {"wall": wall, "cpu": u1 - u0 + s1 - s0, "user": u1 - u0, "sys": s1 - s0}
    out["maxRssMiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()

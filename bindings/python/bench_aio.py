#!/usr/bin/env python3
"""Small GETs (or PUTs) through r2.aio.Client (many in flight on r2's engine, one event
loop) beside r2.Client on a thread pool, in the same run (issue 12).

    make python-bench-aio                      # starts a local server (R2_TEST_PORT / R2_TEST_TLS_PORT)
    bench_aio.py [--op get|put] [--gets 2000] [--size 4096] [--in-flight 500] [--threads 16] [--rounds 3]

needs R2_TEST_ENDPOINT, R2_TEST_ACCESS_KEY_ID, R2_TEST_SECRET_ACCESS_KEY and
R2_TEST_BUCKET (scripts/test-server.sh exports them). Reports per round and
client: ops/s, client CPU (user + system, every thread of this process) per
op, and the most threads the process had while the GETs ran (sampled every
millisecond from /proc/self/status by the loop itself for the async client, by
the submitting thread for the pool: no sampling thread of its own).
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import resource
import statistics
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import r2  # noqa: E402
import r2.aio  # noqa: E402


def threads() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def settings() -> dict:
    e = os.environ
    return dict(endpoint=e["R2_TEST_ENDPOINT"], allow_http=e["R2_TEST_ENDPOINT"].startswith("http://"),
                access_key_id=e["R2_TEST_ACCESS_KEY_ID"], secret_access_key=e["R2_TEST_SECRET_ACCESS_KEY"])


async def run_async(client: r2.aio.Client, bucket: str, keys: list[str], gets: int, in_flight: int,
                    size: int, body: bytes = b"") -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process, most threads) of ``gets``
    calls, ``in_flight`` at a time: GETs of ``size`` bytes, or PUTs of ``body``."""
    most = threads()
    done = False

    async def sample() -> None:
        nonlocal most
        while not done:
            most = max(most, threads())
            await asyncio.sleep(0.001)
    sampler = asyncio.ensure_future(sample())
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < gets:
            i = next_index
            next_index += 1
            if body:
                await client.put(bucket, keys[i % len(keys)], body)
            else:
                assert len((await client.get(bucket, keys[i % len(keys)])).body) == size
    c0, t0 = cpu(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    t1, c1 = time.perf_counter(), cpu()
    done = True
    await sampler
    return t1 - t0, c1 - c0, max(most, threads())


def run_threads(client: r2.Client, bucket: str, keys: list[str], gets: int, pool_size: int,
                size: int, body: bytes = b"") -> tuple[float, float, int]:
    def get(i: int) -> None:
        if body:
            client.put(bucket, keys[i % len(keys)], body)
        else:
            assert len(client.get(bucket, keys[i % len(keys)]).body) == size
    most = threads()
    c0, t0 = cpu(), time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(pool_size) as pool:
        futures = [pool.submit(get, i) for i in range(gets)]
        pending = set(futures)
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=0.001)
            most = max(most, threads())
        for f in futures:
            f.result()
    t1, c1 = time.perf_counter(), cpu()
    return t1 - t0, c1 - c0, most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--op", choices=("get", "put"), default="get")
    parser.add_argument("--gets", type=int, default=2000, help="how many calls")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--in-flight", type=int, default=500)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bucket = os.environ["R2_TEST_BUCKET"]
    prefix = f"bench-aio/{uuid.uuid4().hex[:8]}/"
    keys = [f"{prefix}{i}" for i in range(min(args.gets, 500))]
    body = os.urandom(args.size)
    sent = body if args.op == "put" else b""
    results: dict[str, list[tuple[float, float, int]]] = {"aio": [], "threads": []}
    blocking = r2.Client(**settings())

    async def aio_rounds() -> None:
        async with r2.aio.Client(**settings()) as client:
            await asyncio.gather(*(client.put(bucket, key, body) for key in keys))
            await run_async(client, bucket, keys, min(args.gets, 500), args.in_flight, args.size, sent)  # warm-up
            for _ in range(args.rounds):
                results["aio"].append(await run_async(client, bucket, keys, args.gets, args.in_flight, args.size,
                                                      sent))

    print(f"{args.gets} {args.op.upper()}s of {args.size} B; r2.aio.Client with {args.in_flight} in flight "
          f"(R2_ENGINE_THREADS={os.environ.get('R2_ENGINE_THREADS', 'default')}) vs r2.Client on "
          f"{args.threads} threads; {args.rounds} rounds each; threads in the process before: {threads()}")
    asyncio.run(aio_rounds())
    run_threads(blocking, bucket, keys, min(args.gets, 500), args.threads, args.size, sent)  # warm-up
    for _ in range(args.rounds):
        results["threads"].append(run_threads(blocking, bucket, keys, args.gets, args.threads, args.size, sent))
    blocking.delete_objects(bucket, keys, quiet=True)
    blocking.close()

    print(f"{'client':<28} {'ops/s':>8} {'CPU/op':>9} {'max threads':>12}   (median of rounds; each round)")
    names = {"aio": f"r2.aio.Client ({args.in_flight} in flight)", "threads": f"r2.Client ({args.threads} threads)"}
    for name, rounds in results.items():
        rates = [args.gets / wall for wall, _, _ in rounds]
        cpus = [c / args.gets * 1e6 for _, c, _ in rounds]
        most = max(t for _, _, t in rounds)
        each = ", ".join(f"{r:.0f}/s {c:.0f} µs" for r, c in zip(rates, cpus))
        print(f"{names[name]:<28} {statistics.median(rates):>8.0f} {statistics.median(cpus):>6.0f} µs "
              f"{most:>12}   ({each})")
    aio_threads = max(t for _, _, t in results["aio"])
    print(f"r2.aio.Client: at most {aio_threads} threads in the process (limit 8): "
          f"{'ok' if aio_threads <= 8 else 'OVER'}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""r2 beside its peers in one run, against the same local server: `make bench-peers`.

Run inside scripts/test-server.sh (R2_TEST_* exported) by the benchmark venv's
Python (.build/bench-venv: boto3, awscrt, minio; never the library's
dependencies). r2 is measured through C (Tests/CABITests/bench_sign, bench_list,
bench_multipart, bench_transfer), Python (bindings/python, with bench.py's
signing code) and Node (bindings/node/bench.js, when its addon is built); the
peers are boto3/botocore, awscrt, minio and the curl CLI.

  sign / presign         per call, µs (medians of rounds; C: median of 20 000)
  start-up               import + client in a fresh interpreter, ms (bench.py's, median of 7)
  list 1 000             one ListObjectsV2 page of 1 000 objects, client CPU ms (median of 5);
                         r2 C beside expat alone on the same page in the same rounds (its floor),
                         r2 Python with and without every entry read (list() makes them when read)
  SIZE_MIB up / down     a file, each transfer in its own process: wall, client CPU
                         per GiB (user + sys of the transfer; a Python child counts
                         the transfer only, not its imports), peak RSS (GNU time's
                         maxrss of the process), SHA-256 of what came back checked
  2 000 x 4 KiB          GETs and PUTs at 16 and at 256 in flight (SMALL_IN_FLIGHT): client CPU µs per op,
                         and ops/s; r2 C blocking (one thread per request in flight) and asynchronous (one
                         thread, bench_async), awscrt's S3Client (a window of requests), curl --parallel; r2
                         Python, boto3 and minio (threads) at 16

Prints one table; "vs best peer" is r2's figure over the best peer's for that
row's measure (lower is better: < 1 means r2 is ahead). JSON: .build/bench-peers.json.
env: SIZE_MIB (default 1024), SMALL_OPS (default 2000), SMALL_IN_FLIGHT (default 16,256),
BENCH_ONLY (sections to run, default sign,list,small,transfer,node), BENCH_OUT.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from bench_transfers import sha256  # scripts/, beside this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYDIR = os.path.join(ROOT, "bindings", "python")
CBIN = os.path.join(ROOT, ".build", "r2-c")
NODE_ADDON = os.path.join(ROOT, "bindings", "node", "build", "r2.node")
MIB = 1 << 20
THREADS = 16
IN_FLIGHT = [int(n) for n in os.environ.get("SMALL_IN_FLIGHT", "16,256").split(",")]


def env(name):
    return os.environ[name]


# ---- children: one measured case each, printing one JSON line ----------------------------

def rusage():
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def boto3_client():
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=env("R2_TEST_ENDPOINT"), region_name="us-east-1",
        aws_access_key_id=env("R2_TEST_ACCESS_KEY_ID"), aws_secret_access_key=env("R2_TEST_SECRET_ACCESS_KEY"),
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=THREADS,
                      request_checksum_calculation="when_required", response_checksum_validation="when_required"))


def minio_client():
    from urllib.parse import urlsplit

    from minio import Minio
    return Minio(urlsplit(env("R2_TEST_ENDPOINT")).netloc, env("R2_TEST_ACCESS_KEY_ID"),
                 env("R2_TEST_SECRET_ACCESS_KEY"), secure=False, region="us-east-1")


def r2_client():
    sys.path.insert(0, PYDIR)
    import r2
    # UNSIGNED-PAYLOAD like r2's C rows (bench_multipart) and curl: the same bytes on the wire,
    # no SHA-256 of each part (the client's default, signed, adds ~0.8 s of CPU per GiB).
    return r2.Client(endpoint=env("R2_TEST_ENDPOINT"), allow_http=True, access_key_id=env("R2_TEST_ACCESS_KEY_ID"),
                     secret_access_key=env("R2_TEST_SECRET_ACCESS_KEY"), payload_mode="unsigned")


def child_sign():
    """Python sign/presign rows: bench.py's (r2, botocore, boto3, awscrt) and minio's."""
    sys.path.insert(0, PYDIR)
    import bench  # bindings/python/bench.py
    from minio.credentials import Credentials
    from minio.signer import presign_v4, sign_v4_s3
    from urllib.parse import urlsplit
    rows = [(name, us) for name, us in bench.signing(5)]
    creds = Credentials(bench.ACCESS_KEY, bench.SECRET)
    url = urlsplit(f"https://{bench.HOST}{bench.PATH}")
    sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    def sign():  # minio's signer as its client calls it: the headers to sign in a fresh dict
        sign_v4_s3(method="GET", url=url, region="auto", credentials=creds, content_sha256=sha, date=bench.WHEN,
                   headers={"Host": bench.HOST, "x-amz-meta-color": "blue", "x-amz-content-sha256": sha})
    rows.append(("sign: minio sign_v4_s3", bench.per_call_us(sign, 5000, 5)))
    rows.append(("presign: minio presign_v4", bench.per_call_us(
        lambda: presign_v4(method="GET", url=url, region="auto", credentials=creds, date=bench.WHEN, expires=3600),
        5000, 5)))
    return {"rows": rows, "startup": bench.startup()}


def child_list(tool, prefix):
    """Client CPU of listing one page of 1 000 objects (median of 5, after one warm-up)."""
    bucket = env("R2_TEST_BUCKET")
    if tool == "r2":
        c = r2_client()
        call = lambda: len(c.list(bucket, prefix=prefix, max_keys=1000).objects)  # noqa: E731
    elif tool == "r2-read":  # every entry made and its key read (list() makes them as they are read)
        c = r2_client()
        call = lambda: sum(1 for e in c.list(bucket, prefix=prefix, max_keys=1000).objects if e.key)  # noqa: E731
    elif tool == "boto3":
        s3 = boto3_client()
        call = lambda: len(s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000)["Contents"])  # noqa: E731
    else:
        m = minio_client()
        call = lambda: sum(1 for _ in m.list_objects(bucket, prefix=prefix, recursive=True))  # noqa: E731
    assert call() == 1000
    cpu, wall = [], []
    for _ in range(5):
        u0, s0 = rusage()
        t0 = time.perf_counter()
        n = call()
        wall.append(time.perf_counter() - t0)
        u1, s1 = rusage()
        cpu.append(u1 - u0 + s1 - s0)
        assert n == 1000, n
    return {"cpu_ms": statistics.median(cpu) * 1000, "wall_ms": statistics.median(wall) * 1000}


def child_transfer(tool, direction, path, key):
    """One file transfer; its own wall and CPU (imports and client set-up excluded)."""
    bucket = env("R2_TEST_BUCKET")
    if tool == "minio":
        m = minio_client()
        run = (lambda: m.fput_object(bucket, key, path)) if direction == "up" else \
            (lambda: m.fget_object(bucket, key, path))
    elif tool == "boto3":
        s3 = boto3_client()
        run = (lambda: s3.upload_file(path, bucket, key)) if direction == "up" else \
            (lambda: s3.download_file(bucket, key, path))
    elif tool == "r2-python":
        c = r2_client()
        run = (lambda: c.upload_file(path, bucket, key)) if direction == "up" else \
            (lambda: c.download_file(bucket, key, path))
    else:  # awscrt's S3Client, set up as bindings/python/bench.py does
        run = awscrt_transfer(direction, path, key)
    u0, s0 = rusage()
    t0 = time.perf_counter()
    run()
    wall = time.perf_counter() - t0
    u1, s1 = rusage()
    return {"wall_s": wall, "user_s": u1 - u0, "sys_s": s1 - s0}


def awscrt_transfer(direction, path, key):
    from urllib.parse import quote, urlsplit

    from awscrt.auth import AwsCredentialsProvider, AwsSigningConfig
    from awscrt.http import HttpHeaders, HttpRequest
    from awscrt.io import ClientBootstrap, DefaultHostResolver, EventLoopGroup
    from awscrt.s3 import S3Client, S3RequestTlsMode, S3RequestType
    elg = EventLoopGroup()
    provider = AwsCredentialsProvider.new_static(env("R2_TEST_ACCESS_KEY_ID"), env("R2_TEST_SECRET_ACCESS_KEY"))
    client = S3Client(bootstrap=ClientBootstrap(elg, DefaultHostResolver(elg)), region="us-east-1",
                      tls_mode=S3RequestTlsMode.DISABLED, signing_config=AwsSigningConfig(
                          credentials_provider=provider, region="us-east-1", service="s3",
                          use_double_uri_encode=False, should_normalize_uri_path=False))
    headers = HttpHeaders([("Host", urlsplit(env("R2_TEST_ENDPOINT")).netloc)])
    target = f"/{env('R2_TEST_BUCKET')}/{quote(key)}"
    if direction == "up":
        headers.add("Content-Length", str(os.path.getsize(path)))
        headers.add("Content-Type", "application/octet-stream")
        return lambda: client.make_request(type=S3RequestType.PUT_OBJECT, request=HttpRequest("PUT", target, headers),
                                           send_filepath=path).finished_future.result(600)
    return lambda: client.make_request(type=S3RequestType.GET_OBJECT, request=HttpRequest("GET", target, headers),
                                       recv_filepath=path).finished_future.result(600)


def child_small(tool, op, prefix, ops, in_flight=str(THREADS)):
    """`ops` 4 KiB GETs or PUTs, `in_flight` at once (a thread pool; awscrt: a window of requests), timed as a whole."""
    from concurrent.futures import ThreadPoolExecutor
    bucket, body, ops, in_flight = env("R2_TEST_BUCKET"), os.urandom(4096), int(ops), int(in_flight)
    if tool == "awscrt":
        return awscrt_small(op, prefix, ops, in_flight, body)
    if tool == "r2-python":
        c = r2_client()
        put = lambda k: c.put(bucket, k, body)  # noqa: E731
        get = lambda k: len(c.get(bucket, k).body)  # noqa: E731
    elif tool == "boto3":
        s3 = boto3_client()
        put = lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body)  # noqa: E731
        get = lambda k: len(s3.get_object(Bucket=bucket, Key=k)["Body"].read())  # noqa: E731
    else:
        import io
        m = minio_client()
        put = lambda k: m.put_object(bucket, k, io.BytesIO(body), len(body))  # noqa: E731

        def get(k):
            r = m.get_object(bucket, k)
            try:
                return len(r.read())
            finally:
                r.close()
                r.release_conn()
    keys = [f"{prefix}{i % 100:03d}" for i in range(ops)]
    fn = put if op == "put" else get
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(fn, keys[:in_flight]))  # warm up: connections open
        u0, s0 = rusage()
        t0 = time.perf_counter()
        sizes = list(pool.map(fn, keys))
        wall = time.perf_counter() - t0
        u1, s1 = rusage()
    if op == "get":
        assert all(s == 4096 for s in sizes)
    return {"wall_s": wall, "user_s": u1 - u0, "sys_s": s1 - s0, "ops": ops}


def awscrt_small(op, prefix, ops, in_flight, body):
    """awscrt's S3Client (its own event loops) with `in_flight` requests outstanding at once."""
    import io
    import threading
    from urllib.parse import quote, urlsplit

    from awscrt.auth import AwsCredentialsProvider, AwsSigningConfig
    from awscrt.http import HttpHeaders, HttpRequest
    from awscrt.io import ClientBootstrap, DefaultHostResolver, EventLoopGroup
    from awscrt.s3 import S3Client, S3RequestTlsMode, S3RequestType
    elg = EventLoopGroup()
    provider = AwsCredentialsProvider.new_static(env("R2_TEST_ACCESS_KEY_ID"), env("R2_TEST_SECRET_ACCESS_KEY"))
    client = S3Client(bootstrap=ClientBootstrap(elg, DefaultHostResolver(elg)), region="us-east-1",
                      tls_mode=S3RequestTlsMode.DISABLED, signing_config=AwsSigningConfig(
                          credentials_provider=provider, region="us-east-1", service="s3",
                          use_double_uri_encode=False, should_normalize_uri_path=False))
    host = urlsplit(env("R2_TEST_ENDPOINT")).netloc
    window = threading.Semaphore(in_flight)
    sizes, lock = [], threading.Lock()

    def start(key):
        target = f"/{env('R2_TEST_BUCKET')}/{quote(key)}"
        headers = HttpHeaders([("Host", host)])
        got = [0]
        if op == "put":
            headers.add("Content-Length", str(len(body)))
            request = HttpRequest("PUT", target, headers, body_stream=io.BytesIO(body))
            r = client.make_request(type=S3RequestType.PUT_OBJECT, request=request)
        else:
            def on_body(chunk, **kwargs):
                got[0] += len(chunk)
            r = client.make_request(type=S3RequestType.GET_OBJECT, request=HttpRequest("GET", target, headers), on_body=on_body)

        def finished(f):
            with lock:
                sizes.append(got[0])
            window.release()
        r.finished_future.add_done_callback(finished)
        return r.finished_future

    def run(keys):
        futures = []
        for k in keys:
            window.acquire()
            futures.append(start(k))
        for f in futures:
            f.result(600)
    keys = [f"{prefix}{i % 100:03d}" for i in range(ops)]
    run(keys[:in_flight])  # warm up: connections open
    sizes.clear()
    u0, s0 = rusage()
    t0 = time.perf_counter()
    run(keys)
    wall = time.perf_counter() - t0
    u1, s1 = rusage()
    if op == "get":
        assert all(s == 4096 for s in sizes), sizes[:5]
    return {"wall_s": wall, "user_s": u1 - u0, "sys_s": s1 - s0, "ops": ops}


# ---- parent -------------------------------------------------------------------------------

def timed(cmd, **kw):
    """Runs cmd under GNU time: (stdout, wall s, user s, sys s, peak RSS MiB of the process)."""
    with tempfile.NamedTemporaryFile("r") as out:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", out.name] + cmd, capture_output=True, text=True,
                           **kw)
        wall = time.perf_counter() - t0
        if p.returncode:
            raise RuntimeError(f"{' '.join(cmd[:4])}... failed: {p.stderr.strip()[-400:]}")
        user, sys_, rss = out.read().split()[-3:]
    return p.stdout, wall, float(user), float(sys_), int(rss) / 1024


def child(*args):
    out = timed([sys.executable, os.path.abspath(__file__), "--child", *args])
    return json.loads(out[0].strip().splitlines()[-1]), out




def curl_auth():  # curl signs each request itself; UNSIGNED-PAYLOAD as r2 and the peers send
    return ["--aws-sigv4", "aws:amz:us-east-1:s3", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "--user", f"{env('R2_TEST_ACCESS_KEY_ID')}:{env('R2_TEST_SECRET_ACCESS_KEY')}"]


def url(key):
    from urllib.parse import quote
    return f"{env('R2_TEST_ENDPOINT')}/{env('R2_TEST_BUCKET')}/{quote(key)}"


def r2_put_many(keys, body):
    sys.path.insert(0, PYDIR)
    from concurrent.futures import ThreadPoolExecutor
    c = r2_client()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda k: c.put(env("R2_TEST_BUCKET"), k, body), keys))
    return c


ROWS = []  # (section, tool, measure value (lower is better), measure name, details)


def row(section, tool, value, measure, details=""):
    ROWS.append({"section": section, "tool": tool, "value": value, "measure": measure, "details": details})
    print(f"  {section:<22} {tool:<44} {value:10.3f} {measure}  {details}", flush=True)


def sign_rows():
    out = subprocess.run([os.path.join(CBIN, "bench_sign")], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*(.+?)\s+median\s+(\d+) ns", line)
        if m:
            name = m.group(1)
            section = "presign" if "presign" in name else "sign"
            row(section, f"r2 C: {name}", int(m.group(2)) / 1000, "µs/call")
    out = child("sign")[0]
    for name, us in out["rows"]:
        section, tool = name.split(": ", 1)
        row(section, ("r2 Python: " if "r2." in tool else "") + tool, us, "µs/call")
    for name, ms in out["startup"]:  # bench.py's: a fresh interpreter each, median of 7
        row("start-up", ("r2 Python: " if "r2" in name.split()[1] else "") + name, ms, "ms")


def list_rows(prefix):
    out = subprocess.run([os.path.join(CBIN, "bench_list")], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*(.+?): median (\d+) us", line)
        if m and "r2_list_objects" in m.group(1):
            row("list 1000", "r2 C: r2_list_objects, replayed page (thread CPU)", int(m.group(2)) / 1000, "ms")
        elif m and m.group(1).startswith("floor, same rounds"):  # the floor, timed in the same rounds as the call
            row("list 1000", "floor: expat alone, empty handlers (thread CPU)", int(m.group(2)) / 1000, "ms")
    names = {"r2": "r2 Python: list()", "r2-read": "r2 Python: list(), every entry read"}
    for tool in ("r2", "r2-read", "boto3", "minio"):
        r = child("list", tool, prefix)[0]
        row("list 1000", names.get(tool, tool), r["cpu_ms"], "client CPU ms", f"wall {r['wall_ms']:.1f} ms")


def transfer_rows(tmp, size_mib):
    src = os.path.join(tmp, "source.bin")
    with open(src, "wb") as f:
        for _ in range(size_mib):
            f.write(os.urandom(MIB))
    want, gib = sha256(src), size_mib / 1024
    dst = os.path.join(tmp, "download.bin")
    tools = ["r2 C", "r2 Python", "boto3", "awscrt", "minio", "curl"]
    for tool in tools:
        key = f"peers/{tool.replace(' ', '-')}.bin"
        for direction in ("up", "down"):
            path = src if direction == "up" else dst
            if tool == "r2 C":  # r2's defaults: 4 parts of 10 MiB in flight
                out = timed([os.path.join(CBIN, "bench_multipart"), env("R2_TEST_ENDPOINT"),
                             "upload" if direction == "up" else "download", path, key, "4", "10"])
                j = json.loads(out[0].strip().splitlines()[-1])
                wall, user, sys_, rss = j["wall_s"], j["cpu_user_s"], j["cpu_sys_s"], out[4]
            elif tool == "curl":
                cmd = ["curl", "-sS", "--fail"] + curl_auth() + (["-T", src] if direction == "up" else ["-o", dst])
                _, wall, user, sys_, rss = timed(cmd + [url(key)])
            else:
                j, out = child("transfer", "r2-python" if tool == "r2 Python" else tool, direction, path, key)
                wall, user, sys_, rss = j["wall_s"], j["user_s"], j["sys_s"], out[4]
            if direction == "down":
                ok = sha256(dst) == want
                os.unlink(dst)
                if not ok:
                    raise RuntimeError(f"{tool}: the SHA-256 of the download differs from the file uploaded")
            row(f"{size_mib} MiB {direction}", tool, (user + sys_) / gib, "CPU s/GiB",
                f"wall {wall:.2f} s ({size_mib / wall:.0f} MiB/s), user {user:.2f} s, sys {sys_:.2f} s, "
                f"peak RSS {rss:.0f} MiB" + (", SHA-256 ok" if direction == "down" else ""))


def small_rows(prefix, ops):
    for n in IN_FLIGHT:
        # r2 C blocking: one thread per request in flight (bench_transfer)
        env_c = dict(os.environ, BENCH_MIB="0", BENCH_SMALL_OPS=str(ops), BENCH_THREADS=str(n))
        out = subprocess.run([os.path.join(CBIN, "bench_transfer"), env("R2_TEST_ENDPOINT")], env=env_c,
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.match(r"(\d+) x 4 KiB (GET|PUT), \d+ threads: (\d+) ops/s, client CPU (\d+) us/op", line)
            if m:
                row(f"4 KiB {m.group(2)} x{n}", f"r2 C blocking ({n} threads)", float(m.group(4)), "CPU µs/op",
                    f"{m.group(3)} ops/s")
        for op in ("put", "get"):
            section = f"4 KiB {op.upper()} x{n}"
            # r2 C asynchronous: one thread keeps n in flight on the engine (bench_async)
            out = subprocess.run([os.path.join(CBIN, "bench_async"), env("R2_TEST_ENDPOINT"), str(n), str(ops), op],
                                 capture_output=True, text=True, check=True).stdout
            m = re.search(r"in flight \(async\): (\d+) ops/s, client CPU (\d+) us/op", out)
            threads = re.search(r"threads in the process: (\d+) at most, of which r2 engine threads: (\d+)", out)
            row(section, "r2 C async (1 thread + engine)", float(m.group(2)), "CPU µs/op",
                f"{m.group(1)} ops/s, {threads.group(1)} threads ({threads.group(2)} r2)")
            tools = ("awscrt",) + (("r2-python", "boto3", "minio") if n == THREADS else ())
            for tool in tools:
                j = child("small", tool, op, prefix, str(ops), str(n))[0]
                name = {"r2-python": f"r2 Python ({n} threads)", "awscrt": "awscrt S3Client"}.get(tool, f"{tool} ({n} threads)")
                row(section, name, (j["user_s"] + j["sys_s"]) / ops * 1e6, "CPU µs/op", f"{ops / j['wall_s']:.0f} ops/s")
            # curl: one process, --parallel with n in flight, every request signed by curl itself
            with tempfile.NamedTemporaryFile("w", suffix=".curlrc") as cfg, tempfile.NamedTemporaryFile() as body:
                body.write(os.urandom(4096))
                body.flush()
                for i in range(ops):
                    cfg.write(f'url = "{url(f"{prefix}{i % 100:03d}")}"\n')
                    cfg.write(f'upload-file = "{body.name}"\n' if op == "put" else 'output = "/dev/null"\n')
                cfg.flush()
                _, wall, user, sys_, _ = timed(["curl", "-sS", "--fail", "--parallel", "--parallel-max", str(n)]
                                               + curl_auth() + ["-K", cfg.name])
            row(section, "curl --parallel", (user + sys_) / ops * 1e6, "CPU µs/op",
                f"{ops / wall:.0f} ops/s (process start-up included)")


def node_rows(size_mib):
    if not os.path.exists(NODE_ADDON):
        print("  node: bindings/node addon not built (make node); skipped", flush=True)
        return
    out = subprocess.run(["node", os.path.join(ROOT, "bindings", "node", "bench.js"), "--size-mib", str(size_mib)],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"(sign|presign) \(.*?\)\s+([\d.]+) µs/call", line)
        if m:
            row(m.group(1), "r2 Node", float(m.group(2)), "µs/call")
        m = re.match(r"(\d+) MiB (uploadFile|downloadFile)\s+(\d+) MiB/s, CPU ([\d.]+) s/GiB, peak RSS (\d+) MiB", line)
        if m:
            row(f"{m.group(1)} MiB {'up' if m.group(2) == 'uploadFile' else 'down'}", "r2 Node", float(m.group(4)),
                "CPU s/GiB", f"{m.group(3)} MiB/s, peak RSS {m.group(5)} MiB")


def table():
    lines = [f"{'case':<16} {'tool':<46} {'value':>10}  {'measure':<14} {'vs best peer':>12}  details"]
    for section in dict.fromkeys(r["section"] for r in ROWS):
        rows = [r for r in ROWS if r["section"] == section]
        peers = [r["value"] for r in rows if not r["tool"].startswith("r2") and "floor" not in r["tool"]]
        best = min(peers) if peers else None
        for r in rows:
            ratio = f"{r['value'] / best:.2f}x" if best and r["tool"].startswith("r2") and "floor" not in r["tool"] \
                else ("best peer" if best is not None and r["value"] == best else "")
            lines.append(f"{section:<16} {r['tool']:<46} {r['value']:10.3f}  {r['measure']:<14} {ratio:>12}  "
                         f"{r['details']}")
    return "\n".join(lines)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        fn = {"sign": child_sign, "list": child_list, "transfer": child_transfer, "small": child_small}[sys.argv[2]]
        print(json.dumps(fn(*sys.argv[3:])))
        return 0
    size_mib = int(os.environ.get("SIZE_MIB", "1024"))
    ops = int(os.environ.get("SMALL_OPS", "2000"))
    prefix = f"peers-{os.getpid()}/"
    only = os.environ.get("BENCH_ONLY", "sign,list,small,transfer,node").split(",")
    print(f"bench-peers: {size_mib} MiB files, {ops} x 4 KiB at {IN_FLIGHT} in flight, server {env('R2_TEST_ENDPOINT')}",
          flush=True)
    if "sign" in only:
        sign_rows()
    if "list" in only:
        r2_put_many([f"{prefix}list/{i:04d}" for i in range(1000)], b"x")
        list_rows(f"{prefix}list/")
    if "small" in only:
        r2_put_many([f"{prefix}small/{i:03d}" for i in range(100)], os.urandom(4096))
        small_rows(f"{prefix}small/", ops)
    if "transfer" in only:
        with tempfile.TemporaryDirectory(prefix="r2-bench-peers-", dir=os.environ.get("BENCH_DIR")) as tmp:
            transfer_rows(tmp, size_mib)
    if "node" in only:
        node_rows(size_mib)
    text = table()
    print("\n" + text)
    out = os.environ.get("BENCH_OUT", os.path.join(ROOT, ".build", "bench-peers.json"))
    with open(out, "w") as f:
        json.dump({"size_mib": size_mib, "small_ops": ops, "threads": THREADS, "rows": ROWS,
                   "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, f, indent=1)
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

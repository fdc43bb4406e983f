#!/usr/bin/env python3
"""Benchmarks of the Python binding against botocore/boto3 (and awscrt where it runs).

    make python-bench          # starts a local server, runs this, stops it
    python bench.py            # inside scripts/test-server.sh run (needs R2_TEST_*)

1. Signing and presigning, per call (µs, median of 5 rounds):
   r2.Signer.sign vs botocore S3SigV4Auth vs awscrt aws_sign_request;
   r2.Client.presign vs botocore S3SigV4QueryAuth vs boto3 generate_presigned_url
   vs awscrt (query-parameter signing).
2. `import r2` + client creation vs `import boto3` + boto3.client("s3"), in a
   fresh interpreter each time (ms, median of 7).
3. A 1 GiB file up and down against the local server, each transfer in its own
   process: wall time, CPU (user + sys) and peak RSS of that process.
   r2 upload_file / download_file (r2's transfer manager with its defaults:
   multipart above 100 MiB, 10 MiB parts, 4 in flight) vs boto3's (multipart,
   10 threads, its defaults) vs awscrt's S3Client.

Options: --size-mib N (default 1024), --skip-transfers, --rounds N.
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import r2  # noqa: E402

ACCESS_KEY, SECRET = "AKIDEXAMPLE0BENCH001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9)
HOST = "0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"
KEY = "photos/2024/cat picture ü.jpg"
PATH = f"/my-bucket/{quote(KEY, safe='/')}"


def per_call_us(fn, n: int, rounds: int) -> float:
    fn()  # warm up (first-call caches, lazy imports)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter_ns() - t0) / n / 1000)
    return statistics.median(samples)


def signing(rounds: int) -> list[tuple[str, float]]:
    from unittest import mock

    import boto3
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials

    results = []
    headers = [("Host", HOST), ("x-amz-meta-color", "blue")]
    unix = int(WHEN.replace(tzinfo=datetime.timezone.utc).timestamp())
    signer = r2.Signer(ACCESS_KEY, SECRET)
    client = r2.Client(account_id="0123456789abcdef0123456789abcdef", access_key_id=ACCESS_KEY,
                       secret_access_key=SECRET)
    credentials = Credentials(ACCESS_KEY, SECRET)
    url = f"https://{HOST}{PATH}"

    def botocore_sign():
        request = AWSRequest(method="GET", url=url, headers=dict(headers))
        S3SigV4Auth(credentials, "s3", "auto").add_auth(request)

    def botocore_presign():
        request = AWSRequest(method="GET", url=url, headers={"Host": HOST})
        S3SigV4QueryAuth(credentials, "s3", "auto", expires=3600).add_auth(request)

    results.append(("sign: r2.Signer.sign", per_call_us(
        lambda: signer.sign("GET", PATH, headers=headers, unix_time=unix), 20000, rounds)))
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        results.append(("sign: botocore S3SigV4Auth.add_auth", per_call_us(botocore_sign, 5000, rounds)))
        results.append(("presign: botocore S3SigV4QueryAuth.add_auth", per_call_us(botocore_presign, 5000, rounds)))
    results.append(("presign: r2.Client.presign", per_call_us(
        lambda: client.presign("GET", "my-bucket", KEY, 3600, unix_time=unix), 20000, rounds)))
    s3 = boto3.client("s3", region_name="auto", endpoint_url=f"https://{HOST}", aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET, config=Config(s3={"addressing_style": "path"}))
    results.append(("presign: boto3 generate_presigned_url", per_call_us(
        lambda: s3.generate_presigned_url("get_object", Params={"Bucket": "my-bucket", "Key": KEY}, ExpiresIn=3600),
        2000, rounds)))
    try:
        results += awscrt_signing(rounds, headers)
    except ImportError as e:
        results.append((f"awscrt: not installed ({e})", float("nan")))
    return results


def awscrt_signing(rounds: int, headers) -> list[tuple[str, float]]:
    from awscrt.auth import (AwsCredentialsProvider, AwsSignatureType, AwsSignedBodyHeaderType, AwsSignedBodyValue,
                             AwsSigningConfig, aws_sign_request)
    from awscrt.http import HttpHeaders, HttpRequest

    provider = AwsCredentialsProvider.new_static(ACCESS_KEY, SECRET)
    common = dict(credentials_provider=provider, region="auto", service="s3", date=WHEN,
                  use_double_uri_encode=False, should_normalize_uri_path=False)
    header_config = AwsSigningConfig(signature_type=AwsSignatureType.HTTP_REQUEST_HEADERS,
                                     signed_body_value=AwsSignedBodyValue.EMPTY_SHA256,
                                     signed_body_header_type=AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256, **common)
    query_config = AwsSigningConfig(signature_type=AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS,
                                    signed_body_value=AwsSignedBodyValue.UNSIGNED_PAYLOAD,
                                    expiration_in_seconds=3600, **common)

    def sign(config, hs):
        request = HttpRequest("GET", PATH, HttpHeaders(hs))
        aws_sign_request(request, config).result()

    return [("sign: awscrt aws_sign_request (headers)", per_call_us(lambda: sign(header_config, headers), 5000, rounds)),
            ("presign: awscrt aws_sign_request (query)", per_call_us(lambda: sign(query_config, [("Host", HOST)]),
                                                                     5000, rounds))]


STARTUP = {
    "import r2 + r2.Client(...)": "import r2; r2.Client(account_id='0123456789abcdef0123456789abcdef', "
                                  "access_key_id='AKID', secret_access_key='secret')",
    "import boto3 + boto3.client('s3')": "import boto3; boto3.client('s3', region_name='auto', "
                                         "endpoint_url='https://x.r2.cloudflarestorage.com', "
                                         "aws_access_key_id='AKID', aws_secret_access_key='secret')",
}


def startup() -> list[tuple[str, float]]:
    # r2 with its bytecode, as an installed package has it (pip compiles at
    # install): with PYTHONDONTWRITEBYTECODE set, as on this machine, r2 would
    # be compiled from source in every fresh interpreter (~50 ms) while the
    # peers' site-packages have theirs. A copy, so the checkout stays clean (run
    # from its folder: `python -c` puts the working directory first on sys.path).
    import shutil
    installed = Path(tempfile.mkdtemp(prefix="r2-startup-"))
    shutil.copytree(HERE / "r2", installed / "r2")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(installed / "r2")], check=True)
    results = []
    for name, code in STARTUP.items():
        timed = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
        env = dict(os.environ, PYTHONPATH=str(installed))
        env.setdefault("R2_LIBRARY", str(HERE.parent.parent / ".build" / "release" / "libr2.so"))  # the copy is not in the checkout
        subprocess.run([sys.executable, "-c", timed], env=env, cwd=installed, check=True, capture_output=True)  # warm the page cache
        samples = [float(subprocess.run([sys.executable, "-c", timed], env=env, cwd=installed, check=True, capture_output=True,
                                        text=True).stdout) * 1000 for _ in range(7)]
        results.append((name, statistics.median(samples)))
    return results


# One transfer per process, so that its peak RSS and CPU are its own.
TRANSFER = r'''
import os, sys
sys.path.insert(0, sys.argv[1])
tool, direction, path, key = sys.argv[2:6]
env = os.environ
bucket, endpoint = env["R2_TEST_BUCKET"], env["R2_TEST_ENDPOINT"]
if tool == "r2":
    import r2
    c = r2.Client(endpoint=endpoint, allow_http=True, access_key_id=env["R2_TEST_ACCESS_KEY_ID"],
                  secret_access_key=env["R2_TEST_SECRET_ACCESS_KEY"])
    c.upload_file(path, bucket, key) if direction == "up" else c.download_file(bucket, key, path)
elif tool == "boto3":
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint,
                      aws_access_key_id=env["R2_TEST_ACCESS_KEY_ID"], aws_secret_access_key=env["R2_TEST_SECRET_ACCESS_KEY"],
                      config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                                    response_checksum_validation="when_required"))
    s3.upload_file(path, bucket, key) if direction == "up" else s3.download_file(bucket, key, path)
elif tool == "awscrt":
    from urllib.parse import quote, urlsplit
    from awscrt.auth import AwsCredentialsProvider, AwsSigningConfig
    from awscrt.http import HttpHeaders, HttpRequest
    from awscrt.io import ClientBootstrap, DefaultHostResolver, EventLoopGroup
    from awscrt.s3 import S3Client, S3RequestTlsMode, S3RequestType
    elg = EventLoopGroup()
    bootstrap = ClientBootstrap(elg, DefaultHostResolver(elg))
    provider = AwsCredentialsProvider.new_static(env["R2_TEST_ACCESS_KEY_ID"], env["R2_TEST_SECRET_ACCESS_KEY"])
    client = S3Client(bootstrap=bootstrap, region="us-east-1", tls_mode=S3RequestTlsMode.DISABLED,
                      signing_config=AwsSigningConfig(
                          credentials_provider=provider, region="us-east-1", service="s3",
                          use_double_uri_encode=False, should_normalize_uri_path=False))
    host = urlsplit(endpoint).netloc
    headers = HttpHeaders([("Host", host)])
    if direction == "up":
        headers.add("Content-Length", str(os.path.getsize(path)))
        headers.add("Content-Type", "application/octet-stream")
        request = HttpRequest("PUT", f"/{bucket}/{quote(key)}", headers)
        done = client.make_request(type=S3RequestType.PUT_OBJECT, request=request, send_filepath=path).finished_future
    else:
        request = HttpRequest("GET", f"/{bucket}/{quote(key)}", headers)
        done = client.make_request(type=S3RequestType.GET_OBJECT, request=request, recv_filepath=path).finished_future
    done.result(600)
# Peak RSS of this process since exec (VmHWM): the parent's RSS at fork time,
# which getrusage's ru_maxrss would include, is not counted.
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(usage.ru_utime + usage.ru_stime, hwm // 1024)
'''


def transfer(tool: str, direction: str, path: str, key: str) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS MiB) of one transfer in a child process."""
    t0 = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", TRANSFER, str(HERE), tool, direction, path, key],
                           capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if child.returncode:
        last = child.stderr.strip().splitlines()[-1] if child.stderr.strip() else f"exit {child.returncode}"
        raise RuntimeError(f"{tool} {direction} failed: {last}")
    cpu, rss = child.stdout.split()
    return wall, float(cpu), int(rss)


def transfers(size_mib: int) -> list[tuple[str, str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="r2-bench-", dir=os.environ.get("R2_BENCH_DIR")) as tmp:
        source = os.path.join(tmp, "source.bin")
        with open(source, "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(size_mib):
                f.write(i.to_bytes(8, "little") + block[8:])
        for tool in ("r2", "boto3", "awscrt"):
            key = f"bench/{tool}-{size_mib}mib.bin"
            target = os.path.join(tmp, f"{tool}.bin")
            for direction, path in (("up", source), ("down", target)):
                try:
                    wall, cpu, rss = transfer(tool, direction, path, key)
                    rows.append((f"{size_mib} MiB {direction:4} {tool}",
                                 f"wall {wall:6.2f} s  {size_mib / wall:7.1f} MiB/s  CPU {cpu:6.2f} s  peak RSS {rss:5d} MiB"))
                except Exception as e:  # noqa: BLE001 -- a tool that cannot run here is reported, not fatal
                    rows.append((f"{size_mib} MiB {direction:4} {tool}", f"did not run: {e}"))
                    break
            if os.path.exists(target):
                same = os.path.getsize(target) == os.path.getsize(source) and _same_file(source, target)
                rows.append((f"          {tool} round trip", "bytes equal" if same else "BYTES DIFFER"))
                os.unlink(target)
    return rows


def _same_file(a: str, b: str) -> bool:
    import filecmp
    return filecmp.cmp(a, b, shallow=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-transfers", action="store_true")
    args = ap.parse_args()
    lib = r2.load_library()
    print(f"r2 {lib.version} ({lib.path}), Python {sys.version.split()[0]}")
    print("\nper call (median of rounds), µs")
    for name, us in signing(args.rounds):
        print(f"  {name:48} {us:9.2f}")
    print("\nfresh interpreter, ms (median of 7)")
    for name, ms in startup():
        print(f"  {name:48} {ms:9.1f}")
    if not args.skip_transfers:
        if "R2_TEST_ENDPOINT" not in os.environ:
            print("\ntransfers: no R2_TEST_ENDPOINT (run inside scripts/test-server.sh, or make python-bench)")
            return 1
        print(f"\ntransfers against {os.environ['R2_TEST_ENDPOINT']} (one process each)")
        for name, line in transfers(args.size_mib):
            print(f"  {name:28} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

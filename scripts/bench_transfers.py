#!/usr/bin/env python3
"""1 GiB multipart upload/download benchmarks: r2 vs boto3 vs awscrt, same local server.

Run by `make bench-transfers` (inside scripts/test-server.sh, which exports
R2_TEST_ENDPOINT, R2_TEST_ACCESS_KEY_ID, R2_TEST_SECRET_ACCESS_KEY, R2_TEST_BUCKET).
Every case runs in a fresh child process; the parent measures it with os.wait4
(user+sys CPU of the whole process). The child times the transfer itself: wall,
and for the Python tools the CPU of the transfer alone, without interpreter
start-up, imports and client construction (r2's is its whole process, from
getrusage), and reports its peak RSS (VmHWM). Peak RSS is the child's VmHWM, not
wait4's ru_maxrss: Linux starts a spawned child's ru_maxrss at its parent's
peak (the exec'd-over mm's high-water mark), so ru_maxrss can only be as low as
this script's own peak; it is kept in the JSON as wait4_maxrss_mib.

  bench_transfers.py                      the whole benchmark
  bench_transfers.py --one TOOL DIR FILE KEY CONCURRENCY PART_MIB   one case (internal)

Concurrency is s3transfer's max_concurrency for boto3 and the client's
max_active_connections_override for awscrt. All three send UNSIGNED-PAYLOAD and
no checksum headers (checked on the wire against this server).

env: BENCH_MIB (file size, default 1024); BENCH_RUNS_UP / BENCH_RUNS_DOWN (r2 runs
per upload / download case, default 2 / 2; the run with the least CPU is kept,
all are in the JSON); BENCH_OUT (default .build/bench-transfers.json).
"""
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_MULTIPART = os.path.join(ROOT, ".build/r2-c/bench_multipart")
MIB = 1 << 20

R2_GRID = [(c, p) for c in (1, 4, 8, 16) for p in (8, 16, 64)]
PY_GRID = [(1, 16), (4, 16), (16, 16), (8, 64)]  # representative subset for boto3 and awscrt

MODES = {
    "r2": "UNSIGNED-PAYLOAD, no checksum",
    "boto3": "UNSIGNED-PAYLOAD (payload_signing_enabled=False), checksums when_required (none)",
    "awscrt": "UNSIGNED-PAYLOAD (default S3 signing config), no checksum config",
}


def env(name):
    return os.environ[name]


# ---- child side: one transfer with boto3 or awscrt ---------------------------------------

def cpu_now():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_boto3(direction, path, key, c, part):
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    s3 = boto3.client(
        "s3", endpoint_url=env("R2_TEST_ENDPOINT"), region_name="auto",
        aws_access_key_id=env("R2_TEST_ACCESS_KEY_ID"), aws_secret_access_key=env("R2_TEST_SECRET_ACCESS_KEY"),
        config=Config(signature_version="s3v4", max_pool_connections=max(10, c),
                      s3={"addressing_style": "path", "payload_signing_enabled": False},
                      request_checksum_calculation="when_required", response_checksum_validation="when_required"))
    # "classic": s3transfer's threads, never the CRT transfer client boto3 may pick on its own.
    tc = TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=c,
                        use_threads=True, preferred_transfer_client="classic")
    t0, c0 = time.monotonic(), cpu_now()
    if direction == "upload":
        s3.upload_file(path, env("R2_TEST_BUCKET"), key, Config=tc)
    else:
        s3.download_file(env("R2_TEST_BUCKET"), key, path, Config=tc)
    return time.monotonic() - t0, cpu_now() - c0


def run_awscrt(direction, path, key, c, part):
    from awscrt.auth import AwsCredentialsProvider
    from awscrt.http import HttpHeaders, HttpRequest
    from awscrt.s3 import S3Client, S3RequestTlsMode, S3RequestType, create_default_s3_signing_config

    host = env("R2_TEST_ENDPOINT").split("://", 1)[1].rstrip("/")
    creds = AwsCredentialsProvider.new_static(env("R2_TEST_ACCESS_KEY_ID"), env("R2_TEST_SECRET_ACCESS_KEY"))
    client = S3Client(region="auto", tls_mode=S3RequestTlsMode.DISABLED,
                      signing_config=create_default_s3_signing_config(region="auto", credential_provider=creds),
                      part_size=part, multipart_upload_threshold=part, throughput_target_gbps=10.0,
                      max_active_connections_override=c)
    headers = HttpHeaders([("Host", host)])
    if direction == "upload":
        headers.add("Content-Length", str(os.path.getsize(path)))
        headers.add("Content-Type", "application/octet-stream")
    request = HttpRequest("PUT" if direction == "upload" else "GET", f"/{env('R2_TEST_BUCKET')}/{key}", headers)
    t0, c0 = time.monotonic(), cpu_now()
    if direction == "upload":
        r = client.make_request(type=S3RequestType.PUT_OBJECT, request=request, send_filepath=path)
    else:
        r = client.make_request(type=S3RequestType.GET_OBJECT, request=request, recv_filepath=path)
    r.finished_future.result()
    return time.monotonic() - t0, cpu_now() - c0


def vmhwm_mib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def one(tool, direction, path, key, c, part_mib):
    c, part_mib = int(c), int(part_mib)
    wall, cpu = {"boto3": run_boto3, "awscrt": run_awscrt}[tool](direction, path, key, c, part_mib * MIB)
    print(json.dumps({"tool": tool, "direction": direction, "concurrency": c, "part_mib": part_mib,
                      "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "vmhwm_mib": round(vmhwm_mib(), 1)}))


def delete(key):
    """Removes a case's object, so the server's disk stays small (run as a child: the parent stays lean)."""
    import boto3
    from botocore.config import Config
    boto3.client("s3", endpoint_url=env("R2_TEST_ENDPOINT"), region_name="auto",
                 aws_access_key_id=env("R2_TEST_ACCESS_KEY_ID"), aws_secret_access_key=env("R2_TEST_SECRET_ACCESS_KEY"),
                 config=Config(s3={"addressing_style": "path"})).delete_object(Bucket=env("R2_TEST_BUCKET"), Key=key)


# ---- parent side -----------------------------------------------------------------------------

def measure(tool, direction, path, key, c, part_mib):
    """Runs one case in a fresh process; returns its JSON line plus the wait4 figures."""
    if tool == "r2":
        argv = [BENCH_MULTIPART, env("R2_TEST_ENDPOINT"), direction, path, key, str(c), str(part_mib)]
    else:
        argv = [sys.executable, os.path.abspath(__file__), "--one", tool, direction, path, key, str(c), str(part_mib)]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{tool} {direction} c={c} part={part_mib} MiB exited {p.returncode}")
    row = json.loads(out.strip().splitlines()[-1])
    row["peak_rss_mib"] = row.pop("vmhwm_mib", row.get("peak_rss_mib"))  # the child's VmHWM (see the top)
    row.update(process_wall_s=round(time.monotonic() - t0, 3), process_cpu_s=round(ru.ru_utime + ru.ru_stime, 3),
               wait4_maxrss_mib=round(ru.ru_maxrss / 1024, 1), mode=MODES[tool])
    return row


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return h.hexdigest()


def make_source(path, size):
    """Random bytes, 1 MiB at a time (small buffers keep this process's peak RSS low)."""
    with open(path, "wb") as f:
        for i in range(0, size, MIB):
            f.write(os.urandom(min(MIB, size - i)))


def main():
    size = int(os.environ.get("BENCH_MIB", "1024")) * MIB
    runs = {"upload": int(os.environ.get("BENCH_RUNS_UP", "2")), "download": int(os.environ.get("BENCH_RUNS_DOWN", "2"))}
    out_path = os.environ.get("BENCH_OUT", os.path.join(ROOT, ".build/bench-transfers.json"))
    tmp = tempfile.mkdtemp(prefix="r2-bench-")
    src, dst = os.path.join(tmp, "source.bin"), os.path.join(tmp, "download.bin")
    rows, failures = [], []
    try:
        make_source(src, size)
        want = sha256(src)
        print(f"source: {size // MIB} MiB, sha256 {want[:16]}…, endpoint {env('R2_TEST_ENDPOINT')}", flush=True)
        cases = [("r2", c, p) for c, p in R2_GRID] + [(t, c, p) for t in ("boto3", "awscrt") for c, p in PY_GRID]
        for tool, c, part in cases:
            key = f"bench/{tool}-c{c}-p{part}"
            try:
                for direction in ("upload", "download"):
                    all_runs = []
                    for _ in range(runs[direction] if tool == "r2" else 1):
                        if direction == "download" and os.path.exists(dst):
                            os.remove(dst)
                        all_runs.append(measure(tool, direction, src if direction == "upload" else dst, key, c, part))
                    best = dict(min(all_runs, key=lambda r: r["cpu_s"]), runs=all_runs)
                    if direction == "download":
                        best["sha256_ok"] = sha256(dst) == want
                        if not best["sha256_ok"]:
                            failures.append(f"{tool} c={c} part={part}: downloaded SHA-256 differs")
                    rows.append(best)
                    print(fmt(best, size), flush=True)
            except Exception as e:  # report and go on with the other cases
                failures.append(f"{tool} c={c} part={part}: {e}")
                print(f"FAILED {tool} c={c} part={part}: {e}", flush=True)
            finally:
                subprocess.run([sys.executable, os.path.abspath(__file__), "--delete", key], check=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(rows, failures, size, out_path)
    return 1 if failures else 0


HEADER = f"{'tool':7} {'dir':8} {'conc':>4} {'part':>4} {'wall s':>7} {'MiB/s':>6} {'CPU s/GiB':>9} " \
         f"{'proc CPU s':>10} {'peak RSS MiB':>12}  mode"


def fmt(r, size):
    gib = size / (1 << 30)
    return (f"{r['tool']:7} {r['direction']:8} {r['concurrency']:>4} {r['part_mib']:>4} {r['wall_s']:>7.2f} "
            f"{size / MIB / r['wall_s']:>6.0f} {r['cpu_s'] / gib:>9.3f} {r['process_cpu_s']:>10.2f} "
            f"{r['peak_rss_mib']:>12.0f}  {r['mode']}" + ("" if r.get("sha256_ok", True) else "  SHA-256 MISMATCH"))


def report(rows, failures, size, out_path):
    gib = size / (1 << 30)
    for r in rows:
        r["mib_per_s"] = round(size / MIB / r["wall_s"], 1)
        r["cpu_s_per_gib"] = round(r["cpu_s"] / gib, 3)
    print("\n" + HEADER)
    for r in sorted(rows, key=lambda r: (r["direction"] != "upload", r["concurrency"], r["part_mib"], r["tool"])):
        print(fmt(r, size))

    def best_cpu(tool, direction):
        v = [r["cpu_s_per_gib"] for r in rows if r["tool"] == tool and r["direction"] == direction]
        return min(v) if v else None

    # Targets of issue 4, per r2 row against the other tools' best CPU/GiB in the same direction.
    targets = []
    for r in (r for r in rows if r["tool"] == "r2"):
        v = r["cpu_s_per_gib"]
        if r["direction"] == "upload":
            ref = best_cpu("awscrt", "upload")
            cpu_ok = v <= 0.4 and (ref is None or v < ref)
        else:
            cpu_ok = all(v <= ref for ref in (best_cpu("boto3", "download"), best_cpu("awscrt", "download")) if ref is not None)
        rss_limit = r["concurrency"] * r["part_mib"] + 32
        targets.append({"direction": r["direction"], "concurrency": r["concurrency"], "part_mib": r["part_mib"],
                        "cpu_s_per_gib": r["cpu_s_per_gib"], "cpu_target_met": cpu_ok,
                        "peak_rss_mib": r["peak_rss_mib"], "rss_limit_mib": rss_limit,
                        "rss_target_met": r["peak_rss_mib"] <= rss_limit})
    print("\nissue 4 targets (r2): upload CPU/GiB < awscrt's best and <= 0.4; download CPU/GiB <= boto3's and "
          "awscrt's best; peak RSS <= concurrency x part + 32 MiB")
    for d in ("upload", "download"):
        print(f"  best CPU s/GiB {d}: " + ", ".join(f"{t} {best_cpu(t, d)}" for t in ("r2", "boto3", "awscrt")))
    for t in targets:
        print(f"  r2 {t['direction']:8} c={t['concurrency']:<2} part={t['part_mib']:<2}  CPU {t['cpu_s_per_gib']:.3f} "
              f"s/GiB {'MET' if t['cpu_target_met'] else 'MISSED'}   RSS {t['peak_rss_mib']:.0f} <= "
              f"{t['rss_limit_mib']} MiB {'MET' if t['rss_target_met'] else 'MISSED'}")
    checked = [r for r in rows if "sha256_ok" in r]
    print(f"downloads verified: {sum(r['sha256_ok'] for r in checked)} of {len(checked)} SHA-256 equal to the source")
    for f in failures:
        print("FAILURE:", f)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump({"size_mib": size // MIB, "rows": rows, "targets": targets, "failures": failures}, f, indent=1)
    print(f"\nJSON: {out_path}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        one(*sys.argv[2:8])
    elif len(sys.argv) > 1 and sys.argv[1] == "--delete":
        delete(sys.argv[2])
    else:
        sys.exit(main())

#!/usr/bin/env bash
# A/B of file transfers, run inside scripts/test-server.sh (which exports
# R2_TEST_ENDPOINT, keys and bucket): a 1 GiB file uploaded and downloaded by
# .build/r2-c/bench_multipart against this tree's libr2 (or NEW_LIB's: "new") and, when
# BASE_LIB names a directory holding another libr2.so, against that one
# ("base"), interleaved, RUNS times; the curl CLI's download beside them.
# One line per run: tool case wall_s user_s sys_s cpu_s peak_rss_mib.
#
#   BASE_LIB=/tmp/base RUNS=3 MIB=1024 bash scripts/test-server.sh run DIR -- bash scripts/bench_file_ab.sh
# UPLOADS=0: downloads only (the object is uploaded once, unmeasured).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/.build/r2-c/bench_multipart
RUNS=${RUNS:-3}
MIB=${MIB:-1024}
TMP=$(mktemp -d /tmp/r2-file-ab.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SRC=$TMP/source.bin
DST=$TMP/download.bin
head -c $((MIB << 20)) /dev/urandom > "$SRC"
WANT=$(sha256sum "$SRC" | cut -d' ' -f1)
LIBS=(new)
[ -n "${BASE_LIB:-}" ] && LIBS=(base new)

libpath() { if [ "$1" = base ]; then echo "$BASE_LIB"; else echo "${NEW_LIB:-$ROOT/.build/release}"; fi; }

# bench_multipart's JSON → one line
r2line() {  # tool case json
    python3 -c 'import json,sys; r=json.loads(sys.argv[3]); print("%-22s %-26s %7.2f %6.2f %6.2f %6.2f %7.1f" % (sys.argv[1], sys.argv[2], r["wall_s"], r["cpu_user_s"], r["cpu_sys_s"], r["cpu_s"], r["peak_rss_mib"]))' "$@"
}

checksum() { [ "$(sha256sum "$DST" | cut -d' ' -f1)" = "$WANT" ] || { echo "SHA-256 of the download differs" >&2; exit 1; }; }

echo "tool                   case                          wall_s user_s  sys_s  cpu_s rss_mib"
if [ "${UPLOADS:-1}" = 0 ]; then  # downloads only: the object they read, uploaded once
    LD_LIBRARY_PATH=$(libpath new) "$BENCH" "$R2_TEST_ENDPOINT" upload "$SRC" "ab/up-c4" 4 10 > /dev/null
fi
for run in $(seq "$RUNS"); do
    [ "${UPLOADS:-1}" = 0 ] || for lib in "${LIBS[@]}"; do
        for cp in "4 10" "16 16"; do
            set -- $cp
            out=$(LD_LIBRARY_PATH=$(libpath "$lib") "$BENCH" "$R2_TEST_ENDPOINT" upload "$SRC" "ab/up-c$1" "$1" "$2")
            r2line "r2-$lib" "upload c$1 p$2" "$out"
            out=$(R2_BENCH_SIGNED=1 LD_LIBRARY_PATH=$(libpath "$lib") "$BENCH" "$R2_TEST_ENDPOINT" upload "$SRC" "ab/up-c$1" "$1" "$2")
            r2line "r2-$lib" "upload c$1 p$2 signed" "$out"
        done
    done
    # curl's upload: one PUT of the whole file (no multipart in curl)
    [ "${UPLOADS:-1}" = 0 ] || /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" curl -sS -f -o /dev/null -T "$SRC" --aws-sigv4 "aws:amz:auto:s3" \
        --user "$R2_TEST_ACCESS_KEY_ID:$R2_TEST_SECRET_ACCESS_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
        "$R2_TEST_ENDPOINT/$R2_TEST_BUCKET/ab/curl-up"
    [ "${UPLOADS:-1}" = 0 ] || read -r w u s m < "$TMP/time"
    [ "${UPLOADS:-1}" = 0 ] || printf '%-22s %-26s %7.2f %6.2f %6.2f %6.2f %7.1f\n' curl "upload (one PUT)" "$w" "$u" "$s" "$(echo "$u + $s" | bc)" "$(echo "scale=1; $m / 1024" | bc)"
    for lib in "${LIBS[@]}"; do
        for mode in fsync no-fsync; do
            [ "$lib" = base ] && [ "$mode" = no-fsync ] && continue
            rm -f "$DST"
            if [ "$mode" = no-fsync ]; then nf=1; else nf=; fi
            out=$(R2_BENCH_NO_FSYNC=$nf LD_LIBRARY_PATH=$(libpath "$lib") "$BENCH" "$R2_TEST_ENDPOINT" download "$DST" "ab/up-c4" 4 10)
            r2line "r2-$lib" "download c4 p10 $mode" "$out"
            checksum
        done
    done
    rm -f "$DST"
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" curl -sS -f -o "$DST" --aws-sigv4 "aws:amz:auto:s3" \
        --user "$R2_TEST_ACCESS_KEY_ID:$R2_TEST_SECRET_ACCESS_KEY" "$R2_TEST_ENDPOINT/$R2_TEST_BUCKET/ab/up-c4"
    read -r w u s m < "$TMP/time"
    printf '%-22s %-26s %7.2f %6.2f %6.2f %6.2f %7.1f\n' curl "download (one GET)" "$w" "$u" "$s" "$(echo "$u + $s" | bc)" "$(echo "scale=1; $m / 1024" | bc)"
    checksum
done

#!/usr/bin/env bash
# The r2 command-line tool on a large round trip: a 256 MiB file up as a
# multipart upload, back as parallel ranged downloads, compared, removed.
# Needs R2_ENDPOINT (or R2_ACCOUNT_ID), R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY
# and R2_DEMO_BUCKET; `make demo` sets them for a local server.
set -euo pipefail

R2=${R2:-./bin/r2}
MIB=${R2_DEMO_MIB:-256}
dest="r2://${R2_DEMO_BUCKET:?set R2_DEMO_BUCKET}/r2-cli-demo/$MIB-MiB.bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Shows each command, then runs it.
step() {
    echo "\$ r2 ${*:2}" | sed "s|$work|\$TMP|g"
    "$@"
}

echo "== r2 CLI: $MIB MiB round trip to $dest"
head -c $((MIB << 20)) /dev/urandom >"$work/file.bin"
step "$R2" cp --progress --part-size 16MiB --concurrency 4 "$work/file.bin" "$dest"
step "$R2" ls "${dest%/*}/"
step "$R2" cp --progress "$dest" "$work/back.bin"
up=$(sha256sum <"$work/file.bin" | cut -d' ' -f1)
down=$(sha256sum <"$work/back.bin" | cut -d' ' -f1)
echo "sha256 sent     $up"
echo "sha256 received $down"
[ "$up" = "$down" ] || { echo "r2 CLI demo: the bytes differ" >&2; exit 1; }
step "$R2" presign --expires 600 "$dest" | sed 's/X-Amz-Signature=[0-9a-f]*/X-Amz-Signature=…/'
step "$R2" rm "$dest"
echo "== r2 CLI demo: OK"

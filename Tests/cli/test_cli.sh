#!/usr/bin/env bash
# End-to-end tests of the r2 command-line tool against the local server:
#   bash Tests/cli/test_cli.sh [path/to/r2]
# Needs the R2_TEST_* environment of scripts/test-server.sh (`make cli-test`
# runs it that way). Objects go under a prefix of their own in R2_TEST_BUCKET
# and are removed at the end.
set -uo pipefail

R2=$(realpath "${1:-bin/r2}")
: "${R2_TEST_ENDPOINT:?run under scripts/test-server.sh (R2_TEST_* not set)}"
export R2_ENDPOINT=$R2_TEST_ENDPOINT R2_ALLOW_HTTP=1
export R2_ACCESS_KEY_ID=$R2_TEST_ACCESS_KEY_ID R2_SECRET_ACCESS_KEY=$R2_TEST_SECRET_ACCESS_KEY
unset R2_ACCOUNT_ID R2_CA_BUNDLE R2_SESSION_TOKEN R2_MULTIPART_THRESHOLD_BYTES \
    R2_MULTIPART_PART_SIZE_BYTES R2_MULTIPART_CONCURRENCY
B=${R2_TEST_BUCKET:-r2-test}
P=cli-test-$$
T=r2://$B/$P
W=$(mktemp -d)
trap '"$R2" rm --recursive "$T/" >/dev/null 2>&1; "$R2" mpu abort --all "$T/" >/dev/null 2>&1; rm -rf "$W"' EXIT

passed=0 failed=0
# check NAME CMD...: one test; CMD's status decides.
check() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
        [ -s "$W/err" ] && sed 's/^/     stderr: /' "$W/err" | head -n 5
    fi
}
# run CMD...: stdout in $W/out, stderr in $W/err, status in $rc; every
# output is also kept in $W/all, which the secret check reads at the end.
run() {
    "$@" >"$W/out" 2>"$W/err"
    rc=$?
    cat "$W/out" "$W/err" >>"$W/all"
}
ran_ok() { [ "$rc" -eq 0 ]; }
# The last run failed with status $1 and exactly one stderr line, "r2: " + ERE $2.
failed_with() { [ "$rc" -eq "$1" ] && [ "$(wc -l <"$W/err")" -eq 1 ] && grep -Eq "^r2: $2" "$W/err"; }
same() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }
out_has() { grep -Eq "$1" "$W/out"; }
out_lacks() { ! grep -Eq "$1" "$W/out"; }
out_count() { [ "$(grep -Ec "$1" "$W/out")" -eq "$2" ]; }
err_has() { grep -Eq "$1" "$W/err"; }
# A request signed by curl, for what the tool is not meant to do (start an upload).
signed_curl() { curl -sS --max-time 10 --aws-sigv4 "aws:amz:auto:s3" --user "$R2_ACCESS_KEY_ID:$R2_SECRET_ACCESS_KEY" "$@"; }
# The ETag of an object, through a presigned HEAD fetched by curl.
etag() { curl -sS -I "$("$R2" presign --method HEAD "$1")" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: *//p'; }
uploads() { "$R2" mpu ls "$T/" 2>/dev/null | wc -l; }
no_uploads() { [ "$(uploads)" -eq 0 ]; }
# remote_is OBJECT FILE: the object's bytes are the file's.
remote_is() { "$R2" cat "$1" 2>/dev/null | cmp -s - "$2"; }
missing() { ! "$R2" cat "$1" >/dev/null 2>&1; }
# A multipart upload's ETag ends in -PARTS; a single PUT's has no dash.
multipart_of() { [[ $(etag "$1") == *-"$2"\"* ]]; }
multipart() { [[ $(etag "$1") == *-* ]]; }
single_put() { ! multipart "$1"; }
out_lines() { [ "$(wc -l <"$W/out")" -eq "$1" ]; }
keys_under() { [ "$("$R2" ls --recursive "$1" | wc -l)" -eq "$2" ]; }
wait_for_upload() { for _ in $(seq 100); do [ "$(uploads)" -gt 0 ] && return 0; sleep 0.1; done; return 1; }

echo "== r2 CLI tests ($R2) against $R2_ENDPOINT, under $T/"
head -c 100000 /dev/urandom >"$W/small"
: >"$W/empty"
head -c $((64 << 20)) /dev/urandom >"$W/big"

echo "-- cp: small files, names, stdin and stdout"
run "$R2" cp "$W/small" "$T/small"
check "cp file up" ran_ok
run "$R2" cp "$T/small" "$W/small.down"
check "cp object down is byte-exact" same "$W/small" "$W/small.down"
"$R2" cat "$T/small" >"$W/small.cat"
check "cat is byte-exact" same "$W/small" "$W/small.cat"
run "$R2" cp "$W/empty" "$T/empty" && run "$R2" cp "$T/empty" "$W/empty.down"
check "empty file round trip" same "$W/empty" "$W/empty.down"
run "$R2" cp "$W/small" "s3://$B/$P/odd name/é ü+%20.bin"
check "s3:// and a key with spaces, UTF-8, + and %" remote_is "$T/odd name/é ü+%20.bin" "$W/small"
run "$R2" cp "$W/small" "$T/dir/"
check "cp to a key ending in / keeps the file name" remote_is "$T/dir/small" "$W/small"
mkdir -p "$W/into"
run "$R2" cp "$T/dir/small" "$W/into"
check "cp into a local directory keeps the key's name" same "$W/small" "$W/into/small"
run bash -c '"$1" cp - "$2" <"$3"' _ "$R2" "$T/stdin-small" "$W/small"
check "cp - (stdin, under one part) up" remote_is "$T/stdin-small" "$W/small"
check "  ... as a single PUT" single_put "$T/stdin-small"
run bash -c 'head -c $((12 << 20)) "$3" | "$1" cp --part-size 5MiB - "$2"' _ "$R2" "$T/stdin-big" "$W/big"
# (The library sizes the parts of a stream of unknown length for the largest
# object, whatever --part-size says, so 12 MiB is one part.)
check "cp - (stdin, 12 MiB, over one part) is a multipart upload" multipart "$T/stdin-big"
"$R2" cp "$T/stdin-big" - >"$W/stdin-big.down" 2>"$W/err"
check "cp to - (stdout) is byte-exact" bash -c 'head -c $((12 << 20)) "$1" | cmp -s - "$2"' _ "$W/big" "$W/stdin-big.down"
run "$R2" cp --content-type text/x-test "$W/small" "$T/typed"
check "--content-type is stored" bash -c 'curl -sS -I "$("$1" presign --method HEAD "$2")" | grep -qi "^content-type: text/x-test"' _ "$R2" "$T/typed"

echo "-- cp: 64 MiB multipart both ways, remote to remote"
run "$R2" cp --threshold 8MiB --part-size 8MiB --concurrency 4 --progress "$W/big" "$T/big"
check "64 MiB multipart upload" ran_ok
check "  ... in 8 parts" multipart_of "$T/big" 8
check "  ... --progress ends with a summary line" err_has "^$T/big: 64\.0 MiB in [0-9.:]+s? \(.*/s\)$"
check "  ... and stdout stays empty" test ! -s "$W/out"
run "$R2" cp --threshold 8MiB --part-size 8MiB "$T/big" "$W/big.down"
check "64 MiB parallel ranged download is byte-exact" same "$W/big" "$W/big.down"
check "  ... and leaves no partial file" test ! -e "$W/big.down.r2-partial"
"$R2" cat --threshold 8MiB --concurrency 3 "$T/big" >"$W/big.cat"
check "64 MiB cat (parallel ranges, in order) is byte-exact" same "$W/big" "$W/big.cat"
run "$R2" cp "$T/small" "$T/copied/small-copy"
check "remote to remote copy (CopyObject)" remote_is "$T/copied/small-copy" "$W/small"
run "$R2" cp --threshold 8MiB --part-size 16MiB "$T/big" "$T/copied/"
check "remote to remote copy of 64 MiB (UploadPartCopy)" remote_is "$T/copied/big" "$W/big"

echo "-- ls"
run "$R2" ls "$T/"
check "ls shows one level: PRE for prefixes" out_has "^ {27}PRE dir/$"
check "  ... and objects as date, size, name" out_has "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +100000 small$"
check "  ... and nothing below a prefix" out_lacks "small-copy"
run "$R2" ls "$T/s"
check "ls with a partial name lists what starts with it" out_lines 3
run "$R2" ls --recursive --human-readable "$T/"
check "ls --recursive shows whole keys" out_has " $P/copied/small-copy$"
check "  ... --human-readable sizes" out_has " 64\.0 MiB $P/big$"

echo "-- presign"
run "$R2" presign "$T/small"
curl -sS -o "$W/presigned" "$(cat "$W/out")"
check "presigned GET fetched by curl is byte-exact" same "$W/small" "$W/presigned"
url=$("$R2" presign --method put --expires 60 "$T/presigned-put")
curl -sS -o /dev/null -X PUT --data-binary @"$W/small" "$url"
check "presigned PUT (--method put) uploads with curl" remote_is "$T/presigned-put" "$W/small"
check "presigned URL carries --expires" grep -q "X-Amz-Expires=60&" <<<"$url"
url=$("$R2" presign --method DELETE "$T/presigned-put")
curl -sS -o /dev/null -X DELETE "$url"
run "$R2" cat "$T/presigned-put"
check "presigned DELETE deletes" failed_with 1 "$T/presigned-put: no such key$"

echo "-- mpu ls / abort"
id=$(signed_curl -X POST "$R2_ENDPOINT/$B/$P/mpu/manual?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
check "an upload made with curl" test -n "$id"
run "$R2" mpu ls "$T/mpu/"
check "mpu ls shows an upload made with a low-level call" out_has "^[0-9-]{10} [0-9:]{8}  $id  $P/mpu/manual$"
run "$R2" mpu abort "$T/mpu/manual" "$id"
check "mpu abort UPLOAD_ID" ran_ok
check "  ... leaves no upload" no_uploads
run "$R2" mpu abort "$T/mpu/manual" "no-such-upload-id"
check "aborting an unknown upload: no such upload" failed_with 1 "$T/mpu/manual upload no-such-upload-id: no such upload$"

# An upload killed outright stays behind; --all clears it. The input comes
# through a FIFO so that the upload is surely in progress when it is killed.
mkfifo "$W/fifo"
"$R2" cp --part-size 5MiB - "$T/mpu/killed" <"$W/fifo" >/dev/null 2>&1 &
pid=$!
exec 3>"$W/fifo"
head -c $((12 << 20)) "$W/big" >&3
wait_for_upload
kill -KILL $pid; wait $pid 2>/dev/null; exec 3>&-
check "kill -9 mid-upload leaves an unfinished upload" test "$(uploads)" -eq 1
run "$R2" mpu abort --all "$T/"
check "mpu abort --all aborts it" out_has "^abort: $T/mpu/killed "
check "  ... and leaves no upload" no_uploads

# Ctrl-C: SIGINT cancels, the library aborts the upload, the exit status is
# 130. (A background job of a script ignores SIGINT, and r2 honours that, so
# the signal is given back its default first, as a terminal's shell would.)
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
    "$R2" cp --part-size 5MiB - "$T/mpu/interrupted" <"$W/fifo" >/dev/null 2>"$W/err" &
pid=$!
exec 3>"$W/fifo"
head -c $((12 << 20)) "$W/big" >&3
wait_for_upload
kill -INT $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -KILL $pid 2>/dev/null  # should SIGINT not have ended it in 10 s
wait $pid; rc=$?; exec 3>&-
check "Ctrl-C (SIGINT) mid-upload: one line, status 130" failed_with 130 "$T/mpu/interrupted: cancelled$"
check "  ... and the upload was aborted" no_uploads
check "  ... and no object was made" missing "$T/mpu/interrupted"

echo "-- rm"
run "$R2" rm "$T/typed"
check "rm one object" out_has "^delete: $T/typed$"
check "  ... deletes it" missing "$T/typed"
# 1003 keys: more than one DeleteObjects batch and more than one listing page.
for i in $(seq 1003); do printf 'upload-file = "%s"\nurl = "%s/%s/%s/many/k%04d"\n' "$W/empty" "$R2_ENDPOINT" "$B" "$P" "$i"; done >"$W/curl.conf"
signed_curl -K "$W/curl.conf" -o /dev/null
run "$R2" ls --recursive "$T/many/"
check "ls --recursive pages through 1003 keys" out_lines 1003
run "$R2" rm --recursive --dry-run "$T/many/"
check "rm --recursive --dry-run lists 1003 keys" out_count "^\(dry run\) delete: " 1003
check "  ... and deletes none" keys_under "$T/many/" 1003
run "$R2" rm --recursive "$T/many/"
check "rm --recursive reports 1003 deletions" out_count "^delete: " 1003
check "  ... and leaves nothing" keys_under "$T/many/" 0

echo "-- errors: one line, non-zero status"
run "$R2" cp "$T/no/such/key" "$W/missing"
check "cp of a missing key" failed_with 1 "$T/no/such/key: no such key$"
check "  ... leaves no local file" test ! -e "$W/missing" -a ! -e "$W/missing.r2-partial"
run "$R2" cat "$T/no/such/key"
check "cat of a missing key" failed_with 1 "$T/no/such/key: no such key$"
run "$R2" cat "http://$B/key"
check "a URL that is not r2://" failed_with 1 "http://$B/key: not a valid remote path"
run "$R2" ls "r2:/$B/key"
check "r2:/ with a slash missing" failed_with 1 "r2:/$B/key: not a valid remote path"
run "$R2" ls "r2://Bad_Bucket/"
check "an invalid bucket name" failed_with 1 "r2://Bad_Bucket/: InvalidBucketName"
run "$R2" cp "$W/nonexistent" "$T/x"
check "a missing local file" failed_with 1 "$W/nonexistent: No such file or directory$"
run "$R2" cp "$W/small" "$W/elsewhere"
check "cp with no remote side" failed_with 1 "one of SOURCE and DESTINATION"
run "$R2" presign --method POST "$T/small"
check "presign with an unsupported method" failed_with 1 ".*GET, PUT, HEAD or DELETE"
run env -u R2_ACCESS_KEY_ID "$R2" ls "$T/"
check "missing credentials name the variable" failed_with 1 "R2_ACCESS_KEY_ID is not set$"
run env -u R2_ALLOW_HTTP "$R2" ls "$T/"
check "http:// without R2_ALLOW_HTTP is refused" failed_with 1 ".*R2_ALLOW_HTTP=1"
run env R2_SECRET_ACCESS_KEY=not-the-secret "$R2" ls "$T/"
check "a wrong secret" failed_with 1 "$T/: SignatureDoesNotMatch"
run "$R2" cp "$W/small"
check "a usage error (status 64)" failed_with 64 "Missing expected argument"
run "$R2" mpu abort "$T/x"
check "mpu abort without UPLOAD_ID or --all" failed_with 64 "give either an UPLOAD_ID or --all"

if [ -n "${R2_TEST_TLS_ENDPOINT:-}" ]; then
    echo "-- TLS"
    run env R2_ENDPOINT="$R2_TEST_TLS_ENDPOINT" R2_CA_BUNDLE="$R2_TEST_CA" "$R2" cp "$W/small" "$T/tls"
    check "cp up over https with R2_CA_BUNDLE" ran_ok
    R2_ENDPOINT="$R2_TEST_TLS_ENDPOINT" R2_CA_BUNDLE="$R2_TEST_CA" "$R2" cat "$T/tls" >"$W/tls.down"
    check "  ... and back" same "$W/small" "$W/tls.down"
    run env R2_ENDPOINT="$R2_TEST_TLS_ENDPOINT" "$R2" ls "$T/"
    check "https with an unknown CA fails" failed_with 1 "$T/: TLS"
fi

check "no output ever showed the secret key" bash -c '! grep -qF -- "$R2_SECRET_ACCESS_KEY" "$1"' _ "$W/all"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

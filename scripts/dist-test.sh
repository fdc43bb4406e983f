#!/usr/bin/env bash
# What a user without Swift does, run with the Swift toolchain hidden: an empty
# directory is bind-mounted over it in a private mount namespace (unshare), and
# the environment is emptied (env -i). Then, against the local test server:
# the C example built with pkg-config against the installed prefix, the wheel
# installed into a fresh venv (presign, put, get), and the CLI from the prefix.
#
#   dist-test.sh DIR WHEEL_DIR   (DIR/prefix from make install; run under
#                                 scripts/test-server.sh, as make dist-test does)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "${1:-}" != --inside ]; then
    : "${R2_TEST_ENDPOINT:?run under scripts/test-server.sh (make dist-test does)}"
    dir=$(realpath "$1"); wheels=$(realpath "$2")
    swift=$(command -v swift) || { echo "dist-test: no swift on PATH: cannot tell which toolchain to hide" >&2; exit 1; }
    toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$swift")")")")  # <toolchain>/usr/bin/swift
    mkdir -p "$dir/empty"
    userns=(); [ "$(id -u)" -eq 0 ] || userns=(--map-root-user)
    keep=(); for v in $(compgen -e | grep '^R2_TEST_'); do keep+=("$v=${!v}"); done
    exec unshare --mount --propagation private "${userns[@]}" -- \
        env -i HOME="$dir" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 "${keep[@]}" \
        bash "$0" --inside "$toolchain" "$dir" "$wheels"
fi

toolchain=$2; dir=$3; wheels=$4
prefix=$dir/prefix
step() { echo "== dist-test (${SECONDS}s): $*"; }
fail() { echo "dist-test: FAIL: $*" >&2; exit 1; }

mount --bind "$dir/empty" "$toolchain"
step "toolchain hidden: $toolchain is empty, no swift on PATH, no Swift library for the loader"
[ -z "$(ls -A "$toolchain")" ] || fail "$toolchain is still visible"
! command -v swift >/dev/null || fail "swift is still on PATH: $(command -v swift)"
# grep reads all its input (no -q): under pipefail, grep -q quitting at the first match
# can kill the writer with SIGPIPE and fail the pipeline although the line was there.
! ldconfig -p | grep libswiftCore >/dev/null || fail "the loader cache has libswiftCore"
for f in "$prefix/lib/libr2.so" "$prefix/bin/r2"; do
    ! ldd "$f" | grep -E 'not found|swift|dispatch' || fail "$f needs a library that is not here"
done

cd "$dir"
step "C: examples/c/demo.c built with pkg-config against $prefix, over TLS"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046  # pkg-config output is a list of flags
cc -std=c99 -Wall -Werror "$ROOT/examples/c/demo.c" $(pkg-config --cflags --libs r2 libcurl) -o demo
ldd ./demo | grep "$prefix/lib/libr2.so" >/dev/null || fail "demo does not load $prefix/lib/libr2.so"
R2_ENDPOINT=$R2_TEST_TLS_ENDPOINT R2_CA_BUNDLE=$R2_TEST_CA R2_ACCESS_KEY_ID=$R2_TEST_ACCESS_KEY_ID \
    R2_SECRET_ACCESS_KEY=$R2_TEST_SECRET_ACCESS_KEY R2_DEMO_BUCKET=$R2_TEST_BUCKET ./demo > demo.out ||
    { cat demo.out; fail "the C example failed"; }

step "Python: the wheel in a fresh venv, no R2_LIBRARY"
# A venv without pip of its own (quicker), filled by the repository venv's pip.
python3 -m venv --without-pip venv
"$ROOT/.venv/bin/python" -m pip --python venv/bin/python install -q --no-index --disable-pip-version-check "$wheels"/r2-*.whl
venv/bin/python - <<'PY' || fail "the Python check failed"
import os, time
t0 = time.perf_counter()
import r2
client = r2.Client(endpoint=os.environ["R2_TEST_ENDPOINT"], allow_http=True,
                   access_key_id=os.environ["R2_TEST_ACCESS_KEY_ID"],
                   secret_access_key=os.environ["R2_TEST_SECRET_ACCESS_KEY"])
loaded = time.perf_counter() - t0
path = r2.load_library().path
assert "/venv/lib/" in path and path.endswith("/site-packages/r2/libr2.so"), path
bucket = os.environ["R2_TEST_BUCKET"]
url = client.presign("GET", bucket, "dist-test/hello.txt", expires=60)
assert "X-Amz-Signature=" in url, url
client.put(bucket, "dist-test/hello.txt", b"hello without swift")
assert client.get(bucket, "dist-test/hello.txt").body == b"hello without swift"
client.delete(bucket, "dist-test/hello.txt")
client.close()
print(f"import r2 + Client: {loaded * 1000:.0f} ms, library {path}")
PY

step "CLI: $prefix/bin/r2"
export R2_ENDPOINT=$R2_TEST_ENDPOINT R2_ALLOW_HTTP=1 R2_ACCESS_KEY_ID=$R2_TEST_ACCESS_KEY_ID \
    R2_SECRET_ACCESS_KEY=$R2_TEST_SECRET_ACCESS_KEY
head -c 300000 /dev/urandom > blob
"$prefix/bin/r2" cp --no-progress blob "r2://$R2_TEST_BUCKET/dist-test/blob"
"$prefix/bin/r2" ls "r2://$R2_TEST_BUCKET/dist-test/" | grep ' blob$' >/dev/null || fail "r2 ls does not list the upload"
"$prefix/bin/r2" cat "r2://$R2_TEST_BUCKET/dist-test/blob" | cmp - blob || fail "r2 cat differs from the upload"
"$prefix/bin/r2" rm "r2://$R2_TEST_BUCKET/dist-test/blob"
echo "dist-test: passed (C example, Python wheel, CLI, with $toolchain hidden)"

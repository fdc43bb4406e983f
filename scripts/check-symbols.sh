#!/usr/bin/env bash
# Checks that a libr2.so exports exactly the functions r2.h declares: every
# R2_API function, and no other global symbol (the Swift runtime linked into
# it must stay private), and that it needs no Swift runtime library.
# usage: check-symbols.sh LIB HEADER
set -euo pipefail
lib=$1; header=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $3}' | sort -u > "$tmp/exported"
grep -o 'R2_API[^;]*' "$header" | grep -o 'r2_[a-z0-9_]*[[:space:]]*(' | tr -d ' (' | sort -u > "$tmp/declared"
if ! diff -u --label "declared in $header" --label "exported by $lib" "$tmp/declared" "$tmp/exported"; then
    echo "check-symbols: $lib must export exactly the R2_API functions of $header" >&2
    exit 1
fi
if readelf -d "$lib" | grep -E 'NEEDED.*\[lib(swift|dispatch|BlocksRuntime|Foundation)'; then
    echo "check-symbols: $lib needs a Swift runtime library (build with -static-stdlib)" >&2
    exit 1
fi
echo "check-symbols: $lib exports the $(wc -l < "$tmp/declared") functions of $header and nothing else"

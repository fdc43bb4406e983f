#!/usr/bin/env bash
# Emits the C declarations of Sources/R2CABI with swiftc and composes a clean
# include/r2.h from them (scripts/gen_header.py). usage: header.sh CONFIG OUT
set -euo pipefail
cd "$(dirname "$0")/.."
config="$1"; out="$2"
mkdir -p .build/r2-c
modules=".build/$config/Modules"
[ -d "$modules" ] || modules=".build/$config"
# SwiftPM names the package after its directory (as an identifier: "wt-res" is
# "wt_res"); package-level symbols need the same name.
package_name="$(basename "$PWD" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9_]/_/g')"
swiftc -typecheck -parse-as-library -module-name R2CABI -package-name "$package_name" \
    -I "$modules" -I Sources/CR2Types/include \
    -Xcc -fmodule-map-file=Sources/CCurl/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CCrypto/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CExpat/module.modulemap \
    Sources/R2CABI/*.swift -emit-clang-header-path .build/r2-c/r2-emitted.h
python3 scripts/gen_header.py .build/r2-c/r2-emitted.h Sources/CR2Types/include/r2_types.h "$out" Sources/R2CABI/*.swift

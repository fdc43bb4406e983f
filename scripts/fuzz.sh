#!/usr/bin/env bash
# Builds and runs the libFuzzer harness (Tests/Fuzz/FuzzTargets.swift).
#
#   scripts/fuzz.sh build            builds .build/fuzz/fuzz_r2 (Sources/R2 + the harness, one module,
#                                    -sanitize=fuzzer,address: the Swift parsers are instrumented)
#   scripts/fuzz.sh run SECONDS      runs every target for SECONDS each (FUZZ_TARGETS narrows the list),
#                                    seeded from Tests/Fuzz/corpus/<target>; new inputs go to
#                                    .build/fuzz/corpus/<target>, crashes to .build/fuzz/crashes/
#   scripts/fuzz.sh corpus           runs every seed of every target once (the regression pass)
#
# Prints executions per target and the total; exits non-zero on any crash or property violation.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build/fuzz
BIN=$OUT/fuzz_r2
SEEDS=Tests/Fuzz/corpus

build() {
    mkdir -p "$OUT"
    local sources=(Sources/R2/*.swift Sources/R2/*/*.swift Tests/Fuzz/FuzzTargets.swift)
    local newest
    newest=$(ls -t "${sources[@]}" | head -n 1)
    if [ -x "$BIN" ] && [ "$BIN" -nt "$newest" ]; then return; fi
    echo "fuzz: building $BIN"
    local t0=$SECONDS
    swiftc -sanitize=fuzzer,address -O -parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny \
        -module-name R2 -package-name r2 -module-cache-path "$OUT/module-cache" \
        -I Sources/CCurl -I Sources/CCrypto -I Sources/CExpat -I Sources/CR2Types/include \
        "${sources[@]}" -o "$BIN"
    echo "fuzz: built in $((SECONDS - t0)) s"
}

targets() {
    if [ -n "${FUZZ_TARGETS:-}" ]; then echo $FUZZ_TARGETS; else sed -n 's/^    ("\([a-z0-9-]*\)",.*/\1/p' Tests/Fuzz/FuzzTargets.swift; fi
}

# run_target NAME ARGS...: one libFuzzer run; prints "NAME: N executions in S s".
run_target() {
    local name=$1; shift
    local log=$OUT/logs/$name.log
    mkdir -p "$OUT/corpus/$name" "$OUT/crashes" "$OUT/logs" "$SEEDS/$name"
    local rc=0 dict=()
    case $name in xml-*) dict=(-dict=Tests/Fuzz/dict/xml.dict);; cassette) dict=(-dict=Tests/Fuzz/dict/json.dict);;
        *) [ -f "Tests/Fuzz/dict/$name.dict" ] && dict=(-dict="Tests/Fuzz/dict/$name.dict");; esac
    R2_FUZZ_TARGET=$name "$BIN" "$OUT/corpus/$name" "$SEEDS/$name" -artifact_prefix="$OUT/crashes/$name-" \
        -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${dict[@]}" "$@" >"$log" 2>&1 || rc=$?
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    runs=${runs:-0}
    total=$((total + runs))
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        echo "FAIL $name (exit $rc): see $log"; grep -m 5 -E 'ERROR|property violated|Fatal|deadly|SUMMARY' "$log" || true
        ls "$OUT/crashes/$name-"* 2>/dev/null || true
    else
        printf '%-32s %12d executions  %s\n' "$name" "$runs" "$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1 s/p' "$log")"
    fi
}

# The Swift runtime's own crash handler reads memory ASan flags; libFuzzer reports crashes itself.
export SWIFT_BACKTRACE=enable=no
total=0; failed=0
case "${1:-}" in
    build) build ;;
    run)
        build
        seconds=${2:-60}
        for t in $(targets); do run_target "$t" -max_total_time="$seconds"; done
        echo "fuzz: $total executions in total ($seconds s per target), $failed failed"
        test $failed -eq 0 ;;
    corpus)
        build
        for t in $(targets); do run_target "$t" -runs=0; done
        echo "fuzz corpus: $total inputs run, $failed failed"
        test $failed -eq 0 ;;
    *) echo "usage: scripts/fuzz.sh build | run SECONDS | corpus"; exit 2 ;;
esac

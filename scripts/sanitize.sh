#!/usr/bin/env bash
# The C test suites against a sanitizer build of libr2, and (thread) the Swift tests under TSan.
#
#   scripts/sanitize.sh address   ASan + UBSan: libr2 built with ASan in .build/asan, the C tests
#                                 built with -fsanitize=address,undefined, run against a local server.
#                                 (swiftc has no -sanitize=undefined on Linux; Swift code traps on
#                                 overflow, out-of-bounds and bad unwraps itself in -O builds.)
#   scripts/sanitize.sh thread    TSan: `swift test --sanitize=thread` (scratch .build/tsan), then
#                                 libr2 and the C tests that use threads built with -fsanitize=thread
#
# The C tests run with small sizes (SAN_BIG_MIB, SAN_PROXY_MIB) because every access is checked.
# Any sanitizer report fails the run (halt_on_error / exitcode), and there are no suppressions.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
mode=${1:-}
case $mode in
    address) scratch=.build/asan; swift_flags=(--sanitize=address); cflags=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer) ;;
    # The toolchain's TSan runtime intercepts libdispatch, so a C program links it (and its blocks runtime).
    thread) scratch=.build/tsan; swift_flags=(--sanitize=thread)
        cflags=(-fsanitize=thread -L/opt/swift/usr/lib/swift/linux -ldispatch -lBlocksRuntime -Wl,-rpath,/opt/swift/usr/lib/swift/linux) ;;
    *) echo "usage: scripts/sanitize.sh address|thread"; exit 2 ;;
esac
OUT=$scratch/c
mkdir -p "$OUT"
t0=$SECONDS

# Swift's runtime crash handler reads memory the sanitizers flag; they report crashes themselves.
export SWIFT_BACKTRACE=enable=no
# detect_leaks=0: the leak checker cannot follow the Swift runtime's metadata caches and
# the cached handles that live until exit (libcurl's global state, the handle pools' keep-alive
# connections, thread-locals) and reports them as leaks; use-after-free, overflows and UB are on.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Tests/Sanitizers/tsan.supp explains each suppression (Swift's Mutex is invisible to TSan on Linux).
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/Tests/Sanitizers/tsan.supp

if [ "$mode" = thread ]; then
    # The Swift suites: transfer manager (parts on worker threads, progress, cancellation
    # from another task), retries and the breaker, replay; with a server, ServerTests too.
    echo "== swift test --sanitize=thread"
    # largeListingIsFast is skipped: it times the parser, and TSan's instrumentation (in a debug
    # build) makes it several times slower; it is not a concurrency test.
    bash scripts/test-server.sh run "$scratch/server-swift" -- \
        swift test --scratch-path "$scratch" --sanitize=thread --skip largeListingIsFast
fi

echo "== libr2 with ${swift_flags[*]}"
swift build --product r2 -c release --scratch-path "$scratch" "${swift_flags[@]}"
LIBDIR=$(swift build --product r2 -c release --scratch-path "$scratch" "${swift_flags[@]}" --show-bin-path)
CC=/opt/swift/usr/bin/clang   # the toolchain's clang: its sanitizer runtime is the one libr2 uses
link=(-Iinclude -L"$LIBDIR" -lr2 -Wl,-rpath,"$LIBDIR")
build_c() {  # build_c NAME [extra flags]
    local name=$1; shift
    $CC -std=c99 -Wall -Wextra -O1 -g "${cflags[@]}" -pthread "Tests/CABITests/$name.c" "${link[@]}" "$@" -o "$OUT/$name"
}
if [ "$mode" = address ]; then
    for t in test_abi test_resilience test_objects test_transfer test_proxy; do build_c $t -lcrypto; done
    bash scripts/test-server.sh run "$scratch/server" -- bash -c '
        set -e; OUT='"$OUT"'
        echo "== test_abi"; $OUT/test_abi
        echo "== test_resilience"; $OUT/test_resilience
        echo "== test_objects (http)"; R2_TEST_BIG_MIB='"${SAN_BIG_MIB:-32}"' $OUT/test_objects "$R2_TEST_ENDPOINT"
        echo "== test_objects (tls)"; $OUT/test_objects "$R2_TEST_TLS_ENDPOINT" "$R2_TEST_CA"
        echo "== test_transfer"; R2_TEST_BIG_MIB='"${SAN_BIG_MIB:-32}"' $OUT/test_transfer "$R2_TEST_ENDPOINT"
        echo "== test_proxy"; R2_TEST_PROXY_MIB='"${SAN_PROXY_MIB:-256}"' $OUT/test_proxy "$R2_TEST_ENDPOINT"'
else
    # The C tests with threads: callers on several threads at once (abi, objects) and the
    # transfer manager's worker threads (transfer: parallel parts, cancellation, resume).
    for t in test_abi test_objects test_transfer; do build_c $t -lcrypto; done
    bash scripts/test-server.sh run "$scratch/server" -- bash -c '
        set -e; OUT='"$OUT"'
        echo "== test_abi"; $OUT/test_abi
        echo "== test_objects (http)"; R2_TEST_BIG_MIB='"${SAN_BIG_MIB:-32}"' $OUT/test_objects "$R2_TEST_ENDPOINT"
        echo "== test_transfer"; R2_TEST_BIG_MIB='"${SAN_BIG_MIB:-32}"' $OUT/test_transfer "$R2_TEST_ENDPOINT"'
fi
echo "sanitize $mode: clean ($((SECONDS - t0)) s)"

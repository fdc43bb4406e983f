# r2: build, header, tests, demo. `make test` and `make demo` do all set-up.
SHELL := /bin/bash
PREFIX ?= /usr/local
CONFIG ?= release
BUILD := .build/$(CONFIG)
LIB := $(BUILD)/libr2.so
OUT := .build/r2-c
CC ?= cc
CFLAGS_STRICT := -std=c99 -Wall -Wextra -Werror -pedantic -O2
CLINK := -Iinclude -L$(BUILD) -lr2 -Wl,-rpath,$(abspath $(BUILD))
# The SigV4 vectors and XML fixtures (copied from the project's shared test
# data, with their README, credits and licences).
TESTDATA := Tests/Fixtures/testdata
FILE ?=
TYPE ?=

NODE_DIR := bindings/node
NODE_ADDON := $(NODE_DIR)/build/r2.node

.PHONY: node node-test node-integration node-types node-pack node-bench bench-peers
.PHONY: async-test bench-async python-types
.PHONY: all build header check-header gen-header-test check check-ffi check-symbols abi-check abi-update abi-check-test python-unit dist wheel dist-test lib ctests hostile-tests vectors parse-xml xml-fixtures swift-test server-tests integration test demo install setup clean cli cli-test python-test python-integration python-ffi python-bench bench-resilience fuzz fuzz-smoke sanitize tsan
.PHONY: python-bench-aio

all: build

setup:
	@bash scripts/setup.sh

# libr2.so and the CLI carry the Swift runtime (linked in statically), so they
# run where Swift is not installed; libr2.so exports only r2_* (scripts/libr2.map).
# lld, unlike gold, also leaves the symbols it made local out of .dynsym.
SWIFT_STATIC := -Xswiftc -static-stdlib -Xswiftc -use-ld=lld
build lib:
	swift build -c $(CONFIG) --product r2 $(SWIFT_STATIC) -Xlinker --version-script=$(abspath scripts/libr2.map)

# The command-line tool (Sources/R2CLI), runnable from here as ./bin/r2.
CLI := $(BUILD)/r2-cli
cli:
	swift build -c $(CONFIG) --product r2-cli $(SWIFT_STATIC)
	@mkdir -p bin && ln -sfn ../$(CLI) bin/r2

# Needs a running server, like server-tests (which ends with it).
cli-test: cli
	bash Tests/cli/test_cli.sh ./bin/r2

# Regenerates what is derived from r2_types.h's status enum and version (the
# Swift, Python and Node status tables: scripts/gen_status.py), then
# include/r2.h from the Swift sources (scripts/gen_header.py), which refuses an
# exported function whose doc comment lacks a part (README, "The header").
header:
	@python3 scripts/gen_status.py
	@$(MAKE) --no-print-directory build
	@bash scripts/header.sh $(CONFIG) include/r2.h

# Fails when include/r2.h or a table derived from r2_types.h is out of date.
check-header: build
	@python3 scripts/gen_status.py --check
	@bash scripts/header.sh $(CONFIG) $(OUT)/r2.h.new
	@diff -u include/r2.h $(OUT)/r2.h.new || { echo "include/r2.h is out of date: run 'make header' and commit it"; exit 1; }
	@echo "include/r2.h is up to date"

# The header generator's own proof (scripts/test_gen_header.py): doc comments
# it must refuse, residue it must not leave, the groups' order.
gen-header-test:
	@python3 scripts/test_gen_header.py

$(OUT):
	@mkdir -p $(OUT)

# The header compiles warning-free as C99 (with and without R2_EXPERIMENTAL) and C++17; included twice in one unit.
header-compile: | $(OUT)
	printf '#include "r2.h"\n#include "r2.h"\nint main(void) { return r2_version_number() == R2_VERSION_NUMBER ? 0 : 1; }\n' > $(OUT)/hdr.c
	$(CC) $(CFLAGS_STRICT) -Iinclude -c $(OUT)/hdr.c -o $(OUT)/hdr.o
	$(CC) $(CFLAGS_STRICT) -DR2_EXPERIMENTAL -Iinclude -c $(OUT)/hdr.c -o $(OUT)/hdr-experimental.o
	cp $(OUT)/hdr.c $(OUT)/hdr.cpp
	c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -c $(OUT)/hdr.cpp -o $(OUT)/hdr-cpp.o

$(OUT)/vectors: Tests/CABITests/vectors.c Tests/CABITests/json.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/vectors.c $(CLINK) -o $@

$(OUT)/parse_xml: Tests/CABITests/parse_xml.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/parse_xml.c $(CLINK) -o $@

$(OUT)/test_abi: Tests/CABITests/test_abi.c Tests/CABITests/check.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/test_abi.c $(CLINK) -o $@

# Every entry point under misuse: NULL/freed/foreign handles, bad UTF-8, SIZE_MAX, option versions 0 and 999.
$(OUT)/test_misuse: Tests/CABITests/test_misuse.c Tests/CABITests/check.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/test_misuse.c $(CLINK) -o $@

# Results that can grow: a version 1 caller's structs between guard bytes (replays Tests/Fixtures/result-versions.json).
$(OUT)/test_result_versions: Tests/CABITests/test_result_versions.c Tests/CABITests/check.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_result_versions.c $(CLINK) -o $@

$(OUT)/test_resilience: Tests/CABITests/test_resilience.c Tests/CABITests/check.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_resilience.c $(CLINK) -o $@

$(OUT)/test_objects: Tests/CABITests/test_objects.c Tests/CABITests/check.h Tests/CABITests/measure.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/test_objects.c $(CLINK) -lcrypto -o $@

$(OUT)/test_transfer: Tests/CABITests/test_transfer.c Tests/CABITests/check.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_transfer.c $(CLINK) -lcrypto -o $@

$(OUT)/test_rules: Tests/CABITests/test_rules.c Tests/CABITests/check.h Tests/CABITests/control.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_rules.c $(CLINK) -o $@

$(OUT)/test_proxy: Tests/CABITests/test_proxy.c Tests/CABITests/check.h Tests/CABITests/control.h Tests/CABITests/fault_proxy.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_proxy.c $(CLINK) -lcrypto -o $@

# The asynchronous C ABI against the server and through the fault proxy (issue 12).
$(OUT)/test_async: Tests/CABITests/test_async.c Tests/CABITests/check.h Tests/CABITests/control.h Tests/CABITests/fault_proxy.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/test_async.c $(CLINK) -o $@

# The asynchronous C example (an event loop keeping requests in flight); compiled by make check, run by server-tests.
$(OUT)/async_example: examples/c/async.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread examples/c/async.c $(CLINK) -o $@

$(OUT)/bench_async: Tests/CABITests/bench_async.c Tests/CABITests/measure.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/bench_async.c $(CLINK) -o $@

# One thread keeps ASYNC_IN_FLIGHT (10 000) 4 KiB GETs in flight through the async C ABI, ASYNC_TOTAL in all,
# against a local server: threads in the process, peak RSS per in-flight request, ops/s, CPU per op.
ASYNC_IN_FLIGHT ?= 10000
ASYNC_TOTAL ?= 50000
bench-async: build $(OUT)/bench_async
	@bash scripts/test-server.sh run .build/bench-async-server -- bash -c '$(OUT)/bench_async "$$R2_TEST_ENDPOINT" $(ASYNC_IN_FLIGHT) $(ASYNC_TOTAL)'

$(OUT)/bench_sign: Tests/CABITests/bench_sign.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/bench_sign.c $(CLINK) -lcrypto -o $@

$(OUT)/demo: examples/c/demo.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) examples/c/demo.c $(CLINK) $$(pkg-config --cflags --libs libcurl) -o $@

# make vectors FILE=path/to/vectors.json
vectors: build
	@$(MAKE) --no-print-directory $(OUT)/vectors
	@test -n "$(FILE)" || { echo "usage: make vectors FILE=<path to a sigv4 vectors JSON file>"; exit 2; }
	@$(OUT)/vectors "$(FILE)"

# make parse-xml TYPE=ListObjectsV2 FILE=path/to/body.xml
parse-xml: build
	@$(MAKE) --no-print-directory $(OUT)/parse_xml
	@test -n "$(TYPE)" -a -n "$(FILE)" || { echo "usage: make parse-xml TYPE=<ListObjectsV2|Error|InitiateMultipartUpload|CompleteMultipartUpload|ListParts|ListMultipartUploads|CopyObject|DeleteResult> FILE=<path>"; exit 2; }
	@$(OUT)/parse_xml "$(TYPE)" "$(FILE)"

# Every XML fixture ($(TESTDATA)/xml) through parse_xml: the type comes from the
# sidecar's operation (an error status means Error), and the exit status must
# be 0, or 1 for the bodies that are not one of the types (ListBuckets,
# ListObjects v1, moto's HTML 500, empty bodies) and for moto's ill-formed
# no-encoding listing; adversarial cases follow adversarial/manifest.json.
xml-fixtures: build
	@$(MAKE) --no-print-directory $(OUT)/parse_xml
	@fail=0; n=0; x=$(TESTDATA)/xml; \
	check() { n=$$((n+1)); $(OUT)/parse_xml "$$1" "$$2" >/dev/null 2>$(OUT)/parse_xml.err; rc=$$?; \
		if [ $$rc -ne $$3 ]; then fail=$$((fail+1)); echo "FAIL $$2 as $$1: exit $$rc, want $$3"; cat $(OUT)/parse_xml.err; fi; }; \
	for j in $$x/seaweedfs/*.json $$x/moto/*.json; do \
		op=$$(sed -n 's/^ *"operation": "\([A-Za-z0-9]*\)".*/\1/p' $$j); \
		status=$$(sed -n 's/^ *"status": \([0-9]*\).*/\1/p' $$j); \
		body=$$(dirname $$j)/$$(sed -n 's/^ *"body_file": "\([^"]*\)".*/\1/p' $$j); \
		want=0; \
		case $$status:$$op in \
			[3-5]??:*) type=Error;; *:ListObjectsV2) type=ListObjectsV2;; \
			*:CreateMultipartUpload) type=InitiateMultipartUpload;; *:DeleteObjects) type=DeleteResult;; \
			*:CompleteMultipartUpload|*:ListParts|*:ListMultipartUploads|*:CopyObject) type=$$op;; \
			*) type=ListObjectsV2; want=1;; \
		esac; \
		if [ ! -s "$$body" ] || [ "$${body##*.}" = html ]; then want=1; fi; \
		case $$j in */moto/list-objects-v2-no-encoding-special-keys.json) want=1;; esac; \
		check $$type $$body $$want; \
	done; \
	cases=$$(python3 -c 'import json,sys; [print(c["file"], c["expected"]) for c in json.load(open(sys.argv[1]))["cases"]]' $$x/adversarial/manifest.json) || exit 1; \
	while read -r f expected; do \
		type=ListObjectsV2; grep -q '<Error>' $$x/adversarial/$$f && type=Error; \
		case $$expected in parse) want=0;; reject) want=1;; *) want=9;; esac; \
		check $$type $$x/adversarial/$$f $$want; \
	done <<< "$$cases"; \
	echo "xml-fixtures: $$n checked, $$fail failed"; test $$fail -eq 0

ctests: build header-compile $(OUT)/async_example $(OUT)/test_abi $(OUT)/test_misuse $(OUT)/test_resilience $(OUT)/test_result_versions $(OUT)/vectors
	$(OUT)/test_abi
	$(OUT)/test_misuse
	$(OUT)/test_resilience
	$(OUT)/test_result_versions Tests/Fixtures/result-versions.json
	@for f in $(TESTDATA)/sigv4/*.json Tests/Fixtures/sigv4-presign-operations.json; do \
		echo "== vectors $$f"; $(OUT)/vectors "$$f" | tail -n 1; test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

swift-test:
	swift test

SERVER_DIR := .build/test-server
BIG_MIB ?= 1024
PROXY_MIB ?= 256

# The R2 rules checker (Tests/RulesChecker): runs a command with R2_TEST_ENDPOINT
# pointing at a proxy to the local server that fails the run on any request R2
# would refuse (two checksums, aws-chunked, no Content-Length or
# x-amz-content-sha256, unequal parts, unsupported or empty headers).
RULES = python3 Tests/RulesChecker/rules_checker.py --upstream "$${R2_TEST_ENDPOINT\#http://}" run --

# Needs a running server (R2_TEST_* from scripts/test-server.sh): the C object
# tests over http (with a cassette and a streamed 1 GiB object) and the transfer
# tests, both behind the R2 rules checker, the object tests over TLS, the R2
# rules tests (test_rules.c, behind the checker), the fault-injecting proxy
# tests (a 256 MiB download through resets, a stall, SlowDown, reset uploads),
# then the Swift tests, which replay the C cassette and test against the server;
# then the CLI, Python and Node suites.
server-tests: build $(OUT)/test_objects $(OUT)/test_transfer $(OUT)/test_rules $(OUT)/test_proxy $(OUT)/test_async $(OUT)/async_example
	R2_TEST_CASSETTE=$(abspath $(OUT))/c-session.json R2_TEST_BIG_MIB=$(BIG_MIB) $(RULES) bash -c '$(OUT)/test_objects "$$R2_TEST_ENDPOINT"'
	$(OUT)/test_objects "$$R2_TEST_TLS_ENDPOINT" "$$R2_TEST_CA"
	R2_TEST_BIG_MIB=$(BIG_MIB) $(RULES) bash -c '$(OUT)/test_transfer "$$R2_TEST_ENDPOINT"'
	$(RULES) $(OUT)/test_rules
	R2_TEST_PROXY_MIB=$(PROXY_MIB) $(OUT)/test_proxy "$$R2_TEST_ENDPOINT"
	$(OUT)/test_async "$$R2_TEST_ENDPOINT"
	R2_ENDPOINT="$$R2_TEST_ENDPOINT" R2_ALLOW_HTTP=1 R2_ACCESS_KEY_ID="$$R2_TEST_ACCESS_KEY_ID" \
		R2_SECRET_ACCESS_KEY="$$R2_TEST_SECRET_ACCESS_KEY" R2_DEMO_BUCKET=r2-demo $(OUT)/async_example
	R2_TEST_C_CASSETTE=$(abspath $(OUT))/c-session.json swift test
	$(MAKE) --no-print-directory cli-test
	$(MAKE) --no-print-directory python-test
	$(MAKE) --no-print-directory node-test

# Only the asynchronous C tests, inside a local server of their own.
async-test: build $(OUT)/test_async
	@bash scripts/test-server.sh run $(SERVER_DIR) -- bash -c '$(OUT)/test_async "$$R2_TEST_ENDPOINT"'

# Starts the local SeaweedFS, runs server-tests, stops it (also on failure).
integration: build
	@bash scripts/test-server.sh run $(SERVER_DIR) -- $(MAKE) --no-print-directory server-tests

# The Python binding's suite (bindings/python/tests), inside a running server
# like server-tests, behind the R2 rules checker: pytest and botocore go into .venv. R2_TEST_STRICT=1 turns
# any skip into a failure. PYTEST_ARGS passes options, e.g. PYTEST_ARGS='-k oracle'.
PYTEST_ARGS ?=
python-test: build
	@test -x .venv/bin/python || bash scripts/setup.sh
	@.venv/bin/python -c 'import pytest, botocore' 2>/dev/null || \
		.venv/bin/pip install -q --disable-pip-version-check pytest botocore
	R2_TEST_STRICT=1 R2_TEST_BIG_MIB=$(BIG_MIB) $(RULES) bash -c 'cd bindings/python && ../../.venv/bin/python -m pytest -q $(PYTEST_ARGS)'

# The Python suite alone, with its own server (ports from R2_TEST_PORT /
# R2_TEST_TLS_PORT, else the script's defaults).
python-integration: build
	@bash scripts/test-server.sh run $(SERVER_DIR)-python -- $(MAKE) --no-print-directory python-test

# Python benchmarks vs botocore/boto3/awscrt (installed into .venv) with their own server.
python-bench: build
	@test -x .venv/bin/python || bash scripts/setup.sh
	@.venv/bin/python -c 'import boto3, awscrt' 2>/dev/null || \
		.venv/bin/pip install -q --disable-pip-version-check boto3 botocore awscrt
	@bash scripts/test-server.sh run .build/bench-server-python -- .venv/bin/python bindings/python/bench.py $(BENCH_ARGS)

# r2.aio.Client (500 GETs of 4 KiB in flight on r2's engine, one event loop) beside r2.Client on 16
# threads, in one run, with its own server: ops/s, client CPU per op, most threads in the process.
# BENCH_AIO_ARGS passes options (--op get|put, --gets, --size, --in-flight, --threads, --rounds).
BENCH_AIO_ARGS ?=
python-bench-aio: build
	@test -x .venv/bin/python || bash scripts/setup.sh
	@bash scripts/test-server.sh run .build/bench-server-aio -- .venv/bin/python bindings/python/bench_aio.py $(BENCH_AIO_ARGS)

# Regenerates bindings/python/r2/_ffi.py from include/r2.h (tests fail when they differ).
python-ffi:
	python3 bindings/python/tools/gen_ffi.py

$(OUT)/bench_transfer: Tests/CABITests/bench_transfer.c Tests/CABITests/measure.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/bench_transfer.c $(CLINK) -o $@

$(OUT)/bench_list: Tests/CABITests/bench_list.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/bench_list.c $(CLINK) -lexpat -o $@

# Signing and XML parsing (no server), then transfers against a local server over http.
bench: setup build $(OUT)/bench_sign $(OUT)/bench_list $(OUT)/bench_transfer
	$(OUT)/bench_sign
	$(OUT)/bench_list
	@bash scripts/test-server.sh run .build/bench-server -- bash -c '$(OUT)/bench_transfer "$$R2_TEST_ENDPOINT"'

# libFuzzer over every parser of untrusted bytes (Tests/Fuzz, scripts/fuzz.sh): each target
# for FUZZ_SECONDS (default 75, about 18 minutes: 10 M executions here), executions per target and the total.
# FUZZ_TARGETS="json headers" narrows the list. Crashes land in .build/fuzz/crashes.
FUZZ_SECONDS ?= 75
fuzz:
	bash scripts/fuzz.sh run $(FUZZ_SECONDS)

# The short pass in `make test`: every seed and past crash of every target once,
# then 2 s of fuzzing each.
fuzz-smoke:
	bash scripts/fuzz.sh corpus
	bash scripts/fuzz.sh run 2

# The C suites (abi, resilience, objects, transfer, proxy) against an ASan build of libr2
# (C side also UBSan) with a local server; sizes from SAN_BIG_MIB (32) / SAN_PROXY_MIB (256:
# test_proxy counts 6 resets, one every 40 MiB).
sanitize: setup
	bash scripts/sanitize.sh address

# ThreadSanitizer: swift test --sanitize=thread with a local server, then a TSan libr2
# under the C tests that use threads.
tsan: setup
	bash scripts/sanitize.sh thread

# Hostile servers (Tests/Hostile/hostile.py, issue 15): a loopback server that
# misbehaves on purpose (wrong Content-Range, NUL keys, endless bodies, 1 byte/s,
# huge heads, redirects, day-long Retry-After, bad part ETags, slowloris), one
# child process per case; each must end in its typed error, in time, in bounded
# memory, leaking nothing. About 20 s; needs no S3 server.
hostile-tests: build
	@test -x .venv/bin/python || bash scripts/setup.sh
	.venv/bin/python Tests/Hostile/hostile.py

# The tier that needs no server, first so that mistakes fail in a minute (once
# built): header and Python FFI drift, the exported symbols, the C ABI tests and
# SigV4 vectors (ctests), the XML fixtures, the Python tests that need no server,
# the Swift unit tests (their server suites are off without R2_TEST_ENDPOINT);
# and the ABI guard with its own test.
check: build
	@$(MAKE) --no-print-directory check-header gen-header-test check-ffi check-symbols abi-check abi-check-test ctests xml-fixtures python-unit python-types swift-test

# Fails if bindings/python/r2/_ffi.py differs from what include/r2.h generates.
check-ffi:
	@python3 bindings/python/tools/gen_ffi.py --check

# libr2.so exports exactly the functions of r2.h and needs no Swift library.
check-symbols: build
	@bash scripts/check-symbols.sh $(LIB) include/r2.h

# The ABI guard (scripts/abi.py): describes libr2's ABI (exported symbols, function and
# callback prototypes, version macros, enum values, each public struct's size, alignment
# and field offsets, measured by a C program compiled against r2.h) and fails on an
# incompatible change from the checked-in abi/r2.abi.txt, unless R2_VERSION_MAJOR changed.
# New symbols, enum constants and fields appended to a versioned struct (with its
# R2_*_VERSION bumped) pass. `make abi-update` rewrites the baseline on purpose.
ABI_BASELINE := abi/r2.abi.txt
abi-check: build | $(OUT)
	@python3 scripts/abi.py dump --header include/r2.h --lib $(LIB) --out $(OUT)/r2.abi.txt
	@python3 scripts/abi.py compare $(ABI_BASELINE) $(OUT)/r2.abi.txt

abi-update: build
	@python3 scripts/abi.py dump --header include/r2.h --lib $(LIB) --out $(ABI_BASELINE)
	@echo "$(ABI_BASELINE) rewritten: commit it with the change that explains why"

# The guard's own proof (scripts/test_abi.py): edits copies of r2.h and of the symbol
# list, one incompatible change or compatible growth at a time, and checks the verdict.
abi-check-test: build
	@python3 scripts/test_abi.py include/r2.h $(LIB)

# The Python tests that need no server (FFI, library lookup, errors).
python-unit: build
	@test -x .venv/bin/python || bash scripts/setup.sh
	@.venv/bin/python -c 'import pytest' 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check pytest botocore
	cd bindings/python && R2_TEST_STRICT=1 ../../.venv/bin/python -m pytest -q tests/test_ffi.py tests/test_library.py tests/test_errors.py tests/test_signer.py tests/test_types.py tests/test_managed.py

# The Python package type-checks (mypy, strict on the package's own annotations):
# the keyword-only options mean a misspelt option is an error here, not at run time.
python-types:
	@.venv/bin/python -c 'import mypy' 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check mypy
	cd bindings/python && ../../.venv/bin/python -m mypy r2
	@mkdir -p $(OUT) && printf 'import r2\nr2.Client.from_env().put("b", "k", b"x", content_typ="text/plain")\n' > $(OUT)/misspelt_option.py
	@cd bindings/python && if ../../.venv/bin/python -m mypy $(CURDIR)/$(OUT)/misspelt_option.py >/dev/null; then \
		echo "python-types: mypy accepted a misspelt option (content_typ)"; exit 1; \
	else echo "python-types: a misspelt option is a type error (as it should be)"; fi

# Everything, from a fresh machine: packages, build, the no-server tier, then
# the hostile servers, a short fuzzing pass, the tests against a local server, then the install and
# wheel without Swift.
test: setup
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory hostile-tests fuzz-smoke integration dist-test

# The C example, then a large round trip with ./bin/r2 (examples/cli/demo.sh),
# against a local server over TLS (started and stopped here).
demo: setup build cli $(OUT)/demo
	@bash scripts/test-server.sh run .build/demo-server -- bash -c 'export R2_ENDPOINT="$$R2_TEST_TLS_ENDPOINT" \
		R2_CA_BUNDLE="$$R2_TEST_CA" R2_ACCESS_KEY_ID="$$R2_TEST_ACCESS_KEY_ID" \
		R2_SECRET_ACCESS_KEY="$$R2_TEST_SECRET_ACCESS_KEY" R2_DEMO_BUCKET=r2-demo; $(OUT)/demo && bash examples/cli/demo.sh'

# The resilience layer's cost on a cached small GET (release build with
# testing enabled, in its own build directory so the library build stays as is).
bench-resilience:
	R2_BENCH=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build/bench --filter ResilienceBenchmark

# Stripped copies of libr2.so and the CLI, for installing and packaging; their
# debug info goes into .debug files beside them (gdb finds them through the
# .gnu_debuglink section).
DIST := .build/dist
dist: build cli
	@mkdir -p $(DIST)
	objcopy --only-keep-debug $(LIB) $(DIST)/libr2.so.debug
	strip --strip-unneeded -o $(DIST)/libr2.so $(LIB)
	cd $(DIST) && objcopy --add-gnu-debuglink=libr2.so.debug libr2.so
	objcopy --only-keep-debug $(CLI) $(DIST)/r2.debug
	strip --strip-all -o $(DIST)/r2 $(CLI)
	cd $(DIST) && objcopy --add-gnu-debuglink=r2.debug r2

# libr2.so, r2.h, r2.pc and the CLI (as r2); none needs Swift installed.
# r2.pc's version is r2.h's (written once, in r2_types.h).
R2_VERSION = $(shell sed -n 's/^\#define R2_VERSION_STRING "\(.*\)"$$/\1/p' include/r2.h)
install: dist
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(DIST)/libr2.so $(DESTDIR)$(PREFIX)/lib/libr2.so
	install -m 0644 include/r2.h $(DESTDIR)$(PREFIX)/include/r2.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(R2_VERSION)|g' scripts/r2.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/r2.pc
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(DIST)/r2 $(DESTDIR)$(PREFIX)/bin/r2

# The Python wheel with libr2.so and the libraries it needs inside
# (scripts/build-wheel.sh), in .build/wheel/.
WHEEL_DIR := .build/wheel
wheel: dist
	@bash scripts/build-wheel.sh $(DIST)/libr2.so $(WHEEL_DIR)

# Proof that users need no Swift: installs into a scratch prefix, then with the
# toolchain hidden (scripts/dist-test.sh) builds and runs the C example
# against that prefix, uses the wheel from a fresh venv, and runs the CLI, all
# against a local server.
DIST_TEST := .build/dist-test
dist-test: wheel
	@rm -rf $(DIST_TEST)
	@$(MAKE) --no-print-directory install PREFIX=$(abspath $(DIST_TEST))/prefix >/dev/null
	@bash scripts/test-server.sh run $(SERVER_DIR)-dist -- bash scripts/dist-test.sh $(DIST_TEST) $(WHEEL_DIR)

clean:
	rm -rf .build bin

# 1 GiB multipart upload/download against a local server: r2 (bench_multipart, one
# process per run) next to boto3 and awscrt, in scripts/bench_transfers.py; table on
# stdout, JSON in .build/bench-transfers.json. Set R2_TEST_PORT / R2_TEST_TLS_PORT
# when another server uses 8333/8443. The server's data (GiBs) is removed at the end.
$(OUT)/bench_multipart: Tests/CABITests/bench_multipart.c Tests/CABITests/measure.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/bench_multipart.c $(CLINK) -o $@

.PHONY: bench-transfers
bench-transfers: setup build $(OUT)/bench_multipart
	@.venv/bin/python -c 'import boto3, awscrt' 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check boto3 awscrt
	@rc=0; bash scripts/test-server.sh run .build/bench-transfers-server -- .venv/bin/python scripts/bench_transfers.py || rc=$$?; \
		rm -rf .build/bench-transfers-server/data; exit $$rc

# r2 (C, Python, Node when its addon builds) beside boto3, awscrt, minio and the curl CLI in
# one run against one local server (scripts/bench_peers.py): sign, presign, list 1 000,
# SIZE_MIB up and down (SHA-256 checked), SMALL_OPS x 4 KiB GETs/PUTs at 16 in flight; one table
# with ratios to the best peer, JSON in .build/bench-peers.json. The peers live in their own
# venv (.build/bench-venv, from PyPI), never in the library's dependencies. Not part of `make test`.
SIZE_MIB ?= 1024
BENCH_VENV := .build/bench-venv
bench-peers: setup build $(OUT)/bench_sign $(OUT)/bench_list $(OUT)/bench_multipart $(OUT)/bench_transfer $(OUT)/bench_async
	@test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	@$(BENCH_VENV)/bin/python -c 'import boto3, awscrt, minio' 2>/dev/null || \
		$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check boto3 awscrt minio
	@if command -v node >/dev/null; then $(MAKE) --no-print-directory node; fi
	@rc=0; SIZE_MIB=$(SIZE_MIB) bash scripts/test-server.sh run .build/bench-peers-server -- \
		$(BENCH_VENV)/bin/python scripts/bench_peers.py || rc=$$?; rm -rf .build/bench-peers-server/data; exit $$rc

# The Node.js binding (bindings/node): the N-API addon compiled with the system
# compiler against Node's headers (no node-gyp, no npm registry), with libr2
# linked next to it (the addon looks there first, then $R2_LIBRARY, then the
# system loader path).
NODE_INCLUDE ?= /usr/include/node
$(NODE_ADDON): $(NODE_DIR)/src/r2_node.c include/r2.h
	@test -f $(NODE_INCLUDE)/node_api.h || { echo "node: $(NODE_INCLUDE)/node_api.h missing; installing Debian's nodejs"; \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -q nodejs; else sudo apt-get install -y -q nodejs; fi; }
	@mkdir -p $(NODE_DIR)/build
	$(CC) -std=c11 -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -I$(NODE_INCLUDE) -Iinclude \
		-DNODE_GYP_MODULE_NAME=r2 -DNAPI_VERSION=8 $< -o $@ -ldl -pthread
node: build $(NODE_ADDON)
	@ln -sfn $(abspath $(LIB)) $(NODE_DIR)/build/libr2.so

# Type-checks index.d.ts with a TypeScript file using the whole API (tsc from
# Debian's node-typescript, installed when missing).
node-types:
	@command -v tsc >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y -q node-typescript; else sudo apt-get install -y -q node-typescript; fi; }
	tsc --strict --noEmit --target es2022 --module commonjs --lib es2022 $(NODE_DIR)/test/types-check.ts examples/node/*.ts
	tsc --strict --target es2022 --module commonjs --lib es2022 --rootDir . --outDir .build/node-examples examples/node/*.ts
	@mkdir -p .build/node-examples/bindings && ln -sfn $(abspath $(NODE_DIR)) .build/node-examples/bindings/node

# The Node suite (bindings/node/test, node:test) inside a running server, like
# python-test. NODE_BIG_MIB sizes the slow-consumer stream and the file round
# trip (default 128; 1024 for the issue's full size).
NODE_BIG_MIB ?= 128
# The SigV4 vectors (the in-repo copy unless R2_VECTORS_DIR says otherwise).
R2_VECTORS_DIR ?= $(abspath $(TESTDATA)/sigv4)
node-test: node node-types node-pack
	cd $(NODE_DIR) && R2_VECTORS_DIR=$(R2_VECTORS_DIR) R2_NODE_BIG_MIB=$(NODE_BIG_MIB) node --test --test-reporter=spec test/

# The Node suite with its own server (ports from R2_TEST_PORT / R2_TEST_TLS_PORT).
node-integration: node
	@bash scripts/test-server.sh run $(SERVER_DIR)-node -- $(MAKE) --no-print-directory node-test

# Node benchmarks (bindings/node/bench.js) against their own server, beside the
# Python binding (bindings/node/bench_python.py) and C (bench_transfer, bench_multipart)
# in one run: signing, listing, 4 KiB calls at 16/256 in flight, a 1 GiB file up and
# down (NODE_BENCH_ARGS='--size-mib 256', '--node-only', '--skip-transfers').
NODE_BENCH_ARGS ?=
node-bench: setup node $(OUT)/bench_transfer $(OUT)/bench_multipart
	@rc=0; bash scripts/test-server.sh run .build/bench-server-node -- node $(NODE_DIR)/bench.js $(NODE_BENCH_ARGS) || rc=$$?; \
		rm -rf .build/bench-server-node/data; exit $$rc

# The event loop's delay while r2 works, beside Node's own http module sending the
# same requests (bindings/node/bench_eventloop.js): 2000 concurrent 4 KiB GETs and
# a 1 GiB upload, with the server on the client's CPUs and held to one CPU.
NODE_BENCH_LOOP_ARGS ?=
.PHONY: node-bench-loop
node-bench-loop: setup node
	@bash scripts/test-server.sh run .build/bench-server-node-loop -- bash -c \
		'node --expose-gc $(NODE_DIR)/bench_eventloop.js $(NODE_BENCH_LOOP_ARGS) && node --expose-gc $(NODE_DIR)/bench_eventloop.js --server-cpu $(NODE_BENCH_LOOP_ARGS)'; \
		rc=$$?; rm -rf .build/bench-server-node-loop/data; exit $$rc

# An installable tarball (npm pack, no registry) with libr2 bundled next to the addon.
node-pack: node
	cp --remove-destination $(abspath $(LIB)) $(NODE_DIR)/build/libr2.so
	cd $(NODE_DIR) && npm pack --pack-destination $(abspath .build)
	ln -sfn $(abspath $(LIB)) $(NODE_DIR)/build/libr2.so

# Swift async API: SWIFT_ASYNC_REQUESTS (10 000) concurrent async getObject calls
# of 4 KiB, one task each, on r2's engine (Sources/R2AsyncBench), against a local
# SeaweedFS of its own: threads in the process, peak RSS, ops/s, CPU per op.
# Set R2_TEST_PORT / R2_TEST_TLS_PORT to keep off another server. Not part of `make test`.
SWIFT_ASYNC_REQUESTS ?= 10000
.PHONY: bench-swift-async
bench-swift-async: setup
	swift build -c release --product R2AsyncBench
	@bash scripts/test-server.sh run .build/bench-swift-async-server -- .build/release/R2AsyncBench $(SWIFT_ASYNC_REQUESTS)

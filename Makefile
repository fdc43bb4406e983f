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
SHARED ?= $(abspath ../shared)
FILE ?=
TYPE ?=

.PHONY: all build header check-header lib ctests vectors parse-xml xml-fixtures swift-test server-tests integration test demo install setup clean cli cli-test python-test python-integration python-ffi python-bench bench-resilience fuzz fuzz-smoke sanitize tsan

all: build

setup:
	@bash scripts/setup.sh

build lib:
	swift build -c $(CONFIG) --product r2

# The command-line tool (Sources/R2CLI), runnable from here as ./bin/r2.
CLI := $(BUILD)/r2-cli
cli:
	swift build -c $(CONFIG) --product r2-cli
	@mkdir -p bin && ln -sfn ../$(CLI) bin/r2

# Needs a running server, like server-tests (which ends with it).
cli-test: cli
	bash Tests/cli/test_cli.sh ./bin/r2

# Regenerates include/r2.h from the Swift sources (see scripts/gen_header.py).
header: build
	@bash scripts/header.sh $(CONFIG) include/r2.h

check-header: build
	@bash scripts/header.sh $(CONFIG) $(OUT)/r2.h.new
	@diff -u include/r2.h $(OUT)/r2.h.new || { echo "include/r2.h is out of date: run 'make header' and commit it"; exit 1; }
	@echo "include/r2.h is up to date"

$(OUT):
	@mkdir -p $(OUT)

# The header compiles warning-free as C99 and C++17; included twice in one unit.
header-compile: | $(OUT)
	printf '#include "r2.h"\n#include "r2.h"\nint main(void) { return r2_version_number() == R2_VERSION_NUMBER ? 0 : 1; }\n' > $(OUT)/hdr.c
	$(CC) $(CFLAGS_STRICT) -Iinclude -c $(OUT)/hdr.c -o $(OUT)/hdr.o
	cp $(OUT)/hdr.c $(OUT)/hdr.cpp
	c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -c $(OUT)/hdr.cpp -o $(OUT)/hdr-cpp.o

$(OUT)/vectors: Tests/CABITests/vectors.c Tests/CABITests/json.h include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/vectors.c $(CLINK) -o $@

$(OUT)/parse_xml: Tests/CABITests/parse_xml.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/parse_xml.c $(CLINK) -o $@

$(OUT)/test_abi: Tests/CABITests/test_abi.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/test_abi.c $(CLINK) -o $@

$(OUT)/test_resilience: Tests/CABITests/test_resilience.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_resilience.c $(CLINK) -o $@

$(OUT)/test_objects: Tests/CABITests/test_objects.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/test_objects.c $(CLINK) -lcrypto -o $@

$(OUT)/test_transfer: Tests/CABITests/test_transfer.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_transfer.c $(CLINK) -lcrypto -o $@

$(OUT)/test_proxy: Tests/CABITests/test_proxy.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/test_proxy.c $(CLINK) -lcrypto -o $@

$(OUT)/bench_sign: Tests/CABITests/bench_sign.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/bench_sign.c $(CLINK) -o $@

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

# Every shared XML fixture through parse_xml: the type comes from the
# sidecar's operation (an error status means Error), and the exit status must
# be 0, or 1 for the bodies that are not one of the types (ListBuckets,
# ListObjects v1, moto's HTML 500, empty bodies) and for moto's ill-formed
# no-encoding listing; adversarial cases follow adversarial/manifest.json.
xml-fixtures: build
	@$(MAKE) --no-print-directory $(OUT)/parse_xml
	@fail=0; n=0; x=$(SHARED)/testdata/xml; \
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

ctests: build header-compile $(OUT)/test_abi $(OUT)/test_resilience $(OUT)/vectors
	$(OUT)/test_abi
	$(OUT)/test_resilience
	@for f in $(SHARED)/testdata/sigv4/*.json; do \
		echo "== vectors $$f"; $(OUT)/vectors "$$f" | tail -n 1; test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

swift-test:
	swift test

SERVER_DIR := .build/test-server
BIG_MIB ?= 1024
PROXY_MIB ?= 256

# Needs a running server (R2_TEST_* from scripts/test-server.sh): the C object
# tests over http (with a cassette and a streamed 1 GiB object) and over TLS,
# the transfer tests, the fault-injecting proxy tests (a 256 MiB download
# through resets, a stall, SlowDown, reset uploads), then the Swift tests,
# which replay the C cassette and test against the server.
server-tests: build $(OUT)/test_objects $(OUT)/test_transfer $(OUT)/test_proxy
	R2_TEST_CASSETTE=$(abspath $(OUT))/c-session.json R2_TEST_BIG_MIB=$(BIG_MIB) $(OUT)/test_objects "$$R2_TEST_ENDPOINT"
	$(OUT)/test_objects "$$R2_TEST_TLS_ENDPOINT" "$$R2_TEST_CA"
	R2_TEST_BIG_MIB=$(BIG_MIB) $(OUT)/test_transfer "$$R2_TEST_ENDPOINT"
	R2_TEST_PROXY_MIB=$(PROXY_MIB) $(OUT)/test_proxy "$$R2_TEST_ENDPOINT"
	R2_TEST_C_CASSETTE=$(abspath $(OUT))/c-session.json swift test
	$(MAKE) --no-print-directory cli-test
	$(MAKE) --no-print-directory python-test

# Starts the local SeaweedFS, runs server-tests, stops it (also on failure).
integration: build
	@bash scripts/test-server.sh run $(SERVER_DIR) -- $(MAKE) --no-print-directory server-tests

# The Python binding's suite (bindings/python/tests), inside a running server
# like server-tests: pytest and botocore go into .venv. R2_TEST_STRICT=1 turns
# any skip into a failure. PYTEST_ARGS passes options, e.g. PYTEST_ARGS='-k oracle'.
PYTEST_ARGS ?=
python-test: build
	@test -x .venv/bin/python || bash scripts/setup.sh
	@.venv/bin/python -c 'import pytest, botocore' 2>/dev/null || \
		.venv/bin/pip install -q --disable-pip-version-check pytest botocore
	cd bindings/python && R2_TEST_STRICT=1 R2_TEST_BIG_MIB=$(BIG_MIB) ../../.venv/bin/python -m pytest -q $(PYTEST_ARGS)

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

# Regenerates bindings/python/r2/_ffi.py from include/r2.h (tests fail when they differ).
python-ffi:
	python3 bindings/python/tools/gen_ffi.py

$(OUT)/bench_transfer: Tests/CABITests/bench_transfer.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/bench_transfer.c $(CLINK) -o $@

$(OUT)/bench_list: Tests/CABITests/bench_list.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/bench_list.c $(CLINK) -o $@

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

# Everything, from a fresh machine: packages, build, header check, all tests.
test: setup
	@$(MAKE) --no-print-directory check-header ctests xml-fixtures fuzz-smoke integration

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

install: build cli
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libr2.so
	install -m 0644 include/r2.h $(DESTDIR)$(PREFIX)/include/r2.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' scripts/r2.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/r2.pc
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/r2

clean:
	rm -rf .build bin

# 1 GiB multipart upload/download against a local server: r2 (bench_multipart, one
# process per run) next to boto3 and awscrt, in scripts/bench_transfers.py; table on
# stdout, JSON in .build/bench-transfers.json. Set R2_TEST_PORT / R2_TEST_TLS_PORT
# when another server uses 8333/8443. The server's data (GiBs) is removed at the end.
$(OUT)/bench_multipart: Tests/CABITests/bench_multipart.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/bench_multipart.c $(CLINK) -o $@

.PHONY: bench-transfers
bench-transfers: setup build $(OUT)/bench_multipart
	@.venv/bin/python -c 'import boto3, awscrt' 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check boto3 awscrt
	@rc=0; bash scripts/test-server.sh run .build/bench-transfers-server -- .venv/bin/python scripts/bench_transfers.py || rc=$$?; \
		rm -rf .build/bench-transfers-server/data; exit $$rc

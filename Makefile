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

.PHONY: all build header check-header lib ctests vectors swift-test test demo install setup clean

all: build

setup:
	@bash scripts/setup.sh

build lib:
	swift build -c $(CONFIG) --product r2

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

$(OUT)/test_abi: Tests/CABITests/test_abi.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) -pthread Tests/CABITests/test_abi.c $(CLINK) -o $@

$(OUT)/bench_sign: Tests/CABITests/bench_sign.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) Tests/CABITests/bench_sign.c $(CLINK) -o $@

$(OUT)/demo: examples/c/demo.c include/r2.h $(LIB) | $(OUT)
	$(CC) $(CFLAGS_STRICT) examples/c/demo.c $(CLINK) -o $@

# make vectors FILE=path/to/vectors.json
vectors: build
	@$(MAKE) --no-print-directory $(OUT)/vectors
	@test -n "$(FILE)" || { echo "usage: make vectors FILE=<path to a sigv4 vectors JSON file>"; exit 2; }
	@$(OUT)/vectors "$(FILE)"

ctests: build header-compile $(OUT)/test_abi $(OUT)/vectors
	$(OUT)/test_abi
	@for f in $(SHARED)/testdata/sigv4/*.json; do \
		echo "== vectors $$f"; $(OUT)/vectors "$$f" | tail -n 1; test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

swift-test:
	swift test

bench: build $(OUT)/bench_sign
	$(OUT)/bench_sign

# Everything, from a fresh machine: packages, build, header check, all tests.
test: setup
	@$(MAKE) --no-print-directory check-header ctests swift-test

demo: setup build $(OUT)/demo
	$(OUT)/demo

install: build
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libr2.so
	install -m 0644 include/r2.h $(DESTDIR)$(PREFIX)/include/r2.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' scripts/r2.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/r2.pc

clean:
	rm -rf .build bin

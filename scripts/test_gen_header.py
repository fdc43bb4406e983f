#!/usr/bin/env python3
"""Proof that scripts/gen_header.py refuses incomplete doc comments, leaves
no Markdown or HTML residue, and lays the header out in the plan's order.

Each case is a small Swift source with one exported function, composed with
a matching emitted declaration and a small types header; the check must refuse the bad ones (naming what is missing) and accept the good one.
No build needed. usage: test_gen_header.py
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("gen_header", Path(__file__).resolve().parent / "gen_header.py")
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)

TYPES = """#ifndef R2_TYPES_H
#define R2_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define R2_VERSION_MAJOR 3
#define R2_VERSION_MINOR 1
#define R2_VERSION_PATCH 4

/** A buffer. */
typedef struct r2_buf {
    char *ptr;
    size_t size;
} r2_buf;

/** A client. */
typedef struct r2_client r2_client;

/** Options of r2_object_get(). */
typedef struct r2_get_options {
    uint32_t version;
} r2_get_options;

#define R2_GET_OPTIONS_VERSION 1

#endif /* R2_TYPES_H */
"""

EMITTED = """#if defined(__cplusplus)
extern "C" {
#endif
SWIFT_EXTERN int32_t r2_object_get(r2_buf * _Nullable body, void * _Nullable client, char const * _Nullable bucket, r2_get_options const * _Nullable opts) SWIFT_NOEXCEPT;
SWIFT_EXTERN void r2_buf_dispose(r2_buf * _Nullable buf) SWIFT_NOEXCEPT;
SWIFT_EXTERN uint32_t r2_version_number(void) SWIFT_NOEXCEPT SWIFT_WARN_UNUSED_RESULT;
#if defined(__cplusplus)
}
#endif
"""

GOOD_GET = """\
/// Gets an object's body into memory, as `MAJOR*10000`.
///
/// - Parameters:
///   - body: Out: the body; release with `r2_buf_dispose()`.
///   - client: The client.
///   - bucket: Bucket name (NUL-terminated UTF-8).
///   - opts: May be NULL: the defaults.
/// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, or any network or server
///   status (see r2_status).
/// - Ownership: strings are borrowed for the call; body belongs to the caller.
/// - Threads: any thread; the client may be shared.
@c public func r2_object_get(_ body: UnsafeMutablePointer<r2_buf>?, _ client: OpaquePointer?,
                             _ bucket: UnsafePointer<CChar>?, _ opts: UnsafePointer<r2_get_options>?) -> Int32 { 0 }
"""
GOOD_REST = """\
/// Releases a buffer.
///
/// - Parameters:
///   - buf: The buffer; NULL is a no-op.
/// - Returns: nothing.
/// - Ownership: the buffer's memory goes back to r2.
/// - Threads: any thread.
@c public func r2_buf_dispose(_ buf: UnsafeMutablePointer<r2_buf>?) {}

/// The library's version.
///
/// - Returns: MAJOR*10000 + MINOR*100 + PATCH.
/// - Ownership: nothing to own.
/// - Threads: any thread.
@c public func r2_version_number() -> UInt32 { 0 }
"""


def compose(get_source: str, tmp: Path) -> str:
    (tmp / "Exports.swift").write_text(get_source + "\n" + GOOD_REST, encoding="utf-8")
    return gen.compose(EMITTED, TYPES, gen.source_docs([str(tmp / "Exports.swift")]))


def drop(line_pattern: str) -> str:
    """GOOD_GET without the doc lines matching the pattern (and their continuation)."""
    out, dropping = [], False
    for line in GOOD_GET.splitlines(True):
        if re.match(line_pattern, line):
            dropping = True
            continue
        if dropping and line.startswith("///    "):
            continue
        dropping = False
        out.append(line)
    return "".join(out)


# (name, Swift source of r2_object_get, what the refusal must name)
REFUSED = [
    ("no summary", GOOD_GET.replace("/// Gets an object's body into memory, as `MAJOR*10000`.\n///\n", ""), "no summary"),
    ("a parameter missing", drop(r"///   - client:"), "parameter 'client' is not documented"),
    ("a parameter misnamed", GOOD_GET.replace("///   - bucket:", "///   - bucket_name:"), "'bucket_name' is documented but is no parameter"),
    ("parameters out of order", GOOD_GET.replace("///   - client: The client.\n///   - bucket: Bucket name (NUL-terminated UTF-8).\n",
                                                 "///   - bucket: Bucket name (NUL-terminated UTF-8).\n///   - client: The client.\n"),
     "another order"),
    ("no Returns", drop(r"/// - Returns:"), "no '- Returns:'"),
    ("no Ownership", drop(r"/// - Ownership:"), "no '- Ownership:'"),
    ("no Threads", drop(r"/// - Threads:"), "no '- Threads:'"),
    ("no Parameters at all", drop(r"///( |   )- (Parameters|body|client|bucket|opts):"), "parameter 'body' is not documented"),
    ("a doubled word once backticks go", GOOD_GET.replace("- opts: May be NULL", "- opts: The defaults of version `version`; may be NULL"),
     "doubled word"),
    ("HTML in the comment", GOOD_GET.replace("into memory", "into <em>memory</em>"), "HTML"),
    ("a comment end inside", GOOD_GET.replace("The client.", "The client */."), "'*/'"),
]


def main() -> int:
    import tempfile
    failures = 0

    def check(ok: bool, what: str) -> None:
        nonlocal failures
        print(("ok   " if ok else "FAIL ") + what)
        failures += not ok

    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        header = compose(GOOD_GET, tmp)
        check("@param body Out: the body; release with r2_buf_dispose()." in header, "good: @param rendered, backticks dropped")
        check("`" not in header and "<em>" not in header and "<code>" not in header, "good: no Markdown or HTML residue")
        check("as MAJOR*10000." in header, "good: '*' kept as written (swiftc would make it <em>)")
        check("@return R2_OK; R2_ERR_INVALID_ARGUMENT, or any network or server\n *        status (see r2_status)." in header.replace(" *         status", " *        status"),
              "good: @return with its continuation line")
        check(" * Ownership: strings are borrowed" in header and " * Threads: any thread; the client may be shared." in header,
              "good: Ownership and Threads rendered")
        check('#define R2_VERSION_STRING "3.1.4"' in header, "good: R2_VERSION_STRING derived from MAJOR/MINOR/PATCH")
        order = [header.index(s) for s in ("* Version:", "r2_version_number(void)", "* Buffers:", "typedef struct r2_buf {",
                                           "r2_buf_dispose(", "* Client:", "typedef struct r2_client r2_client;",
                                           "* Objects:", "typedef struct r2_get_options {", "R2_GET_OPTIONS_VERSION",
                                           "R2_API int32_t r2_object_get(")]
        check(order == sorted(order), "good: groups in the plan's order, each group's types before its functions")
        for name, source, reason in REFUSED:
            try:
                compose(source, tmp)
                check(False, f"refused: {name} (it was accepted)")
            except gen.DocError as e:
                check(reason in str(e), f"refused: {name}" + ("" if reason in str(e) else f" (but for: {e})"))
    print(f"gen-header-test: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

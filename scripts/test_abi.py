#!/usr/bin/env python3
"""Proof that the ABI guard (scripts/abi.py) fails on every kind of incompatible
change and passes on compatible growth.

Describes the real header and library once, then for each case edits a copy of
include/r2.h (or of the exported symbol list), describes that copy with
`abi.py dump` (which compiles and runs the layout program) and runs
`abi.py compare` against the real description, checking its exit status.
Every edit must change the header: a pattern that no longer matches fails
the test instead of passing silently.

usage: test_abi.py HEADER LIB
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ABI = Path(__file__).resolve().parent / "abi.py"
FAIL, PASS = 1, 0


def sub(pattern: str, replacement: str):
    """A header edit: one regex substitution that must match."""
    def edit(text: str) -> str:
        new, n = re.subn(pattern, replacement, text, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"test_abi: pattern not found in the header: {pattern}")
        return new
    return edit


def version(part: str, delta: int):
    """A header edit: R2_VERSION_<part> moved by delta (the others as they are)."""
    def edit(text: str) -> str:
        return sub(rf"^#define R2_VERSION_{part} (\d+)$",
                   lambda m: f"#define R2_VERSION_{part} {int(m.group(1)) + delta}")(text)
    return edit


def append_to_struct(struct: str, field: str):
    return sub(rf"(\n)(\}} {struct};)", rf"\1    {field}\n\2")


NEW_FUNCTION = sub(r"^(#ifdef __cplusplus\n\}\n#endif)", "/// A new function.\nR2_API int32_t r2_brand_new(void);\n\n\\1")

# (name, expected exit status, header edits, symbol edit)
CASES = [
    ("no change", PASS, [], None),
    # Incompatible: each must fail.
    ("removed symbol", FAIL, [], lambda s: [x for x in s if x != "r2_object_head"]),
    ("renamed symbol", FAIL, [], lambda s: ["r2_buffer_dispose" if x == "r2_buf_dispose" else x for x in s]),
    ("removed function", FAIL, [sub(r"^R2_API int32_t r2_object_head\(.*\n", "")], None),
    ("changed function prototype", FAIL, [sub(r"r2_buf_dispose\(r2_buf \*buf\)", "r2_buf_dispose(r2_buf *buf, int flags)")], None),
    ("changed callback prototype", FAIL, [sub(r"\(\*r2_write_cb\)\(const uint8_t \*chunk, size_t len", "(*r2_write_cb)(const uint8_t *chunk, uint32_t len")], None),
    ("field inserted in the middle (offsets move)", FAIL,
     [sub(r"(uint32_t version;\s+/\*\*< R2_PUT_OPTIONS_VERSION \*/\n)", r"\1    const char *new_first;\n"),
      sub(r"#define R2_PUT_OPTIONS_VERSION 2", "#define R2_PUT_OPTIONS_VERSION 3")], None),
    ("field size changed", FAIL, [sub(r"int32_t code;(\s+/\*\*< an r2_status)", r"int64_t code;\1")], None),
    ("field type changed, same size", FAIL, [sub(r"int32_t payload_mode;(\s+/\*\*< an r2_payload_mode; DEFAULT)", r"uint32_t payload_mode;\1")], None),
    ("alignment changed", FAIL, [sub(r"uint32_t max_attempts;", "uint64_t max_attempts;")], None),
    ("field removed from a result", FAIL, [sub(r"    void \*internal;\s+/\*\*< r2's storage; do not touch \*/\n", "")], None),
    ("last field removed from a versioned struct", FAIL,
     [sub(r"    const uint8_t \*source_sse_customer_key; /\*\*< SSE-C: 32-byte key of an UploadPartCopy source; NULL for none \*/\n", "")], None),
    ("result grew without a version bump", FAIL, [append_to_struct("r2_object_info", "uint64_t new_field;")], None),
    ("array element grew without a version bump", FAIL, [append_to_struct("r2_object_entry", "uint64_t new_field;")], None),
    ("unversioned struct grew", FAIL, [append_to_struct("r2_header", "uint64_t new_field;")], None),
    ("versioned struct grew without a version bump", FAIL, [append_to_struct("r2_get_options", "uint32_t new_field;")], None),
    ("enum value changed", FAIL, [sub(r"R2_ERR_TIMEOUT = -501", "R2_ERR_TIMEOUT = -510")], None),
    ("enum constant removed", FAIL, [sub(r"    R2_ERR_TLS = -502,.*\n", "")], None),
    ("enum constant renamed", FAIL, [sub(r"R2_LOG_WARN = 2", "R2_LOG_WARNING = 2")], None),
    ("struct version lowered", FAIL, [sub(r"#define R2_TRANSFER_OPTIONS_VERSION 3", "#define R2_TRANSFER_OPTIONS_VERSION 2")], None),
    ("version lowered (also the major)", FAIL, [version("MAJOR", -1)], None),
    ("struct removed", FAIL, [sub(r"typedef struct r2_multipart_upload_info \{[^}]*\} r2_multipart_upload_info;\n", ""),
                              sub(r"const r2_multipart_upload_info \*uploads;", "const void *uploads;")], None),
    ("opaque handle renamed", FAIL, [lambda text: re.sub(r"\br2_cancel\b", "r2_cancel_switch", text)], None),
    # Compatible growth: each must pass.
    ("new symbol and function", PASS, [NEW_FUNCTION], lambda s: sorted(s + ["r2_brand_new"])),
    ("field appended to a versioned struct, version bumped", PASS,
     [append_to_struct("r2_get_options", "uint32_t new_field;"),
      sub(r"#define R2_GET_OPTIONS_VERSION 2", "#define R2_GET_OPTIONS_VERSION 3")], None),
    ("new enum constant", PASS, [sub(r"R2_ERR_INCOMPLETE_BODY = -802,", "R2_ERR_INCOMPLETE_BODY = -802,\n    R2_ERR_BRAND_NEW = -803,")], None),
    ("struct version bumped", PASS, [sub(r"#define R2_LIST_OPTIONS_VERSION 1", "#define R2_LIST_OPTIONS_VERSION 2")], None),
    ("minor version bumped", PASS, [version("MINOR", 1)], None),
    ("new struct", PASS, [sub(r"^(#ifdef __cplusplus\n\}\n#endif)", "typedef struct r2_brand_new_info {\n    uint32_t version;\n    int64_t when;\n} r2_brand_new_info;\n\n\\1")], None),
    ("experimental function removed", PASS,
     [sub(r"#ifdef R2_EXPERIMENTAL\n[\s\S]*?#endif /\* R2_EXPERIMENTAL \*/\n", "")], lambda s: [x for x in s if x != "r2_xml_parse"]),
    ("experimental function changed", PASS, [sub(r"r2_xml_parse\(r2_buf \*out, const char \*type,", "r2_xml_parse(r2_buf *out, int type,")], None),
    # An incompatible change with a new major version passes.
    ("removed symbol and field, new major version", PASS,
     [version("MAJOR", 1),
      sub(r"    void \*internal;\s+/\*\*< r2's storage; do not touch \*/\n", "")],
     lambda s: [x for x in s if x != "r2_object_head"]),
]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ABI), *args], capture_output=True, text=True)


def main() -> int:
    header, lib = Path(sys.argv[1]), Path(sys.argv[2])
    original = header.read_text(encoding="utf-8")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        baseline = tmp / "baseline.txt"
        r = run("dump", "--header", str(header), "--lib", str(lib), "--out", str(baseline))
        if r.returncode:
            print(r.stdout + r.stderr)
            return 1
        symbols = [line.split()[1] for line in baseline.read_text().splitlines() if line.startswith("symbol ")]
        for i, (name, want, edits, symbol_edit) in enumerate(CASES):
            case = tmp / f"case{i}"
            case.mkdir()
            text = original
            for edit in edits:
                text = edit(text)
            if bool(edits) == (text == original):
                raise SystemExit(f"test_abi: case '{name}' did not change the header")
            (case / "r2.h").write_text(text, encoding="utf-8")
            (case / "symbols").write_text("\n".join(symbol_edit(symbols) if symbol_edit else symbols) + "\n")
            r = run("dump", "--header", str(case / "r2.h"), "--symbols", str(case / "symbols"), "--out", str(case / "abi.txt"))
            if r.returncode:
                print(f"FAIL {name}: dump failed\n{r.stdout}{r.stderr}")
                failures += 1
                continue
            r = run("compare", str(baseline), str(case / "abi.txt"))
            verdict = "ok  " if r.returncode == want else "FAIL"
            failures += r.returncode != want
            reason = next((line for line in r.stdout.splitlines() if line.startswith(("INCOMPATIBLE", "allowed"))), "")
            print(f"{verdict} {name}: exit {r.returncode}, want {want}" + (f"  [{reason}]" if reason else ""))
            if r.returncode != want:
                print(r.stdout + r.stderr)
    print(f"abi-check-test: {len(CASES)} cases, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

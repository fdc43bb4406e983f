#!/usr/bin/env python3
"""Generate bindings/python/r2/_ffi.py (ctypes declarations) from include/r2.h.

r2.h is itself generated (scripts/gen_header.py), so it uses a small, regular
subset of C: #define constants, typedef'd enums, structs, opaque handles and
function pointers, and `R2_API` function prototypes. This script parses
exactly that subset and fails loudly on anything else, so a header change it
does not understand cannot silently produce wrong bindings. No third-party
dependency: a test regenerates the file and fails if the committed one differs.

Brace-initialiser macros (R2_*_INIT) are not translated: Python initialises
options structs with the r2_*_init() functions, which fill in the same defaults.

usage: gen_ffi.py [--header include/r2.h] [--out bindings/python/r2/_ffi.py] [--check]
"""
from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_HEADER = ROOT / "include" / "r2.h"
DEFAULT_OUT = ROOT / "bindings" / "python" / "r2" / "_ffi.py"

SCALARS = {
    "void": None, "bool": "c_bool", "char": "c_char", "int": "c_int",
    "int32_t": "c_int32", "uint32_t": "c_uint32", "int64_t": "c_int64", "uint64_t": "c_uint64",
    "uint8_t": "c_uint8", "size_t": "c_size_t", "double": "c_double",
}
# Macros that are part of the header's machinery, not of its API.
IGNORED_MACROS = {"R2_H", "R2_API"}


class HeaderError(Exception):
    pass


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def preprocess(text: str, predefined: frozenset[str] | set[str] = frozenset()) -> tuple[list[tuple[str, str]], str]:
    """Evaluates the header's conditionals (nothing but R2_H and `predefined`
    is defined: not _WIN32, not __cplusplus) and returns its #define pairs and C code."""
    defined: set[str] = set(predefined)
    stack: list[bool] = []  # whether each open conditional's current branch is live
    macros, code = [], []
    # A backslash-newline continues a line (multi-line #defines).
    text = re.sub(r"\\\n", lambda m: " ", text)
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        live = all(stack)
        if not s.startswith("#"):
            if live:
                code.append(line)
            continue
        m = re.fullmatch(r"#\s*(\w+)\s*(.*)", s)
        directive, rest = m.group(1), m.group(2).strip()
        if directive in ("ifdef", "ifndef"):
            stack.append((rest in defined) == (directive == "ifdef"))
        elif directive == "if":
            d = re.fullmatch(r"defined\s*\(\s*(\w+)\s*\)", rest)
            if not d:
                raise HeaderError(f"line {n}: unsupported #if expression: {rest}")
            stack.append(d.group(1) in defined)
        elif directive == "else":
            stack[-1] = not stack[-1]
        elif directive == "endif":
            stack.pop()
        elif directive == "include":
            pass  # only the standard headers for the scalar types above
        elif directive == "define":
            if live:
                name, _, value = rest.partition(" ")
                defined.add(name)
                macros.append((name, value.strip()))
        else:
            raise HeaderError(f"line {n}: unsupported directive #{directive}")
    if stack:
        raise HeaderError("unbalanced #if/#endif")
    return macros, "\n".join(code)


def top_level_statements(code: str) -> list[str]:
    """Splits C code at the semicolons outside braces."""
    statements, depth, start = [], 0, 0
    for i, ch in enumerate(code):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            statements.append(code[start:i])
            start = i + 1
    if depth != 0 or code[start:].strip():
        raise HeaderError("unbalanced braces or a declaration without ';' at the end of the header")
    return [s for s in statements if s.strip()]


class Generator:
    def __init__(self) -> None:
        self.constants: list[tuple[str, str]] = []
        self.enums: set[str] = set()
        self.structs: set[str] = set()
        self.callbacks: set[str] = set()
        self.out: list[str] = []
        self.functions: list[tuple[str, str, list[str]]] = []

    # -- types --------------------------------------------------------------

    def ctype(self, decl: str, where: str) -> str:
        """The ctypes expression for a C type such as `const char *const *`."""
        stars = decl.count("*")
        words = [w for w in re.split(r"[\s*]+", decl) if w and w != "const"]
        if len(words) != 1:
            raise HeaderError(f"{where}: unsupported type '{decl}'")
        base = words[0]
        if base in SCALARS:
            scalar = SCALARS[base]
            if stars == 0:
                if scalar is None:
                    raise HeaderError(f"{where}: a void value")
                return scalar
            if base == "void":
                return "c_void_p" if stars == 1 else self.pointer("c_void_p", stars - 1)
            if base == "char":
                # `const char *` is a NUL-terminated string in; `char *` (r2_buf)
                # is raw bytes with a separate size, which c_char_p would cut at a NUL.
                const_char = re.match(r"\s*const\s+char\s*\*", decl) is not None
                return self.pointer("c_char_p" if const_char else "POINTER(c_char)", stars - 1)
            return self.pointer(scalar, stars)
        if base in self.enums and stars == 0:
            return "c_int"
        if base in self.callbacks and stars == 0:
            return base
        if base in self.structs and stars > 0:
            return self.pointer(base, stars)
        if base in self.structs:
            return base
        raise HeaderError(f"{where}: unknown type '{decl}'")

    @staticmethod
    def pointer(inner: str, stars: int) -> str:
        for _ in range(stars):
            inner = f"POINTER({inner})"
        return inner

    @staticmethod
    def split_decl(decl: str, where: str) -> tuple[str, str]:
        """`const char *name` -> ('const char *', 'name')."""
        m = re.fullmatch(r"(.*?[\s*])(\w+)", decl.strip(), flags=re.S)
        if not m:
            raise HeaderError(f"{where}: cannot parse declaration '{decl.strip()}'")
        return " ".join(m.group(1).split()), m.group(2)

    # -- declarations -------------------------------------------------------

    def macro(self, name: str, value: str) -> None:
        if name in IGNORED_MACROS or value.startswith("{"):
            return
        if re.fullmatch(r'"[^"\\]*"', value) or re.fullmatch(r"-?\d+", value):
            self.constants.append((name, value))
            return
        if re.fullmatch(r"0x[0-9A-Fa-f]+u?", value):  # e.g. R2_OFF
            self.constants.append((name, value.rstrip("u")))
            return
        known = {n for n, _ in self.constants}
        tokens = re.findall(r"[A-Za-z_]\w*", value)
        if re.fullmatch(r"[\w\s()+\-*/]+", value) and all(t in known for t in tokens):
            self.constants.append((name, value))
            return
        raise HeaderError(f"#define {name}: unsupported value '{value}'")

    def declaration(self, decl: str) -> None:
        decl = " ".join(decl.split())
        if m := re.fullmatch(r"typedef enum (\w+) \{(.*)\} (\w+)", decl):
            self.enum(m.group(1), m.group(2), m.group(3))
        elif m := re.fullmatch(r"typedef struct (\w+) \{(.*)\} (\w+)", decl):
            self.struct(m.group(1), m.group(2), m.group(3))
        elif m := re.fullmatch(r"typedef struct (\w+) (\w+)", decl):
            if m.group(1) != m.group(2):
                raise HeaderError(f"opaque typedef with two names: {decl}")
            self.structs.add(m.group(1))
            self.out += [f"class {m.group(1)}(Structure):", '    """An opaque handle: only ever used through a pointer."""', "", ""]
        elif m := re.fullmatch(r"typedef (.+?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)", decl):
            name = m.group(2)
            restype = self.ctype(m.group(1), name) if m.group(1).strip() != "void" else "None"
            args = self.params(m.group(3), name)
            self.callbacks.add(name)
            self.out += [f"{name} = CFUNCTYPE({', '.join([restype] + args)})", "", ""]
        elif m := re.fullmatch(r"R2_API (.+?)\b(r2_\w+)\s*\((.*)\)", decl):
            restype = "None" if m.group(1).strip() == "void" else self.ctype(m.group(1), m.group(2))
            self.functions.append((m.group(2), restype, self.params(m.group(3), m.group(2))))
        else:
            raise HeaderError(f"unsupported declaration: {decl[:120]}")

    def params(self, text: str, where: str) -> list[str]:
        text = text.strip()
        if text in ("", "void"):
            return []
        return [self.ctype(self.split_decl(p, where)[0], where) for p in text.split(",")]

    def enum(self, tag: str, body: str, name: str) -> None:
        if tag != name:
            raise HeaderError(f"enum {tag} typedef'd as {name}")
        self.enums.add(name)
        self.out.append(f"# enum {name}")
        for item in filter(None, (i.strip() for i in body.split(","))):
            m = re.fullmatch(r"(\w+) = (-?\d+)", item)
            if not m:
                raise HeaderError(f"enum {name}: unsupported member '{item}'")
            self.out.append(f"{m.group(1)} = {m.group(2)}")
        self.out += ["", ""]

    def struct(self, tag: str, body: str, name: str) -> None:
        if tag != name:
            raise HeaderError(f"struct {tag} typedef'd as {name}")
        fields = []
        for member in filter(None, (f.strip() for f in body.split(";"))):
            ctype, field = self.split_decl(member, f"{name}.{member}")
            fields.append(f'        ("{field}", {self.ctype(ctype, f"{name}.{field}")}),')
        self.structs.add(name)
        self.out += [f"class {name}(Structure):", "    _fields_ = [", *fields, "    ]", "", ""]

    def render(self, header: str) -> str:
        # With R2_EXPERIMENTAL: the binding declares every function libr2 exports
        # (tests/test_ffi.py checks that), the experimental ones included.
        macros, code = preprocess(strip_comments(header), {"R2_EXPERIMENTAL"})
        for name, value in macros:
            self.macro(name, value)
        for decl in top_level_statements(code):
            self.declaration(decl)
        lines = [
            "# GENERATED by bindings/python/tools/gen_ffi.py from include/r2.h. Do not edit:",
            "# regenerate with `python3 bindings/python/tools/gen_ffi.py` and commit the result",
            "# (tests/test_ffi.py fails when this file and the header disagree).",
            "# fmt: off",
            "from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char, c_char_p, c_double, c_int,  # noqa: F401",
            "                    c_int32, c_int64, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p)",
            "",
        ]
        lines += [f"{n} = {v}" for n, v in self.constants]
        lines += ["", ""] + self.out
        lines += ["# name: (restype, argtypes), in header order", "FUNCTIONS = {"]
        lines += [f'    "{n}": ({r}, [{", ".join(a)}]),' for n, r, a in self.functions]
        lines += ["}", ""]
        return "\n".join(lines)


def generate(header_path: Path = DEFAULT_HEADER) -> str:
    return Generator().render(header_path.read_text(encoding="utf-8"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--header", type=Path, default=DEFAULT_HEADER)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="fail if --out differs from what the header gives")
    args = ap.parse_args()
    text = generate(args.header)
    if args.check:
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(args.out), "generated"))
            print(f"{args.out} is out of date: run {Path(__file__).name} and commit it", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

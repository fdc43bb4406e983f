#!/usr/bin/env python3
"""The ABI guard of libr2: describe the ABI as text, and compare two descriptions.

`dump` writes a description of the C ABI: the platform, the version macros
(R2_VERSION_* and every R2_*_VERSION), every enum constant, every public
struct's size and alignment and each field's offset, size and type (measured
by compiling a small C program against the header, so the numbers are the
compiler's, not a guess), the opaque handles, the callback and function
prototypes, and the symbols libr2.so exports (nm -D --defined-only).
The header is read with the parser of bindings/python/tools/gen_ffi.py.

`compare BASELINE CURRENT` fails (exit 1) on any change that breaks a program
built against the baseline, unless R2_VERSION_MAJOR changed:
  - a symbol, function, callback, opaque handle, struct, field or enum
    constant that is gone; a function or callback whose prototype changed;
  - a struct whose alignment changed or whose size shrank; a field whose
    offset, size or type changed; an enum constant whose value changed;
  - a version macro that went down (R2_VERSION_MAJOR.MINOR.PATCH as one
    number: that fails even with a new major version);
  - a struct that grew without a leading `uint32_t version` field (an older
    caller's struct is smaller than what r2 would read or write), a versioned
    struct that grew without its R2_<NAME>_VERSION going up, or a new field
    that is not after the end of the old struct.
New symbols, functions, structs, enum constants and fields appended to a
versioned struct are compatible. Declarations under `#ifdef R2_EXPERIMENTAL`
are marked experimental and may change or go without failing the check.

usage: abi.py dump --header include/r2.h --lib .build/release/libr2.so [--out FILE]
       abi.py compare BASELINE CURRENT
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tools"))
from gen_ffi import Generator, HeaderError, preprocess, strip_comments, top_level_statements  # noqa: E402

HEADER_LINE = ("# The ABI of libr2 (scripts/abi.py dump). `make abi-check` fails on an incompatible change to it;\n"
               "# `make abi-update` rewrites it on purpose (commit it with the change that explains why).\n")
VERSION_MACRO = re.compile(r"R2_VERSION_(MAJOR|MINOR|PATCH)|R2_\w+_VERSION")
EXPERIMENTAL = "R2_EXPERIMENTAL"


def declarations(header_text: str, defined: set[str]) -> tuple[list[tuple[str, str]], list[str]]:
    macros, code = preprocess(strip_comments(header_text), defined)
    return macros, [" ".join(d.split()) for d in top_level_statements(code)]


def param_types(text: str, where: str) -> str:
    """`const char *name, size_t len` -> `const char *, size_t` (names are not ABI)."""
    text = text.strip()
    if text in ("", "void"):
        return "void"
    return ", ".join(Generator.split_decl(p, where)[0] for p in text.split(","))


def parse_header(header_text: str) -> dict:
    """The header's ABI-relevant declarations, each marked experimental or not."""
    _, stable = declarations(header_text, set())
    macros, every = declarations(header_text, {EXPERIMENTAL})
    stable_set = set(stable)
    abi = {"macros": [], "enums": [], "structs": [], "opaques": [], "callbacks": [], "functions": []}
    abi["macros"] = [name for name, value in macros if VERSION_MACRO.fullmatch(name)]
    for decl in every:
        experimental = decl not in stable_set
        if m := re.fullmatch(r"typedef enum (\w+) \{(.*)\} (\w+)", decl):
            for item in filter(None, (i.strip() for i in m.group(2).split(","))):
                abi["enums"].append((m.group(3), item.split("=")[0].strip()))
        elif m := re.fullmatch(r"typedef struct (\w+) \{(.*)\} (\w+)", decl):
            name = m.group(3)
            fields = [Generator.split_decl(f, name)[::-1] for f in filter(None, (f.strip() for f in m.group(2).split(";")))]
            abi["structs"].append((name, fields, experimental))
        elif m := re.fullmatch(r"typedef struct (\w+) (\w+)", decl):
            abi["opaques"].append((m.group(2), experimental))
        elif m := re.fullmatch(r"typedef (.+?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)", decl):
            abi["callbacks"].append((m.group(2), f"{m.group(1).strip()} (*)({param_types(m.group(3), m.group(2))})", experimental))
        elif m := re.fullmatch(r"R2_API (.+?)\b(r2_\w+)\s*\((.*)\)", decl):
            abi["functions"].append((m.group(2), f"{m.group(1).strip()} ({param_types(m.group(3), m.group(2))})", experimental))
        else:
            raise HeaderError(f"abi.py: unsupported declaration: {decl[:120]}")
    return abi


def layout_program(abi: dict) -> str:
    """A C program that prints the description's numeric lines, in order."""
    out = ["#include <stddef.h>", "#include <stdio.h>", "#include \"r2.h\"", "", "int main(void) {"]
    for name in abi["macros"]:
        out.append(f'    printf("macro {name} %lld\\n", (long long)({name}));')
    for enum, const in abi["enums"]:
        out.append(f'    printf("enum {enum} {const} %lld\\n", (long long){const});')
    for name, fields, experimental in abi["structs"]:
        versioned = " versioned" if fields and fields[0] == ("version", "uint32_t") else ""
        tail = versioned + (" experimental" if experimental else "")
        out.append(f'    printf("struct {name} size %zu align %zu{tail}\\n", sizeof({name}), _Alignof({name}));')
        for field, ftype in fields:
            out.append(f'    printf("field {name}.{field} offset %zu size %zu type {ftype}\\n", '
                       f'offsetof({name}, {field}), sizeof((({name} *)0)->{field}));')
    out += ["    return 0;", "}", ""]
    return "\n".join(out)


def exported_symbols(lib: Path) -> list[str]:
    nm = subprocess.run(["nm", "-D", "--defined-only", str(lib)], check=True, capture_output=True, text=True).stdout
    return sorted({line.split()[-1].split("@")[0] for line in nm.splitlines() if line.strip()})


def dump(header: Path, symbols: list[str], cc: str = os.environ.get("CC", "cc")) -> str:
    abi = parse_header(header.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "layout.c", Path(tmp) / "layout"
        src.write_text(layout_program(abi), encoding="utf-8")
        # -DR2_EXPERIMENTAL: the experimental declarations are measured too.
        subprocess.run([cc, "-std=c11", "-Wall", "-Werror", f"-D{EXPERIMENTAL}", f"-I{header.parent}", str(src), "-o", str(exe)],
                       check=True)
        measured = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    machine = subprocess.run([cc, "-dumpmachine"], check=True, capture_output=True, text=True).stdout.strip()
    experimental_functions = {n for n, _, e in abi["functions"] if e}
    lines = [HEADER_LINE + f"platform {machine}"]
    lines.append(measured.rstrip("\n"))
    lines += [f"opaque {n}" + (" experimental" if e else "") for n, e in abi["opaques"]]
    lines += [f"callback {n}{' experimental' if e else ''} = {proto}" for n, proto, e in abi["callbacks"]]
    lines += [f"function {n}{' experimental' if e else ''} = {proto}" for n, proto, e in abi["functions"]]
    lines += [f"symbol {s}" + (" experimental" if s in experimental_functions else "") for s in symbols]
    return "\n".join(lines) + "\n"


# -- comparison -----------------------------------------------------------------

def load(text: str) -> dict:
    """Description text -> {kind: {name: (value, experimental)}}, plus the platform."""
    d: dict = {k: {} for k in ("macro", "enum", "struct", "field", "opaque", "callback", "function", "symbol")}
    d["platform"] = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        head, _, proto = line.partition(" = ")
        words = head.split()
        kind = words[0]
        experimental = "experimental" in words
        if kind == "platform":
            d["platform"] = words[1]
        elif kind == "macro":
            d["macro"][words[1]] = int(words[2])
        elif kind == "enum":
            d["enum"][(words[1], words[2])] = int(words[3])
        elif kind == "struct":
            d["struct"][words[1]] = {"size": int(words[3]), "align": int(words[5]),
                                     "versioned": "versioned" in words, "experimental": experimental}
        elif kind == "field":
            m = re.fullmatch(r"field (\w+)\.(\w+) offset (\d+) size (\d+) type (.+)", line)
            if not m:
                raise SystemExit(f"abi.py: line {n}: bad field line: {line}")
            d["field"][(m.group(1), m.group(2))] = (int(m.group(3)), int(m.group(4)), m.group(5))
        elif kind in ("opaque", "symbol"):
            d[kind][words[1]] = experimental
        elif kind in ("callback", "function"):
            d[kind][words[1]] = (proto, experimental)
        else:
            raise SystemExit(f"abi.py: line {n}: unknown kind {kind!r}")
    return d


def version_macro(struct: str) -> str:
    return "R2_" + struct.removeprefix("r2_").upper() + "_VERSION"


def compare(old: dict, new: dict) -> list[str]:
    """The incompatible changes from old to new, one sentence each."""
    bad: list[str] = []
    for kind in ("symbol", "opaque"):
        for name, experimental in old[kind].items():
            if name not in new[kind] and not experimental:
                bad.append(f"{kind} {name} is gone")
    for kind in ("function", "callback"):
        for name, (proto, experimental) in old[kind].items():
            if experimental:
                continue
            if name not in new[kind]:
                bad.append(f"{kind} {name} is gone")
            elif new[kind][name][0] != proto:
                bad.append(f"{kind} {name} changed from `{proto}` to `{new[kind][name][0]}`")
    for key, value in old["enum"].items():
        if key not in new["enum"]:
            bad.append(f"enum constant {key[1]} ({key[0]}) is gone")
        elif new["enum"][key] != value:
            bad.append(f"enum constant {key[1]} changed from {value} to {new['enum'][key]}")
    for name, value in old["macro"].items():
        if name not in new["macro"]:
            bad.append(f"macro {name} is gone")
        elif not name.startswith("R2_VERSION_") and new["macro"][name] < value:
            bad.append(f"{name} went down from {value} to {new['macro'][name]}")

    for name, s in old["struct"].items():
        if s["experimental"]:
            continue
        n = new["struct"].get(name)
        if n is None:
            bad.append(f"struct {name} is gone")
            continue
        if n["align"] != s["align"]:
            bad.append(f"struct {name}: alignment changed from {s['align']} to {n['align']}")
        if n["size"] < s["size"]:
            bad.append(f"struct {name}: size shrank from {s['size']} to {n['size']}")
        elif n["size"] > s["size"]:
            if not s["versioned"]:
                bad.append(f"struct {name}: grew from {s['size']} to {n['size']} bytes but has no leading version field")
            elif new["macro"].get(version_macro(name), 0) <= old["macro"].get(version_macro(name), 0):
                bad.append(f"struct {name}: grew from {s['size']} to {n['size']} bytes but {version_macro(name)} did not go up")
        for (sname, field), (offset, size, ftype) in old["field"].items():
            if sname != name:
                continue
            nf = new["field"].get((sname, field))
            if nf is None:
                bad.append(f"field {name}.{field} is gone")
            elif nf != (offset, size, ftype):
                bad.append(f"field {name}.{field} changed from offset {offset} size {size} type {ftype} "
                           f"to offset {nf[0]} size {nf[1]} type {nf[2]}")
        for (sname, field), (offset, _, _) in new["field"].items():
            if sname == name and (sname, field) not in old["field"] and offset < s["size"]:
                bad.append(f"field {name}.{field} is new but not after the end of the old struct (offset {offset} < {s['size']})")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--header", type=Path, required=True)
    d.add_argument("--lib", type=Path, help="the library whose exported symbols to list")
    d.add_argument("--symbols", type=Path, help="a file of symbol names, one a line, instead of --lib")
    d.add_argument("--out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("baseline", type=Path)
    c.add_argument("current", type=Path)
    args = ap.parse_args()
    if args.command == "dump":
        if bool(args.lib) == bool(args.symbols):
            ap.error("dump needs one of --lib and --symbols")
        symbols = exported_symbols(args.lib) if args.lib else sorted(args.symbols.read_text().split())
        text = dump(args.header, symbols)
        if args.out:
            args.out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    old, new = load(args.baseline.read_text(encoding="utf-8")), load(args.current.read_text(encoding="utf-8"))
    if old["platform"] != new["platform"]:
        print(f"abi-check: the baseline describes {old['platform']}, this is {new['platform']}: layouts differ by platform",
              file=sys.stderr)
        return 2
    bad = compare(old, new)
    r_old, r_new = (tuple(m["macro"].get(f"R2_VERSION_{p}", 0) for p in ("MAJOR", "MINOR", "PATCH")) for m in (old, new))
    if r_new < r_old:  # never allowed, not even by a new major version
        print("INCOMPATIBLE: the version went down from %d.%d.%d to %d.%d.%d" % (r_old + r_new))
        return 1
    major_old, major_new = old["macro"].get("R2_VERSION_MAJOR"), new["macro"].get("R2_VERSION_MAJOR")
    for line in bad:
        print(("allowed by the new major version: " if major_old != major_new else "INCOMPATIBLE: ") + line)
    if bad and major_old == major_new:
        print(f"abi-check: {len(bad)} incompatible change(s) against {args.baseline}; keep the old ABI, or bump "
              "R2_VERSION_MAJOR, or (on purpose) run `make abi-update` and commit the new baseline", file=sys.stderr)
        return 1
    grown = sorted(set(new["symbol"]) - set(old["symbol"]))
    print(f"abi-check: compatible with {args.baseline} ({len(old['symbol'])} symbols, {len(old['struct'])} structs"
          + (f"; new symbols: {', '.join(grown)}" if grown else "") + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())

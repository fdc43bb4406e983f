#!/usr/bin/env python3
"""Compose include/r2.h from the Swift sources.

Inputs: the C types header (Sources/CR2Types/include/r2_types.h), the header
swiftc emits for the @c functions of Sources/R2CABI (-emit-clang-header-path),
which gives each function's C prototype, and the Swift sources themselves,
which give each function's doc comment as written (swiftc's rendering turns
Markdown into HTML: `<em>` from a `*`, `<code>` from backticks).

Output: one C header laid out like sqlite3.h: a prelude, then one section per
group in GROUPS order, each with its types (from r2_types.h) and then its
functions, each under one C doc comment; the R2_EXPERIMENTAL block last.

A function's doc comment has this shape in Swift (ABI-1.0-PLAN.md):

    /// Gets an object's body into memory.
    ///
    /// - Parameters:
    ///   - body: Out: the body; release with r2_buf_dispose().
    ///   - client: The client.
    /// - Returns: R2_OK; R2_ERR_INVALID_ARGUMENT, ...
    /// - Ownership: strings are borrowed for the call; ...
    /// - Threads: any thread; ...

and becomes `/** ... @param body ... @return ... Ownership: ... Threads: ... */`,
backticks dropped. The documentation check refuses a function that lacks the
summary, any parameter (by its C name, in order), Returns, Ownership or
Threads, HTML, a "*/" inside a comment, or a doubled word once backticks are
dropped ("the defaults of version `version`").

swiftc prints every OpaquePointer as `void *`; the handle a parameter stands
for is named by HANDLE_PARAMS (by parameter name) and OUT_HANDLES (the `out`
parameter of constructors). A `void *` that neither table explains is an
error, so a new function cannot leak an untyped handle into the ABI.

usage: gen_header.py RAW_EMITTED_HEADER TYPES_HEADER OUTPUT SWIFT_SOURCE...
"""
from __future__ import annotations

import argparse
import re
import sys
import textwrap

HANDLE_PARAMS = {"client": "r2_client", "signer": "r2_signer", "result": "r2_signed",
                 "iter": "r2_list_iter", "cassette": "r2_cassette",
                 "cancel": "r2_cancel", "op": "r2_op"}
OUT_HANDLES = {
    "r2_client_new": "r2_client",
    "r2_client_new_from_env": "r2_client",
    "r2_signer_new": "r2_signer",
    "r2_signer_sign": "r2_signed",
    "r2_signer_presign": "r2_signed",
    "r2_list_iter_new": "r2_list_iter",
    "r2_cancel_new": "r2_cancel",
}
# `void **` parameters named so in any function (the operation of every *_async call).
OUT_HANDLE_PARAMS = {"op": "r2_op"}
# Parameters that are `void *` on purpose (callback payloads).
OPAQUE_OK = {"userdata", "read_userdata", "write_userdata"}
# A doc comment with a summary line starting with this marks a function outside the
# stable ABI: it goes into the R2_EXPERIMENTAL block at the end of the header.
EXPERIMENTAL_MARK = "Experimental:"

# The header's sections, in order: (key, title, what the section holds).
GROUPS = [
    ("version", "Version", "the version of the header and of the library"),
    ("errors", "Errors", "status codes and the details of the last failure"),
    ("buffers", "Buffers", "memory r2 hands to the caller, and headers"),
    ("client", "Client", "configuration, creating and freeing a client, cancel switches, name checks"),
    ("objects", "Objects", "put, get, head, copy and delete objects"),
    ("listing", "Listing", "listing a bucket, a page at a time or with an iterator"),
    ("multipart", "Multipart", "multipart uploads, part by part"),
    ("transfers", "Transfers", "the transfer manager: files, buffers and streams of any size"),
    ("presign", "Presign and signer", "presigned URLs and a standalone SigV4 signer"),
    ("observability", "Observability", "metrics, the circuit breaker, logs and traces"),
    ("replay", "Record/replay", "recording exchanges to a cassette and replaying them"),
    ("async", "Asynchronous operations", "operations that complete on r2's engine threads"),
]
GROUP_KEYS = [g[0] for g in GROUPS]

# Functions: the first rule whose pattern matches the name decides (ABI-1.0-PLAN.md,
# "Header order"); the names before ABI 1.0 are listed so that the generator
# works on both sides of the renames.
FUNCTION_RULES = [
    (r"r2_version_", "version"),
    (r"r2_(status|error)_", "errors"),
    (r"r2_buf_", "buffers"),
    (r"r2_op_|r2_\w+_async$", "async"),
    (r"r2_client_presign(_into)?$|r2_presign$|r2_presign_|r2_signer_|r2_signed_|r2_sign_", "presign"),
    (r"r2_client_(metrics|breaker)_|r2_log_|r2_trace_", "observability"),
    (r"r2_cassette_|r2_replay_|r2_record_", "replay"),
    (r"r2_client_|r2_cancel_|r2_bucket_validate$|r2_key_validate$|r2_validate_", "client"),
    (r"r2_list_(uploads|parts)_options_", "multipart"),
    (r"r2_object_|r2_objects_|r2_(put|get|copy|delete_many)_options_|r2_delete_result_", "objects"),
    (r"r2_list_", "listing"),
    (r"r2_multipart_|r2_part_|r2_upload_list_|r2_complete_options_", "multipart"),
    (r"r2_transfer_|r2_upload_|r2_download_|r2_copy_large$", "transfers"),
]

# Types and macros of r2_types.h: by name first, then by prefix. Types that a
# group's options need sit with the first group that uses them (a C header
# declares before use): the log and trace types with the client's options.
TYPE_GROUPS = {
    "r2_version": "version",
    "r2_status": "errors", "r2_error": "errors",
    "r2_buf": "buffers", "r2_header": "buffers",
    "r2_limits": "client", "r2_options": "client", "r2_payload_mode": "client", "r2_jurisdiction": "client", "r2_retry_rule": "client",
    "r2_log_level": "client", "r2_log_record": "client", "r2_log_cb": "client", "r2_free_cb": "client",
    "r2_trace_record": "client", "r2_trace_cb": "client", "r2_cancel": "client",
    "r2_breaker_state": "observability",
    "r2_checksum": "objects", "r2_rewind_cb": "objects", "r2_read_cb": "objects", "r2_write_cb": "objects",
    "r2_put_options": "objects", "r2_get_options": "objects", "r2_copy_options": "objects",
    "r2_delete_error": "objects", "r2_delete_result": "objects",
    "r2_object_entry": "listing",
    "r2_completed_part": "multipart", "r2_complete_options": "multipart", "r2_part_options": "multipart",
    "r2_part_info": "multipart", "r2_part_list": "multipart", "r2_upload_info": "multipart",
    "r2_upload_list": "multipart", "r2_list_uploads_options": "multipart", "r2_list_parts_options": "multipart",
    "r2_progress_cb": "transfers",
    "r2_done_cb": "async",
}
TYPE_RULES = [
    (r"r2_client", "client"),
    (r"r2_object_|r2_delete_", "objects"),
    (r"r2_multipart_", "multipart"),
    (r"r2_list_", "listing"),
    (r"r2_transfer_", "transfers"),
    (r"r2_sign|r2_presign_", "presign"),
    (r"r2_cassette", "replay"),
    (r"r2_op\b|r2_op_", "async"),
]
# Macros that belong to no type: the limits, and R2_OFF of every options struct.
MACRO_TYPES = {"R2_MAX_KEY_BYTES": "r2_limits", "R2_MIN_PRESIGN_EXPIRES": "r2_limits",
               "R2_MAX_PRESIGN_EXPIRES": "r2_limits", "R2_WRITE_PAUSE": "r2_op", "R2_READ_PAUSE": "r2_op",
               "R2_OFF": "r2_options"}

EXPERIMENTAL_BLOCK = """\
/* Experimental functions: test hooks and calls not yet stable. They may change
 * or go in any release, and the ABI guard (make abi-check) does not hold them.
 * Define R2_EXPERIMENTAL before including r2.h to declare them. */
#ifdef R2_EXPERIMENTAL

%s

#endif /* R2_EXPERIMENTAL */

"""

PROLOGUE = """\
/* r2.h: the C API of r2, a client library for Cloudflare R2 (S3-compatible
 * object storage).
 *
 * GENERATED by "make header" from Sources/CR2Types/include/r2_types.h and the
 * @c functions of Sources/R2CABI. Do not edit; CI fails if it drifts.
 *
 * %s
 *
 * Conventions (see README.md, "The C ABI"):
 * - Every fallible function returns an int32_t status: R2_OK (0) or a
 *   negative r2_status (iterators: R2_ITER_OVER, 1, at the end). Details of
 *   the last failure on the calling thread are in r2_error_last().
 * - Handles are opaque, created by r2_X_new(&out, ...) and released by
 *   r2_X_free(x); free(NULL) is a no-op.
 * - Strings in are NUL-terminated UTF-8, validated, borrowed for the call.
 *   Bodies are (const uint8_t *, size_t). Memory out is allocated by r2 and
 *   released with the matching r2_*_free or r2_buf_dispose, never free().
 * - Output parameters come first, then the handle, then inputs; a callback is
 *   followed by its void *userdata.
 * - Options structs start with a version field; initialise them with the
 *   *_INIT macro or the *_init() function.
 * - Threads: r2_client and r2_signer may be used from many threads at once;
 *   r2_signed is immutable; other handles say so where they are declared.
 *
 * Handle checks are best-effort armour, like SQLite's SQLITE_ENABLE_API_ARMOR:
 * each handle carries a type tag that r2 checks, without a lock, on every
 * call and marks when the handle is freed. NULL, a handle of another type, a
 * freed handle and most pointers r2 never handed out are refused with
 * R2_ERR_INVALID_ARGUMENT instead of followed. A call that races the free of
 * its handle either fails so or runs on a reference of its own, and calls
 * already running when their handle is freed finish normally. This catches
 * mistakes; it is no licence to make them: a freed handle's memory is kept
 * only for a while (the last 4096 frees), after which a stale pointer reads
 * memory r2 no longer owns, or a later handle that took its address.
 */
#ifndef R2_H
#define R2_H

"""

EPILOGUE = """\
#ifdef __cplusplus
}
#endif

#endif /* R2_H */
"""


class DocError(Exception):
    pass


# -- doc comments in the Swift sources ----------------------------------------

def source_docs(paths: list[str]) -> dict[str, list[str]]:
    """Each @c function's doc comment lines (without `/// `), in source order."""
    docs: dict[str, list[str]] = {}
    for path in paths:
        doc: list[str] = []
        for line in open(path, encoding="utf-8"):
            s = line.strip()
            if s.startswith("///"):
                doc.append(s[4:] if s.startswith("/// ") else s[3:])
                continue
            m = re.match(r"@c\s+public\s+func\s+(r2_\w+)\s*\(", s)
            if m:
                if m.group(1) in docs:
                    raise DocError(f"{m.group(1)}: exported twice")
                docs[m.group(1)] = doc
            doc = []
    return docs


SECTION = re.compile(r"- (Parameters|Returns|Ownership|Threads|Parameter (\w+)|[A-Z]\w*):\s*(.*)$")
PARAM = re.compile(r"  - (\w+):\s*(.*)$")


def parse_doc(lines: list[str]) -> dict:
    """The parts of a doc comment: summary lines, [(param, lines)], and each
    section's lines (Returns, Ownership, Threads and any other `- Word:`)."""
    doc = {"summary": [], "params": [], "sections": {}}
    current = doc["summary"]
    in_params = False
    for line in lines:
        m = SECTION.match(line)
        if m:
            in_params = m.group(1) == "Parameters"
            if m.group(2):  # `- Parameter name: text`
                current = [m.group(3)]
                doc["params"].append((m.group(2), current))
            elif in_params:
                current = []
                if m.group(3):
                    current.append(m.group(3))
            else:
                if m.group(1) in doc["sections"]:
                    raise DocError(f"two '- {m.group(1)}:' sections")
                current = doc["sections"].setdefault(m.group(1), [m.group(3)] if m.group(3) else [])
            continue
        p = PARAM.match(line) if in_params else None
        if p:
            current = [p.group(2)]
            doc["params"].append((p.group(1), current))
        elif doc["params"] or doc["sections"]:
            if line.strip():
                current.append(line.strip())
        else:
            current.append(line.rstrip())
    while doc["summary"] and not doc["summary"][-1].strip():
        doc["summary"].pop()
    return doc


def check_doc(name: str, params: list[str], doc: dict) -> list[str]:
    """What is wrong with a function's doc comment (empty: nothing)."""
    problems = []
    text = "\n".join(doc["summary"] + [l for _, ls in doc["params"] for l in ls]
                     + [l for ls in doc["sections"].values() for l in ls])
    if re.search(r"</?(em|strong|code|b|i|p|br|a)\b[^>]*>", text):
        problems.append("HTML in the doc comment")
    if "*/" in text:
        problems.append("'*/' in the doc comment (it would end the C comment)")
    if not any(l.strip() for l in doc["summary"]):
        problems.append("no summary (what the function does)")
    documented = [p for p, _ in doc["params"]]
    for p in params:
        if p not in documented:
            problems.append(f"parameter '{p}' is not documented")
    for p in documented:
        if p not in params:
            problems.append(f"'{p}' is documented but is no parameter (the C names are: {', '.join(params) or 'none'})")
    if not problems and documented != params:
        problems.append(f"parameters documented in another order than the C one ({', '.join(params)})")
    for p, ls in doc["params"]:
        if not " ".join(ls).strip():
            problems.append(f"parameter '{p}' has no description")
    for section in ("Returns", "Ownership", "Threads"):
        if not " ".join(doc["sections"].get(section, [])).strip():
            problems.append(f"no '- {section}:'")
    doubled = re.search(r"\b(\w+) \1\b", plain(text))
    if doubled:  # e.g. "the defaults of version `version`" with its backticks dropped
        problems.append(f"a doubled word once backticks are dropped: '{doubled.group(0)}'")
    return problems


def plain(text: str) -> str:
    """Markdown to the C comment's plain text: backticks dropped, typographic quotes made ASCII."""
    text = text.replace("`", "")
    for a, b in (("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"), ("\u2019", "'"), ("\u2026", "...")):
        text = text.replace(a, b)
    return text


def render_doc(doc: dict) -> str:
    """The C doc comment of a parsed Swift doc comment."""
    out = [plain(l).rstrip() for l in doc["summary"]]
    tail = []
    for p, ls in doc["params"]:
        tail.append(f"@param {p} {plain(ls[0]) if ls else ''}".rstrip())
        tail += ["       " + plain(l) for l in ls[1:]]
    sections = dict(doc["sections"])
    if "Returns" in sections:
        ls = sections.pop("Returns")
        tail.append(f"@return {plain(ls[0]) if ls else ''}".rstrip())
        tail += ["        " + plain(l) for l in ls[1:]]
    for title in ["Ownership", "Threads"] + [k for k in sections if k not in ("Ownership", "Threads")]:
        if title in sections:
            ls = sections[title]
            tail.append(f"{title}: {plain(ls[0]) if ls else ''}".rstrip())
            tail += ["    " + plain(l) for l in ls[1:]]
    if tail:
        out += [""] + tail
    return "/**\n" + "\n".join((" * " + l).rstrip() for l in out) + "\n */"


# -- declarations from the emitted header -------------------------------------

def parse_decl(decl: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(name, return type, [(type, name)]) of one emitted SWIFT_EXTERN line, handles typed."""
    m = re.match(r"SWIFT_EXTERN (.*?)\s*(r2_\w+)\((.*)\)((?: SWIFT_\w+)*);$", decl)
    if not m:
        raise SystemExit(f"gen_header: cannot parse declaration: {decl}")
    ret, name, params = m.group(1), m.group(2), m.group(3)

    def strip(t):
        t = re.sub(r"\s*_Null(able|_unspecified)(_result)?|\s*_Nonnull", "", t)
        t = re.sub(r"(\w+) const \*", r"const \1 *", t)
        return re.sub(r"\s+", " ", t).strip()

    out_params = []
    if params.strip() != "void":
        for p in params.split(","):
            p = strip(p)
            pm = re.match(r"(.*?)\s*(\w+)$", p)
            ptype, pname = pm.group(1), pm.group(2)
            if pname.endswith("_") and pname[:-1] in ("out", "signed", "result"):
                pname = pname[:-1]
            if ptype in ("void **", "void * *"):
                handle = OUT_HANDLE_PARAMS.get(pname) or OUT_HANDLES.get(name)
                if not handle:
                    raise SystemExit(f"gen_header: {name}: untyped `void **{pname}`; add it to OUT_HANDLES")
                ptype = f"{handle} **"
            elif ptype == "void *" and pname not in OPAQUE_OK:
                handle = HANDLE_PARAMS.get(pname)
                if not handle:
                    raise SystemExit(f"gen_header: {name}: untyped `void *{pname}`; add it to HANDLE_PARAMS")
                # Results are immutable: their getters take a const handle.
                const = "const " if handle == "r2_signed" and name.startswith("r2_signed_") and name != "r2_signed_free" else ""
                ptype = f"{const}{handle} *"
            out_params.append((ptype, pname))
    return name, strip(ret), out_params


def format_decl(name: str, ret: str, params: list[tuple[str, str]]) -> str:
    def join(t, n):
        return f"{t}{'' if t.endswith('*') else ' '}{n}"
    return f"R2_API {join(ret, name)}({', '.join(join(t, n) for t, n in params) or 'void'});"


def emitted_decls(raw: str) -> list[str]:
    body = raw.split('extern "C" {\n#endif\n', 1)[1].split("#if defined(__cplusplus)\n}", 1)[0]
    decls = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("SWIFT_EXTERN"):
            decls.append(line)
        elif line and not line.startswith(("#", "///")):
            raise SystemExit(f"gen_header: unexpected line in emitted header: {line}")
    return decls


def function_group(name: str) -> str:
    for pattern, group in FUNCTION_RULES:
        if re.match(pattern, name):
            return group
    raise SystemExit(f"gen_header: {name}: no header group; add it to FUNCTION_RULES")


# -- types --------------------------------------------------------------------

def type_chunks(types: str) -> list[str]:
    """r2_types.h cut at the blank lines outside braces: one declaration (with
    its comment and macros) a chunk."""
    chunks, current, depth = [], [], 0
    for line in types.splitlines():
        if not line.strip() and depth == 0:
            if current:
                chunks.append("\n".join(current))
            current = []
            continue
        current.append(line)
        depth += line.count("{") - line.count("}")
    if current:
        chunks.append("\n".join(current))
    return chunks


def chunk_type(chunk: str) -> str:
    """The type a chunk declares, or that its macros belong to."""
    code = re.sub(r"/\*.*?\*/", "", chunk, flags=re.S)
    m = (re.search(r"typedef (?:enum|struct) (\w+) \{", code) or re.search(r"typedef struct (\w+) \w+;", code)
         or re.search(r"typedef [^;]*?\(\*(\w+)\)", code))
    if m:
        return m.group(1)
    m = re.search(r"#define (\w+)", code)
    if not m:
        raise SystemExit(f"gen_header: r2_types.h: a block without a declaration:\n{chunk}")
    macro = m.group(1)
    if macro.startswith("R2_VERSION_"):
        return "r2_version"
    if macro in MACRO_TYPES:
        return MACRO_TYPES[macro]
    m = re.fullmatch(r"R2_(\w+)_(VERSION|INIT)", macro)
    if m:
        return "r2_" + m.group(1).lower()
    raise SystemExit(f"gen_header: r2_types.h: macro {macro} belongs to no type; add it to MACRO_TYPES")


def type_group(name: str) -> str:
    if name in TYPE_GROUPS:
        return TYPE_GROUPS[name]
    for pattern, group in TYPE_RULES:
        if re.match(pattern, name):
            return group
    raise SystemExit(f"gen_header: r2_types.h: type {name} has no header group; add it to TYPE_GROUPS")


def version_string(types: str) -> str:
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(rf"^#define R2_VERSION_{part} (\d+)$", types, re.M)
        if not m:
            raise SystemExit(f"gen_header: no R2_VERSION_{part} in r2_types.h")
        parts.append(m.group(1))
    return ".".join(parts)


# -- the header ---------------------------------------------------------------

def compose(raw: str, types_text: str, docs: dict[str, list[str]]) -> str:
    functions: dict[str, list[tuple[str, str]]] = {g: [] for g in GROUP_KEYS + ["experimental"]}
    problems = []
    decls = {}
    for line in emitted_decls(raw):
        name, ret, params = parse_decl(line)
        decls[name] = (ret, params)
    for name in docs:
        if name not in decls:
            raise SystemExit(f"gen_header: {name} is in the Swift sources but not in the emitted header")
    # Source order: the order the Swift files (sorted) declare the functions in.
    for name in sorted(decls, key=lambda n: list(docs).index(n) if n in docs else -1):
        ret, params = decls[name]
        if name not in docs:
            raise SystemExit(f"gen_header: {name}: no doc comment in the Swift sources")
        try:
            doc = parse_doc(docs[name])
        except DocError as e:
            problems.append(f"{name}: {e}")
            continue
        problems += [f"{name}: {p}" for p in check_doc(name, [p for _, p in params], doc)]
        experimental = any(line.startswith(EXPERIMENTAL_MARK) for line in doc["summary"])
        group = "experimental" if experimental else function_group(name)
        functions[group].append((name, render_doc(doc) + "\n" + format_decl(name, ret, params)))
    if problems:
        raise DocError("\n".join(problems))
    if not any(functions.values()):
        raise SystemExit("gen_header: no exported functions found")

    types = types_text.split("#define R2_TYPES_H\n", 1)[1].rsplit("#endif /* R2_TYPES_H */", 1)[0]
    types = types.replace("#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n", "")
    type_parts: dict[str, list[str]] = {g: [] for g in GROUP_KEYS}
    version = version_string(types_text)
    pending = ""  # a comment on its own introduces the declaration after it
    for chunk in type_chunks(types):
        if not re.sub(r"/\*.*?\*/", "", chunk, flags=re.S).strip():
            pending += chunk + "\n\n"
            continue
        chunk, pending = pending + chunk, ""
        name = chunk_type(chunk)
        if name == "r2_version":  # after the last R2_VERSION_* macro
            last = list(re.finditer(r"^#define R2_VERSION_\w+ .*$", chunk, re.M))[-1]
            chunk = chunk[:last.end()] + f'\n#define R2_VERSION_STRING "{version}"' + chunk[last.end():]
        chunk = chunk.replace("`", "")  # no Markdown in the header, from either source
        type_parts[type_group(name)].append(chunk)

    sections = []
    for key, title, about in GROUPS:
        if not type_parts[key] and not functions[key]:
            continue
        banner = f"/* {'=' * 74}\n * {title}: {about}.\n * {'=' * 74} */"
        sections.append("\n\n".join([banner] + type_parts[key] + [f for _, f in functions[key]]) + "\n\n")
    present = [title for key, title, _ in GROUPS if type_parts[key] or functions[key]]
    sections_line = textwrap.fill(f"Sections, in order: {', '.join(present)}; then, with R2_EXPERIMENTAL defined, "
                                  "the experimental calls.", 76, subsequent_indent=" * ")
    out = [PROLOGUE % sections_line,
           "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n\n",
           "#if defined(_WIN32)\n#define R2_API\n#else\n#define R2_API __attribute__((visibility(\"default\")))\n#endif\n\n",
           "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"]
    out += sections
    if functions["experimental"]:
        out.append(EXPERIMENTAL_BLOCK % "\n\n".join(f for _, f in functions["experimental"]))
    out.append(EPILOGUE)
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description="Compose include/r2.h (see the module's doc).")
    ap.add_argument("raw")
    ap.add_argument("types")
    ap.add_argument("out")
    ap.add_argument("sources", nargs="+")
    args = ap.parse_args()
    try:
        text = compose(open(args.raw, encoding="utf-8").read(), open(args.types, encoding="utf-8").read(),
                       source_docs(sorted(args.sources)))
    except DocError as e:
        print(f"gen_header: the doc comments of these exported functions are incomplete:\n{e}", file=sys.stderr)
        sys.exit(1)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()

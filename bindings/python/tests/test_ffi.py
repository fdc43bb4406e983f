"""r2/_ffi.py against include/r2.h and libr2.so: generated text, symbols, struct layouts."""
from __future__ import annotations

import ctypes
import importlib.util
import shutil
import subprocess

import pytest

from conftest import PYTHON_DIR, ROOT
from r2 import _ffi

spec = importlib.util.spec_from_file_location("gen_ffi", PYTHON_DIR / "tools" / "gen_ffi.py")
gen_ffi = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen_ffi)


def test_committed_ffi_is_what_the_header_generates():
    committed = (PYTHON_DIR / "r2" / "_ffi.py").read_text(encoding="utf-8")
    assert gen_ffi.generate(ROOT / "include" / "r2.h") == committed, (
        "r2/_ffi.py is out of date with include/r2.h: run python3 bindings/python/tools/gen_ffi.py and commit it")


@pytest.mark.parametrize("snippet", [
    "R2_API int32_t r2_f(struct r2_unknown *x);",           # an unknown type
    "typedef union r2_u { int a; } r2_u;",                 # a construct it does not parse
    "#define R2_THING some_function(1)",                    # a macro value it cannot translate
    "#if R2_VERSION_MAJOR > 0\n#endif",                     # a conditional it cannot evaluate
])
def test_generator_refuses_what_it_does_not_understand(tmp_path, snippet):
    original = (ROOT / "include" / "r2.h").read_text(encoding="utf-8")
    header = original.replace("#ifdef __cplusplus\n}", snippet + "\n#ifdef __cplusplus\n}")
    assert header != original
    path = tmp_path / "r2.h"
    path.write_text(header, encoding="utf-8")
    with pytest.raises(gen_ffi.HeaderError):
        gen_ffi.generate(path)


def test_every_header_function_is_exported_and_nothing_else(lib):
    nm = shutil.which("nm")
    if nm is None:
        pytest.fail("nm (binutils) is needed to list the library's symbols")
    out = subprocess.run([nm, "-D", "--defined-only", lib.path], check=True, capture_output=True, text=True).stdout
    symbols = [line.split() for line in out.splitlines()]
    exported = {s[-1] for s in symbols if len(s) == 3 and s[1] == "T" and s[2].startswith("r2_")}
    assert exported == set(_ffi.FUNCTIONS)


def test_struct_layouts_match_the_c_compiler(tmp_path):
    """Every field's offset and every struct's size as ctypes sees them equal
    what a C compiler sees through r2.h."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.fail("a C compiler (cc) is needed to check struct layouts")
    structs = [v for v in vars(_ffi).values()
               if isinstance(v, type) and issubclass(v, ctypes.Structure) and getattr(v, "_fields_", None)]
    assert len(structs) >= 15
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "r2.h"', "int main(void) {"]
    expected = []
    for s in structs:
        lines.append(f'    printf("{s.__name__} %zu\\n", sizeof({s.__name__}));')
        expected.append(f"{s.__name__} {ctypes.sizeof(s)}")
        for name, _ in s._fields_:
            lines.append(f'    printf("{s.__name__}.{name} %zu\\n", offsetof({s.__name__}, {name}));')
            expected.append(f"{s.__name__}.{name} {getattr(s, name).offset}")
    lines += ["    return 0;", "}"]
    (tmp_path / "layout.c").write_text("\n".join(lines), encoding="utf-8")
    subprocess.run([cc, "-std=c99", "-I", str(ROOT / "include"), "layout.c", "-o", "layout"], cwd=tmp_path, check=True)
    actual = subprocess.run([str(tmp_path / "layout")], check=True, capture_output=True, text=True).stdout.split("\n")
    assert actual[:-1] == expected


def test_library_version_matches_the_header(lib):
    assert lib.r2_version_number() == _ffi.R2_VERSION_NUMBER
    assert lib.version == _ffi.R2_VERSION_STRING

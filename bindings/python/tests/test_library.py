"""Finding libr2.so: explicit path, next to the package, $R2_LIBRARY, the checkout, the system loader."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import r2
from conftest import PYTHON_DIR, ROOT
from r2 import _library


def run_python(code: str, env_updates: dict, path=PYTHON_DIR) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter that imports r2 from ``path`` (the cwd
    is path's parent, so that `-c`'s '' entry of sys.path cannot find another r2)."""
    env = {k: v for k, v in os.environ.items() if k not in ("R2_LIBRARY", "LD_LIBRARY_PATH")}
    env.update(env_updates, PYTHONPATH=str(path))
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=path.parent, capture_output=True, text=True, timeout=60)


def test_explicit_path_is_used_and_cached(lib):
    assert r2.load_library(lib.path) is r2.load_library(lib.path)
    assert r2.load_library(lib.path).path == lib.path


def test_a_missing_explicit_path_is_an_error_naming_it_and_nothing_else(tmp_path):
    missing = tmp_path / "nowhere" / "libr2.so"
    with pytest.raises(r2.LibraryError) as e:
        r2.load_library(missing)
    assert f"explicit path: {missing} (no such file)" in str(e.value)
    assert "system loader" not in str(e.value)  # a named library never falls back to another


def test_a_file_that_is_not_a_library_reports_the_loader_error(tmp_path):
    bogus = tmp_path / "libr2.so"
    bogus.write_bytes(b"not an ELF file")
    with pytest.raises(r2.LibraryError, match="explicit path: .*libr2.so \\(.*"):
        r2.load_library(bogus)


def test_default_search_order_from_a_checkout(monkeypatch):
    monkeypatch.delenv("R2_LIBRARY", raising=False)
    places = _library._candidates(None)
    assert [where for where, _ in places] == ["next to the package", "repository checkout", "system loader"]
    assert places[0][1] == str(PYTHON_DIR / "r2" / "libr2.so")
    assert places[1][1] == str(ROOT / ".build" / "release" / "libr2.so")


def test_environment_variable_wins_and_a_bad_one_says_so():
    result = run_python("import r2; r2.Client(access_key_id='a', secret_access_key='b')", {"R2_LIBRARY": "/nonexistent/libr2.so"})
    assert result.returncode != 0
    assert "r2.LibraryError" in result.stderr or "LibraryError" in result.stderr
    assert "$R2_LIBRARY: /nonexistent/libr2.so (no such file)" in result.stderr
    assert "make build" in result.stderr


def test_import_does_not_load_the_library():
    result = run_python("import r2, sys; print(r2.__version__)", {"R2_LIBRARY": "/nonexistent/libr2.so"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == r2.__version__


def test_library_next_to_an_installed_package_is_found(tmp_path, lib):
    """A copy of the package outside the checkout with libr2.so beside it."""
    site = tmp_path / "site"
    shutil.copytree(PYTHON_DIR / "r2", site / "r2", ignore=shutil.ignore_patterns("__pycache__"))
    os.symlink(lib.path if os.path.isabs(lib.path) else os.path.abspath(lib.path), site / "r2" / "libr2.so")
    result = run_python("import r2; print(r2.load_library().path)", {}, path=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(site / "r2" / "libr2.so")


def test_the_bundled_library_comes_before_the_environment_variable(tmp_path, lib):
    """A wheel's libr2.so is the one built for its package: $R2_LIBRARY does not replace it."""
    site = tmp_path / "site"
    shutil.copytree(PYTHON_DIR / "r2", site / "r2", ignore=shutil.ignore_patterns("__pycache__"))
    os.symlink(os.path.abspath(lib.path), site / "r2" / "libr2.so")
    result = run_python("import r2; print(r2.load_library().path)", {"R2_LIBRARY": "/nonexistent/libr2.so"}, path=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(site / "r2" / "libr2.so")


def test_nothing_found_lists_every_place_tried(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(PYTHON_DIR / "r2", site / "r2", ignore=shutil.ignore_patterns("__pycache__"))
    result = run_python("import r2; r2.load_library()", {}, path=site)
    assert result.returncode != 0
    assert f"next to the package: {site / 'r2' / 'libr2.so'} (no such file)" in result.stderr
    assert "system loader: libr2.so (" in result.stderr
    assert "repository checkout" not in result.stderr  # not run from a checkout

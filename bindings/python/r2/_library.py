"""Finding libr2.so, loading it and binding the C functions declared in _ffi."""
from __future__ import annotations

import ctypes
import os
import threading
from . import _ffi

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

LIBRARY_ENV = "R2_LIBRARY"
LIBRARY_FILE = "libr2.so"

_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
# bindings/python/r2 -> the repository root, when running from a checkout.
_CHECKOUT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(_PACKAGE_DIR)))


class LibraryError(ImportError):
    """libr2 could not be found or loaded, or is not the version this package was generated for."""


class Library:
    """A loaded libr2 with every function of r2.h bound to its ctypes signature.

    The functions are attributes named as in the header (``lib.r2_object_put``).
    ctypes.CDLL releases the GIL for the duration of each call.
    """

    def __init__(self, path: str, cdll: ctypes.CDLL) -> None:
        self.path = path
        for name, (restype, argtypes) in _ffi.FUNCTIONS.items():
            try:
                function = getattr(cdll, name)
            except AttributeError:
                raise LibraryError(f"{path} has no {name}: it is older than the r2.h this package was generated from") from None
            function.restype = restype
            function.argtypes = argtypes
            setattr(self, name, function)
        self.unchecked = _Unchecked(cdll)
        self.version = self.r2_version_string().decode()
        # The ABI may grow within a minor version, never shrink: the library's
        # MAJOR.MINOR must be the header's, and its PATCH may be anything.
        number = self.r2_version_number()
        if number // 100 != _ffi.R2_VERSION_NUMBER // 100:
            raise LibraryError(f"{path} is libr2 {self.version}, but this package was generated from r2.h "
                               f"{_ffi.R2_VERSION_STRING}: rebuild the library or regenerate r2/_ffi.py")

    if TYPE_CHECKING:  # the r2_* functions are set per instance from _ffi.FUNCTIONS
        def __getattr__(self, name: str) -> Any: ...

    def __repr__(self) -> str:
        return f"<r2.Library {self.version} from {self.path}>"


class _Unchecked:
    """The calls made once per presigned URL, signature or listed page, bound a second
    time without argtypes: ctypes then converts nothing (its per-argument
    checks cost more than the C call itself). Callers pass exactly the C
    types: bytes or None for strings, ctypes pointers and byref() for
    pointers, c_int64 or c_int64.from_param(n) for int64_t, c_size_t.from_param(n)
    for size_t (a bare int would be passed as a C int)."""

    __slots__ = ("r2_client_presign_into", "r2_list_objects", "r2_list_result_dispose", "r2_signer_sign",
                 "r2_signer_presign", "r2_signed_get", "r2_signed_free")
    r2_client_presign_into: Any
    r2_signer_sign: Any
    r2_signer_presign: Any
    r2_signed_get: Any
    r2_signed_free: Any
    r2_list_objects: Any
    r2_list_result_dispose: Any

    def __init__(self, cdll: ctypes.CDLL) -> None:
        for name in self.__slots__:
            function = cdll[name]  # a new function object: the checked one keeps its argtypes
            function.restype = _ffi.FUNCTIONS[name][0]  # type: ignore[assignment]
            setattr(self, name, function)


_lock = threading.Lock()
_loaded: dict[Optional[str], Library] = {}


def _candidates(path: Optional[str]) -> list[tuple[str, str]]:
    """Where to look, in order, as (description, path) pairs. An explicit path
    is the only candidate: a caller who names a library must never silently
    get another one. Otherwise the library bundled in the package (a wheel's)
    comes first, as the one built for this package; then $R2_LIBRARY, which
    when set is the only other candidate; then the checkout and the system."""
    if path is not None:
        return [("explicit path", path)]
    places = [("next to the package", os.path.join(_PACKAGE_DIR, LIBRARY_FILE))]
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return places + [(f"${LIBRARY_ENV}", env)]
    if os.path.isfile(os.path.join(_CHECKOUT_ROOT, "include", "r2.h")):
        places.append(("repository checkout", os.path.join(_CHECKOUT_ROOT, ".build", "release", LIBRARY_FILE)))
    places.append(("system loader", LIBRARY_FILE))
    return places


def load_library(path: Union[str, os.PathLike, None] = None) -> Library:
    """Loads libr2 (once per path) and returns it.

    Without ``path`` the places tried are: ``libr2.so`` next to this package
    (where a wheel bundles it), $R2_LIBRARY, the checkout's
    ``.build/release/libr2.so`` when the package runs from the repository,
    then the system loader (LD_LIBRARY_PATH, ldconfig). Raises LibraryError naming every place tried. A library is
    loaded once per process and path: the default search runs at its first
    success only, so later changes to $R2_LIBRARY are not seen.
    """
    key = None if path is None else os.fspath(path)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        tried = []
        for where, candidate in _candidates(key):
            is_file_path = os.sep in candidate
            if is_file_path and not os.path.isfile(candidate):
                tried.append(f"  {where}: {candidate} (no such file)")
                continue
            try:
                cdll = ctypes.CDLL(candidate)
            except OSError as e:
                tried.append(f"  {where}: {candidate} ({e})")
                continue
            library = Library(candidate, cdll)
            _loaded[key] = library
            return library
        raise LibraryError("could not load libr2; tried:\n" + "\n".join(tried) +
                           f"\nBuild it with `make build`, or set ${LIBRARY_ENV} to the path of {LIBRARY_FILE}.")

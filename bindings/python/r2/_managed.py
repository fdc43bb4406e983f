"""Managed: the one base of every Python object that owns a libr2 handle."""
from __future__ import annotations

import threading

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _Self = TypeVar("_Self", bound="Managed")

# Taking a handle out of its owner happens under this lock, so two threads
# closing the same object free it once. Reentrant: the collector may run
# another object's __del__ on this thread while it holds the lock.
_taking = threading.RLock()


class Managed:
    """Owns one native handle (an ``r2_client *``, ``r2_signer *``, ...), as
    wasmtime-py's ``Managed`` does: frees it exactly once, on ``close()``, at
    the end of a ``with`` block or when the object is collected, and refuses
    use after close (``_ptr()`` raises ValueError).

    A subclass sets ``_kind`` (for the message), implements ``_free`` with its
    r2_*_free function, and hands its handle over with ``_own``. A subclass
    that must do more on close (wait for calls in flight, close children)
    overrides ``close`` and ends with ``_release()``; collection always just
    releases (an unreachable object has nothing in flight)."""

    __slots__ = ("_lib", "_handle")
    _kind = "handle"

    def _own(self, lib: Any, handle: Any) -> None:
        self._lib = lib
        self._handle = handle

    def _free(self, lib: Any, handle: Any) -> None:
        raise NotImplementedError

    def _ptr(self) -> Any:
        """The handle, or ValueError once closed."""
        handle = getattr(self, "_handle", None)
        if handle is None:
            raise ValueError(f"the r2 {self._kind} is closed")
        return handle

    @property
    def closed(self) -> bool:
        return getattr(self, "_handle", None) is None

    def _release(self) -> None:
        with _taking:
            handle = getattr(self, "_handle", None)
            self._handle = None
        if handle is not None:
            self._free(self._lib, handle)

    def close(self) -> None:
        """Frees the handle. Idempotent."""
        self._release()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:  # not when __init__ failed before _own
            self._release()

"""Ctrl-C during a call into libr2.

Python runs signal handlers only between bytecodes of the main thread, so a
KeyboardInterrupt cannot surface while the main thread is inside a C call,
and when it does surface (in a callback, or right after the call) it may be
raised at any bytecode, e.g. before a callback's ``try`` or in the middle of
cleaning up, where it is lost or leaks a handle.

``Interrupts(cancel)`` wraps a call made on the main thread while SIGINT has
Python's default handler. For the duration of the call it

- replaces that handler with one that only records the interrupt, so nothing
  is raised at an arbitrary point;
- points signal.set_wakeup_fd at a pipe read by a watcher thread: the C-level
  signal handler writes to it at once, even while the main thread is stalled
  in libcurl, and the watcher calls ``cancel`` (r2_cancel_signal, which is
  callable from any thread) for every guarded call in progress;
- lets callbacks ask ``interrupted`` and stop the transfer themselves;

and when the call has returned and its results are released, it restores the
handler and the wakeup fd and raises KeyboardInterrupt in their place.

On other threads, or when SIGINT has another handler (or is ignored), it does
nothing: Python only delivers signals to the main thread, and a custom
handler may not mean "stop".
"""
from __future__ import annotations

import os
import signal
import threading

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

_SIGINT = int(signal.SIGINT)


class _Session:
    """What the outermost guarded call installed, shared by nested ones."""

    def __init__(self) -> None:
        self.interrupted = False
        self.previous_handler: Any = None
        self.previous_wakeup_fd: Optional[int] = None  # None: set_wakeup_fd failed, nothing to restore
        self.depth = 0


class _Watcher:
    """A daemon thread reading the wakeup pipe; started on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cancels: list[Callable[[], None]] = []
        self.session: Optional[_Session] = None
        self.forward_fd = -1
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)  # set_wakeup_fd requires it
        threading.Thread(target=self._run, name="r2-sigint", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 512)
            except InterruptedError:  # pragma: no cover -- PEP 475 retries; kept for safety
                continue
            if not data:
                return
            with self.lock:
                if _SIGINT in data and self.session is not None:
                    self.session.interrupted = True
                    for cancel in self.cancels:
                        try:
                            cancel()
                        except Exception:  # noqa: BLE001 -- a watcher must not die
                            pass
                forward = self.forward_fd
            if forward != -1:  # someone else's wakeup fd (asyncio's, ...) still hears every signal
                try:
                    os.write(forward, data)
                except OSError:
                    pass


_watcher: Optional[_Watcher] = None
_watcher_lock = threading.Lock()
_session: Optional[_Session] = None  # touched by the main thread only


def _get_watcher() -> _Watcher:
    global _watcher
    with _watcher_lock:
        if _watcher is None:
            _watcher = _Watcher()
        return _watcher


def _forget_watcher_in_child() -> None:  # a forked child has no watcher thread: it starts its own
    global _watcher, _session
    _watcher = None
    _session = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_watcher_in_child)


def _on_sigint(signum, frame) -> None:  # runs on the main thread, between bytecodes
    if _session is not None:
        _session.interrupted = True


def _run_pending_handlers() -> None:
    """A Python-level call: entering it lets the interpreter run a handler whose signal is pending."""


class Interrupts:
    """``with Interrupts(cancel) as guard:`` around one call; see the module docstring.

    ``cancel`` (may be None) is called from the watcher thread on SIGINT.
    ``guard.interrupted`` tells callbacks to stop. Leaving the block raises
    KeyboardInterrupt (in place of whatever the call raised) after an interrupt."""

    __slots__ = ("cancel", "session")

    def __init__(self, cancel: Optional[Callable[[], None]] = None) -> None:
        self.cancel = cancel
        self.session: Optional[_Session] = None

    @property
    def interrupted(self) -> bool:
        return self.session is not None and self.session.interrupted

    def __enter__(self) -> Interrupts:
        global _session
        if threading.current_thread() is not threading.main_thread():
            return self
        if _session is None:
            if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
                return self
            watcher = _get_watcher()
            session = _Session()
            _session = session  # first, so that the handler finds it
            try:
                session.previous_handler = signal.signal(signal.SIGINT, _on_sigint)
            except BaseException:  # a Ctrl-C before the handler was in place
                _session = None
                raise
            try:
                session.previous_wakeup_fd = signal.set_wakeup_fd(watcher.write_fd, warn_on_full_buffer=False)
            except (ValueError, OSError):  # not the main interpreter, ...: the handler alone still helps
                pass
            with watcher.lock:
                watcher.session = session
                watcher.forward_fd = session.previous_wakeup_fd if session.previous_wakeup_fd is not None else -1
        self.session = _session
        _session.depth += 1
        if self.cancel is not None:
            watcher = _get_watcher()
            with watcher.lock:
                watcher.cancels.append(self.cancel)
                if _session.interrupted:  # Ctrl-C came before this (nested) call started
                    self.cancel()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        global _session
        session = self.session
        if session is None:
            return
        self.session = None
        watcher = _get_watcher()
        if self.cancel is not None:
            with watcher.lock:
                watcher.cancels.remove(self.cancel)  # the handle may be freed once we return
        _run_pending_handlers()
        session.depth -= 1
        if session.depth == 0:
            _session = None
            with watcher.lock:
                watcher.session = None
                watcher.forward_fd = -1
            if session.previous_wakeup_fd is not None:
                try:
                    signal.set_wakeup_fd(session.previous_wakeup_fd)
                except (ValueError, OSError):
                    pass
            signal.signal(signal.SIGINT, session.previous_handler)
        if session.interrupted:
            raise KeyboardInterrupt from None

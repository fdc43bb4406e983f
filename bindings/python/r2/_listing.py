"""The Client's listing: one page (list) or every object lazily (list_all,
an ObjectIterator over r2_list_iter)."""
from __future__ import annotations

import threading
from ctypes import POINTER, byref, c_void_p, sizeof, string_at

from . import _ffi
from ._base import ClientBase
from ._convert import check, cstr
from ._managed import Managed
from ._options import list_options
from ._types import ListPage, ObjectEntries, ObjectEntry, text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, Iterator, Optional

    from ._library import Library


_OBJECTS = _ffi.r2_list_result.objects.offset
_STRINGS = _ffi.r2_list_result.strings.offset
_ENTRY_SIZE = sizeof(_ffi.r2_object_entry)  # r2 lays the entries out as version 1, this struct


class ListingMixin(ClientBase):
    """list, list_all."""

    def list(self, bucket: str, *, prefix: Optional[str] = None, delimiter: Optional[str] = None,
             start_after: Optional[str] = None, continuation_token: Optional[str] = None,
             max_keys: Optional[int] = None) -> ListPage:
        """One page of ListObjectsV2 (up to ``max_keys``, default 1000)."""
        opts = list_options(self._lib, prefix=prefix, delimiter=delimiter, start_after=start_after,
                            continuation_token=continuation_token, max_keys=max_keys)
        b = cstr(bucket, "bucket")
        page = _ffi.r2_list_result(_ffi.R2_LIST_RESULT_VERSION)
        out = byref(page)
        lib = self._lib.unchecked  # every argument is already its C type (see Library.unchecked)
        with self._in_use as handle:
            code = lib.r2_list_objects(out, handle, b, opts)
        try:
            check(self._lib, code)
            return list_page(page)
        finally:
            lib.r2_list_result_dispose(out)

    def list_all(self, bucket: str, *, prefix: Optional[str] = None, delimiter: Optional[str] = None,
                 start_after: Optional[str] = None, page_size: Optional[int] = None) -> ObjectIterator:
        """Every object of bucket (under ``prefix``), lazily, fetching a page
        of ``page_size`` (default 1000) whenever the previous one is used up."""
        opts = list_options(self._lib, prefix=prefix, delimiter=delimiter, start_after=start_after,
                            continuation_token=None, max_keys=page_size)
        b = cstr(bucket, "bucket")
        handle = POINTER(_ffi.r2_list_iter)()
        with self._in_use as client:
            code = self._lib.r2_list_iter_new(byref(handle), client, b, opts)
        check(self._lib, code)
        iterator = ObjectIterator(self, handle)
        self._adopt(iterator)
        return iterator


def list_page(page: Any) -> ListPage:
    """The ListPage of a filled r2_list_result: the page's text and its entry
    table, copied in one piece each; the entries are made when read (ObjectEntries)."""
    count = page.object_count
    base = c_void_p.from_buffer(page, _STRINGS).value or 0
    table = string_at(c_void_p.from_buffer(page, _OBJECTS).value or 0, count * _ENTRY_SIZE) if count else b""
    objects = ObjectEntries(string_at(base, page.strings_size) if base else b"", base,
                            memoryview(table).cast("Q"), count)
    return ListPage(objects=objects,
                    common_prefixes=[text(p) or "" for p in page.common_prefixes[:page.common_prefix_count]],
                    is_truncated=page.is_truncated, next_continuation_token=text(page.next_continuation_token),
                    request_id=text(page.request_id))


class ObjectIterator(Managed):
    """The objects of a listing (ObjectEntry), fetched page by page as the
    iteration goes (r2_list_iter). Close it (or use ``with``) to release it
    before the end; it is released at the end and when collected. A closed
    iterator is exhausted (next() raises StopIteration)."""

    _kind = "list iterator"

    def __init__(self, client: ClientBase, handle: Any) -> None:
        self._client = client
        self._lock = threading.Lock()  # an r2_list_iter is used from one thread at a time
        self._own(client._lib, handle)

    def _free(self, lib: Library, handle: Any) -> None:
        lib.r2_list_iter_free(handle)

    def __iter__(self) -> Iterator[ObjectEntry]:
        return self

    def __next__(self) -> ObjectEntry:
        with self._lock:
            if self.closed:
                raise StopIteration
            entry = _ffi.r2_object_entry(_ffi.R2_OBJECT_ENTRY_VERSION)
            with self._client._in_use:
                code = self._lib.r2_list_iter_next(byref(entry), self._handle)
            if code == _ffi.R2_ITER_OVER:
                self._release()
                raise StopIteration
            check(self._lib, code)  # a failed page can be retried by calling next() again
            return ObjectEntry.from_c(entry)  # copied now: the entry's strings live until the next call

    def close(self) -> None:
        with self._lock:  # not while another thread is inside next()
            self._release()

"""The result types: plain classes with __slots__ (not dataclasses, for start-up
time) that keep what the dataclasses gave: keyword and positional construction
with the same defaults, equality by value, a repr of the fields, read-only."""
from __future__ import annotations

import copy
import pickle

import pytest

import r2


def test_construction_defaults_and_equality():
    entry = r2.ObjectEntry("k", 3)
    assert (entry.key, entry.size, entry.etag, entry.last_modified, entry.storage_class) == ("k", 3, None, None, None)
    assert entry == r2.ObjectEntry(key="k", size=3, etag=None)
    assert entry != r2.ObjectEntry("k", 4)
    assert entry != ("k", 3, None, None, None)  # another class is never equal
    info = r2.ObjectInfo(etag='"e"')
    assert info.metadata == {} and info.content_length == 0 and info.http_status == 0
    assert info.metadata is not r2.ObjectInfo().metadata  # a fresh dict each, like default_factory=dict
    assert r2.TransferConfig().progress_interval == 0.1
    with pytest.raises(TypeError):
        r2.ObjectEntry("k")  # size is required
    with pytest.raises(TypeError):
        r2.CompletedPart(1, "e", colour="blue")


def test_repr_lists_the_fields():
    assert repr(r2.CompletedPart(1, '"e"')) == "CompletedPart(part_number=1, etag='\"e\"')"
    assert repr(r2.DeleteError("k", "AccessDenied", "no")) == "DeleteError(key='k', code='AccessDenied', message='no')"


def test_read_only_hash_pickle_copy():
    part = r2.CompletedPart(2, "e")
    with pytest.raises(AttributeError):
        part.etag = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del part.etag
    with pytest.raises(AttributeError):
        part.colour = "blue"  # type: ignore[attr-defined]
    assert hash(part) == hash(r2.CompletedPart(2, "e"))
    with pytest.raises(TypeError):
        hash(r2.ObjectInfo())  # metadata is a dict, so not hashable (as with the frozen dataclass)
    info = r2.ObjectInfo(etag="e", content_length=5, metadata={"a": "b"})
    assert pickle.loads(pickle.dumps(info)) == info and copy.deepcopy(info) == info
    assert copy.copy(r2.TransferConfig(max_concurrency=8)) == r2.TransferConfig(max_concurrency=8)

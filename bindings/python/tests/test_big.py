"""A 1 GiB object up and down through the streaming APIs: same SHA-256, bounded memory.

R2_TEST_BIG_MIB sets the size (default 1024, as the C tests' BIG_MIB)."""
from __future__ import annotations

import hashlib
import os
import time

import pytest

BIG_MIB = int(os.environ.get("R2_TEST_BIG_MIB", "1024"))
MAX_GROWTH_MIB = 64


def reset_peak_rss() -> None:
    """Makes VmHWM start again from the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/self/status")


class Source:
    """BIG_MIB MiB of pseudo-random bytes, produced on demand and hashed as read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = hashlib.shake_256(b"r2 big object").digest(1 << 20)
        self.offset = 0
        self.sha = hashlib.sha256()

    def readinto(self, view) -> int:
        n = min(len(view), self.left, len(self.block) - self.offset)
        view[:n] = self.block[self.offset:self.offset + n]
        self.sha.update(view[:n])
        self.offset = (self.offset + n) % len(self.block)
        if self.offset == 0:  # a new block per MiB, so the object is not periodic
            self.block = hashlib.sha256(self.block[:64]).digest() + self.block[32:]
        self.left -= n
        return n


@pytest.mark.skipif(BIG_MIB <= 0, reason="R2_TEST_BIG_MIB=0")
def test_big_object_streams_up_and_down_in_bounded_memory(client, bucket, prefix):
    size = BIG_MIB << 20
    key = prefix + "big.bin"
    source = Source(size)
    progress = []

    reset_peak_rss()
    before = peak_rss_kib()
    t0 = time.monotonic()
    info = client.put(bucket, key, source, length=size, callback=progress.append)
    up_s = time.monotonic() - t0
    up_growth = peak_rss_kib() - before
    assert source.left == 0 and sum(progress) == size and info.etag

    reset_peak_rss()
    before = peak_rss_kib()
    t0 = time.monotonic()
    sha, total = hashlib.sha256(), 0
    with client.open(bucket, key) as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
            total += len(chunk)
    down_s = time.monotonic() - t0
    down_growth = peak_rss_kib() - before
    client.delete(bucket, key)

    print(f"\n  {BIG_MIB} MiB: put {up_s:.1f} s (+{up_growth // 1024} MiB peak RSS), "
          f"open/read {down_s:.1f} s (+{down_growth // 1024} MiB peak RSS)")
    assert total == size and f.info.content_length == size
    assert sha.hexdigest() == source.sha.hexdigest()
    assert up_growth <= MAX_GROWTH_MIB * 1024 and down_growth <= MAX_GROWTH_MIB * 1024

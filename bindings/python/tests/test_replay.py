"""Record and replay: the C cassette from Python, and a Python session recorded and replayed."""
from __future__ import annotations

import io
import json

import pytest

import r2
from conftest import C_CASSETTE

NOWHERE = "http://127.0.0.1:9"  # replay must never touch the network


def replay_client(path, **options) -> r2.Client:
    return r2.Client(endpoint=NOWHERE, allow_http=True, access_key_id="AKIDREPLAY",
                     secret_access_key="any-secret-works-for-replay-000000000000", replay=path, **options)


def test_the_c_cassette_replays_from_python():
    bucket = "r2-test"
    with replay_client(C_CASSETTE) as c:
        put = c.put(bucket, "cassette/a.txt", b"recorded body")
        assert put.etag == '"dc2184bc71d0e8f0c71c52152444a27e"'
        got = c.get(bucket, "cassette/a.txt")
        assert got.body == b"recorded body" and got.info.etag == put.etag
        with pytest.raises(r2.NoSuchKey) as e:
            c.get(bucket, "cassette/missing")
        assert e.value.http_status == 404 and e.value.request_id
        page = c.list(bucket, prefix="cassette/")
        assert [o.key for o in page.objects] == ["cassette/a.txt"] and page.objects[0].size == 13
        c.delete(bucket, "cassette/a.txt")
        with pytest.raises(r2.ReplayUnmatched, match="DELETE"):
            c.delete(bucket, "cassette/a.txt")  # beyond the cassette


def test_a_request_the_cassette_lacks_is_replay_unmatched():
    with replay_client(C_CASSETTE) as c, pytest.raises(r2.ReplayUnmatched, match="never-recorded"):
        c.get("r2-test", "never-recorded")


def test_a_missing_cassette_is_an_error(tmp_path):
    with pytest.raises(r2.R2Error, match="no-such-cassette"):
        replay_client(tmp_path / "no-such-cassette.json")


def session(client: r2.Client, bucket: str, prefix: str) -> list:
    """Every operation once; returns what a caller would observe."""
    seen = []
    seen.append(client.put(bucket, prefix + "a.txt", "alpha ✓", content_type="text/plain", metadata={"m": "1"}).etag)
    seen.append(client.put(bucket, prefix + "big.bin", io.BytesIO(b"b" * 200_000)).etag)  # side file (> 64 KiB)
    got = client.get(bucket, prefix + "a.txt")
    seen.append((got.body, got.info.content_type, got.info.metadata))
    seen.append(client.get(bucket, prefix + "a.txt", range="bytes=0-4").body)
    seen.append(client.head(bucket, prefix + "big.bin").content_length)
    with client.open(bucket, prefix + "big.bin") as f:
        seen.append(len(f.read()))
    sink = io.BytesIO()
    client.download_fileobj(bucket, prefix + "a.txt", sink)
    seen.append(sink.getvalue())
    seen.append(client.copy(bucket, prefix + "a.txt", bucket, prefix + "copy ☃.txt").etag is not None)
    seen.append([o.key for o in client.list(bucket, prefix=prefix).objects])
    seen.append([o.key for o in client.list_all(bucket, prefix=prefix, page_size=1)])
    for fail in (lambda: client.get(bucket, prefix + "missing"),
                 lambda: client.get(bucket, prefix + "a.txt", if_none_match=seen[0])):
        try:
            fail()
        except r2.R2Error as e:
            seen.append((type(e), e.http_status))
    result = client.delete_objects(bucket, [prefix + "a.txt", prefix + "big.bin", prefix + "copy ☃.txt"])
    seen.append(sorted(result.deleted))
    client.delete(bucket, prefix + "a.txt")
    return seen


def test_a_python_session_recorded_against_the_server_replays_identically(server, bucket, prefix, tmp_path):
    cassette = tmp_path / "python-session.json"
    with server.client(record=cassette) as live:
        recorded = session(live, bucket, prefix)
    assert (r2.NoSuchKey, 404) in recorded and (r2.NotModified, 304) in recorded

    text = cassette.read_text(encoding="utf-8")
    assert server.secret_access_key not in text and "X-Amz-Signature" not in text and "Signature=" not in text
    assert json.loads(text)["format"] == "r2-cassette/1"

    with replay_client(cassette) as replay:
        assert session(replay, bucket, prefix) == recorded

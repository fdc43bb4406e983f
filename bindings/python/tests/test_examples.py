"""examples/python run as a user would run them, against the local server."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import PYTHON_DIR, ROOT

EXAMPLES = ROOT / "examples" / "python"


@pytest.mark.parametrize("example, args", [
    ("basics.py", ["{bucket}"]),
    ("presign.py", ["{bucket}"]),
    ("streaming.py", ["{bucket}", "{tmp}/data.bin"]),
    ("transfer.py", ["{bucket}", "{tmp}/data.bin"]),
    ("replay.py", ["{bucket}", "{tmp}/session.json"]),
    ("aio.py", ["{bucket}", "{tmp}/data.bin"]),
])
def test_example_runs(server, tmp_path, example, args):
    (tmp_path / "data.bin").write_bytes(os.urandom(300_000))
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR), R2_ENDPOINT=server.endpoint, R2_ALLOW_HTTP="1",
               R2_ACCESS_KEY_ID=server.access_key_id, R2_SECRET_ACCESS_KEY=server.secret_access_key)
    argv = [a.format(bucket=server.bucket, tmp=tmp_path) for a in args]
    result = subprocess.run([sys.executable, str(EXAMPLES / example), *argv], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    if example == "streaming.py":
        assert (tmp_path / "data.bin.copy").read_bytes() == (tmp_path / "data.bin").read_bytes()
        assert (tmp_path / "data.bin.downloaded").read_bytes() == (tmp_path / "data.bin").read_bytes()
    if example == "transfer.py":
        assert (tmp_path / "data.bin.downloaded").read_bytes() == (tmp_path / "data.bin").read_bytes()
        assert "unfinished uploads: []" in result.stdout and not (tmp_path / "data.bin.r2-upload").exists()
    if example == "aio.py":
        assert (tmp_path / "data.bin.downloaded").read_bytes() == (tmp_path / "data.bin").read_bytes()
        assert "200 puts and 200 gets" in result.stdout and "deleted 201 errors []" in result.stdout
    if example == "replay.py":
        assert "replayed: b'recorded once'" in result.stdout and "unmatched:" in result.stdout

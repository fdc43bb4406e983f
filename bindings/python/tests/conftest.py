"""Fixtures: the library, and clients for the local S3 server.

The server tests need the R2_TEST_* variables that scripts/test-server.sh
exports (`make python-test` runs inside it), and the oracle tests need
botocore. Without them those tests are skipped, unless R2_TEST_STRICT=1 (set
by `make python-test`), which reports every skip as a failure: a run that
meant to test everything cannot pass having tested less.
"""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
ROOT = PYTHON_DIR.parents[1]
sys.path.insert(0, str(PYTHON_DIR))  # test the package in this checkout, not an installed one

import r2  # noqa: E402

C_CASSETTE = ROOT / "Tests" / "Fixtures" / "c-session.json"
STRICT = os.environ.get("R2_TEST_STRICT") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped, which R2_TEST_STRICT=1 does not allow: {report.longrepr}"


@pytest.fixture(scope="session")
def lib() -> r2.Library:
    return r2.load_library()


class Server:
    def __init__(self) -> None:
        env = os.environ
        self.endpoint = env["R2_TEST_ENDPOINT"]
        self.tls_endpoint = env.get("R2_TEST_TLS_ENDPOINT")
        self.ca = env.get("R2_TEST_CA")
        self.access_key_id = env["R2_TEST_ACCESS_KEY_ID"]
        self.secret_access_key = env["R2_TEST_SECRET_ACCESS_KEY"]
        self.bucket = env["R2_TEST_BUCKET"]

    def client(self, **overrides) -> r2.Client:
        options = dict(endpoint=self.endpoint, allow_http=self.endpoint.startswith("http://"),
                       access_key_id=self.access_key_id, secret_access_key=self.secret_access_key)
        options.update(overrides)
        return r2.Client(**options)


@pytest.fixture(scope="session")
def server() -> Server:
    if "R2_TEST_ENDPOINT" not in os.environ:
        pytest.skip("no test server: run inside scripts/test-server.sh (make python-test does)")
    return Server()


@pytest.fixture(scope="session")
def client(server: Server):
    with server.client() as c:
        yield c


@pytest.fixture(scope="session")
def bucket(server: Server) -> str:
    return server.bucket


@pytest.fixture
def prefix() -> str:
    """A fresh key prefix per test, so tests never see each other's objects."""
    return f"py/{uuid.uuid4().hex[:12]}/"

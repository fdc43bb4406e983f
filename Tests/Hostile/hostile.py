"""Hostile-server tests of libr2 through the Python binding (issue 15).

A loopback HTTP server that misbehaves on purpose, one case per behaviour.
Each case runs its client call in a child process of its own, so its peak
memory (ru_maxrss) is its own; the child reports the outcome as JSON and the
driver checks it: the expected typed error (or result), within the time
bound, under the memory bound, no secret in the message, nothing where it
should not be (no partial file, no request at the redirect target).

    python Tests/Hostile/hostile.py              # every case, table at the end
    python Tests/Hostile/hostile.py CASE ...     # some cases

Everything listens on 127.0.0.1 on ports the kernel picks; every server
loop is bounded in time and bytes, so a case stops by itself even when the
client under test does not.
"""
from __future__ import annotations

import io
import json
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SECRET = "hostile0secret0key0that0must0never0leak0anywhere00"
BUCKET = "hostile"
MIB = 1 << 20
SIZE = 12 * MIB  # a multipart-sized object: 3 parts of 5 MiB
CHILD_TIMEOUT = 60  # seconds; a case past it is a failure (the client hung)

# ---------------------------------------------------------------- the server

OBJECT = bytes(range(251)) * (SIZE // 251 + 1)


def pattern(start: int, n: int) -> bytes:
    """The object's bytes [start, start+n): byte i is i % 251."""
    return OBJECT[start:start + n]


class Request:
    def __init__(self, method: str, target: str, headers: dict[str, str]):
        self.method = method
        self.target = target
        self.path, _, self.query = target.partition("?")
        self.headers = headers


class Handler(socketserver.BaseRequestHandler):
    """One connection: read one request, answer it as the current case says, close."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        try:
            req = self.read_head(sock)
            if req is None:
                return
            self.server.log(req)  # type: ignore[attr-defined]
            behaviour = BEHAVIOURS[self.server.case]  # type: ignore[attr-defined]
            if not getattr(behaviour, "keeps_body", False):
                self.drain(sock, int(req.headers.get("content-length", "0") or 0) - len(req.early))  # type: ignore[attr-defined]
            behaviour(self, sock, req)
        except (OSError, ValueError):
            pass  # the client went away: that is often the point

    @staticmethod
    def read_head(sock: socket.socket) -> Optional[Request]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk or len(data) > 1 << 20:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        req = Request(method, target, headers)
        req.early = rest  # type: ignore[attr-defined]
        return req

    @staticmethod
    def drain(sock: socket.socket, n: int) -> None:
        left = n
        while left > 0:
            chunk = sock.recv(min(left, 1 << 20))
            if not chunk:
                return
            left -= len(chunk)

    @staticmethod
    def answer(sock: socket.socket, status: int, headers: list[tuple[str, str]], body: bytes = b"",
               length: Optional[int] = None) -> None:
        reason = {200: "OK", 204: "No Content", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
                  307: "Temporary Redirect", 503: "Slow Down"}.get(status, "X")
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body) if length is None else length}",
                 "Connection: close"]
        lines += [f"{n}: {v}" for n, v in headers]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.case = ""
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def log(self, req: Request) -> None:
        with self.lock:
            self.requests.append(req)

    def reset(self, case: str) -> None:
        with self.lock:
            self.case = case
            self.requests = []


# ---------------------------------------------------------------- behaviours

BEHAVIOURS: dict[str, Callable[[Handler, socket.socket, Request], None]] = {}
EXPECT: dict[str, dict[str, Any]] = {}


def case(name: str, *, error: Optional[str | tuple[str, ...]], seconds: float, mib: int = 150,
         keeps_body: bool = False, **extra: Any):
    """Registers a server behaviour and what the client must see."""
    def register(f):
        f.keeps_body = keeps_body
        BEHAVIOURS[name] = f
        EXPECT[name] = {"error": error, "seconds": seconds, "mib": mib, **extra}
        return f
    return register


def object_head(h: Handler, sock: socket.socket) -> None:
    h.answer(sock, 200, [("ETag", '"e1"'), ("Last-Modified", formatdate(usegmt=True))], length=SIZE)


def requested_range(req: Request) -> tuple[int, int]:
    spec = req.headers["range"].split("=", 1)[1]
    a, b = spec.split("-")
    return int(a), int(b)


def ranged(h: Handler, sock: socket.socket, req: Request, shift: int) -> None:
    """A 206 of the right length whose Content-Range is moved by `shift` (0: correct)."""
    if req.method == "HEAD":
        return object_head(h, sock)
    if "range" not in req.headers:
        return h.answer(sock, 200, [("ETag", '"e1"')], pattern(0, SIZE))
    a, b = requested_range(req)
    s = a + shift if a + shift >= 0 and b + shift < SIZE else a - shift
    e = s + (b - a)
    h.answer(sock, 206, [("ETag", '"e1"'), ("Content-Range", f"bytes {s}-{e}/{SIZE}")], pattern(s, b - a + 1))


@case("range-correct", error=None, seconds=10)
def _(h, sock, req):  # the control: a well-behaved server, the download must succeed
    ranged(h, sock, req, 0)


@case("range-wrong-offset", error="MalformedResponse", seconds=10)
def _(h, sock, req):
    ranged(h, sock, req, MIB)


@case("range-200-instead-of-206", error="MalformedResponse", seconds=10)
def _(h, sock, req):
    if req.method == "HEAD":
        return object_head(h, sock)
    h.answer(sock, 200, [("ETag", '"e1"')], pattern(0, SIZE))


# The same through download_fileobj (ordered parts into a file object) and a single ranged get().
case("range-wrong-offset-fileobj", error="MalformedResponse", seconds=10)(BEHAVIOURS["range-wrong-offset"])
case("range-wrong-offset-get", error="MalformedResponse", seconds=5)(BEHAVIOURS["range-wrong-offset"])
case("range-200-instead-of-206-get", error="MalformedResponse", seconds=5)(BEHAVIOURS["range-200-instead-of-206"])


def listing(keys: list[str] = (), prefixes: list[str] = (), truncated: bool = False, token: str = "") -> bytes:
    body = f"<ListBucketResult><Name>{BUCKET}</Name><Prefix></Prefix><KeyCount>{len(keys)}</KeyCount>" \
           f"<MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>{str(truncated).lower()}</IsTruncated>"
    if token:
        body += f"<NextContinuationToken>{token}</NextContinuationToken>"
    for k in keys:
        body += f"<Contents><Key>{k}</Key><LastModified>2025-01-01T00:00:00.000Z</LastModified>" \
                f"<ETag>&quot;e&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>"
    for p in prefixes:
        body += f"<CommonPrefixes><Prefix>{p}</Prefix></CommonPrefixes>"
    return (body + "</ListBucketResult>").encode()


@case("nul-in-key", error="MalformedResponse", seconds=5)
def _(h, sock, req):
    h.answer(sock, 200, [], listing(["a%00b", "ok"]))


@case("nul-in-common-prefix", error="MalformedResponse", seconds=5)
def _(h, sock, req):
    h.answer(sock, 200, [], listing(prefixes=["p%00q/"]))


@case("nul-in-upload-key", error="MalformedResponse", seconds=5)
def _(h, sock, req):
    h.answer(sock, 200, [], (f"<ListMultipartUploadsResult><Bucket>{BUCKET}</Bucket><EncodingType>url</EncodingType>"
                             "<IsTruncated>false</IsTruncated><Upload><Key>a%00b</Key><UploadId>u1</UploadId>"
                             "<Initiated>2025-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>").encode())


def endless(sock: socket.socket, chunk: bytes, limit: int, head: bytes) -> None:
    """A chunked body that goes on until the client hangs up (or `limit` bytes: the server stops by itself)."""
    sock.sendall(head)
    sent = 0
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while sent < limit:
        sock.sendall(frame)
        sent += len(chunk)
    sock.sendall(b"0\r\n\r\n")


CHUNKED_200 = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nETag: \"e1\"\r\n\r\n"


@case("get-endless-body", error="EntityTooLarge", seconds=10, mib=120)
def _(h, sock, req):
    endless(sock, b"x" * 65536, 2 << 30, CHUNKED_200)


@case("get-huge-content-length", error="EntityTooLarge", seconds=5, mib=100)
def _(h, sock, req):
    h.answer(sock, 200, [("ETag", '"e1"')], b"y" * MIB, length=10 << 30)


@case("get-length-larger-than-body", error=("IncompleteBody", "StreamInterrupted"), seconds=10)
def _(h, sock, req):
    h.answer(sock, 200, [("ETag", '"e1"')], b"0123456789", length=1000)


@case("get-body-longer-than-length", error=None, seconds=5, body=b"0123456789".decode())
def _(h, sock, req):  # curl takes the announced 10 bytes; the rest is dropped with the connection
    h.answer(sock, 200, [("ETag", '"e1"')], b"0123456789" + b"EXTRA" * 1000, length=10)


@case("get-trickle-1-byte-per-second", error="Timeout", seconds=12)
def _(h, sock, req):
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nETag: \"e1\"\r\nConnection: close\r\n\r\n")
    for _ in range(40):
        sock.sendall(b"z")
        time.sleep(1)


@case("get-trickle-resumed-with-retries", error="Timeout", seconds=15, retries=True)
def _(h, sock, req):  # honours Range, so each retry resumes; a few bytes per attempt must not renew the budget
    start = requested_range(req)[0] if "range" in req.headers else 0
    status = "206 Partial Content" if start else "200 OK"
    extra = f"Content-Range: bytes {start}-99/100\r\n" if start else ""
    sock.sendall(f"HTTP/1.1 {status}\r\nContent-Length: {100 - start}\r\n{extra}ETag: \"e1\"\r\nConnection: close\r\n\r\n".encode())
    for _ in range(40):
        sock.sendall(b"z")
        time.sleep(1)


@case("list-silent-server", error="Timeout", seconds=8)
def _(h, sock, req):
    time.sleep(20)


@case("list-truncated-xml", error="MalformedResponse", seconds=5)
def _(h, sock, req):
    h.answer(sock, 200, [], listing(["a", "b"])[:-40])


@case("list-not-xml", error="MalformedResponse", seconds=5)
def _(h, sock, req):
    h.answer(sock, 200, [("Content-Type", "text/html")], b"<html><body>gateway says hello</body></html>")


@case("list-50-mb-body", error="MalformedResponse", seconds=10, mib=150)
def _(h, sock, req):
    entry = b"<Contents><Key>k</Key><Size>1</Size></Contents>"
    body = b"<ListBucketResult><IsTruncated>false</IsTruncated>" + entry * (50 * MIB // len(entry)) + b"</ListBucketResult>"
    h.answer(sock, 200, [], body)


@case("list-endless-chunked-body", error="MalformedResponse", seconds=10, mib=150)
def _(h, sock, req):
    endless(sock, b"<Contents><Key>k</Key><Size>1</Size></Contents>" * 1000, 2 << 30,
            CHUNKED_200 + b"20\r\n<ListBucketResult><IsTruncated>\r\n")


@case("head-1-mb-header", error="MalformedResponse", seconds=5)
def _(h, sock, req):
    h.answer(sock, 200, [("X-Big", "b" * MIB)], b"")


@case("head-10000-headers", error="MalformedResponse", seconds=5)
def _(h, sock, req):
    h.answer(sock, 200, [(f"X-H{i}", "v") for i in range(10000)], b"")


def redirect(status: int, loop: bool):
    def behaviour(h, sock, req):
        target = f"http://127.0.0.1:{OTHER.port}{req.target}" if not loop else f"http://127.0.0.1:{MAIN.port}{req.target}"
        h.answer(sock, status, [("Location", target)], b"")
    return behaviour


for _status in (301, 302, 307):
    case(f"redirect-{_status}-to-other-port", error="R2Error", seconds=5, http_status=_status)(redirect(_status, False))
case("redirect-loop", error="R2Error", seconds=5, http_status=307)(redirect(307, True))


@case("retry-after-one-day", error="SlowDown", seconds=8)
def _(h, sock, req):
    h.answer(sock, 503, [("Retry-After", "86400")], b"<Error><Code>SlowDown</Code><Message>later</Message></Error>")


@case("retry-after-http-date", error="SlowDown", seconds=8)
def _(h, sock, req):
    h.answer(sock, 503, [("Retry-After", formatdate(time.time() + 86400, usegmt=True))],
             b"<Error><Code>SlowDown</Code><Message>later</Message></Error>")


@case("complete-200-with-error-body", error="ServerInternal", seconds=5, http_status=200)
def _(h, sock, req):
    h.answer(sock, 200, [], b"<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>boom</Message></Error>")


def multipart(part_etag: Optional[str]):
    """Create, parts (answered with `part_etag`; None: no ETag header), abort."""
    def behaviour(h, sock, req):
        if req.method == "POST" and "uploads" in req.query:
            return h.answer(sock, 200, [], (f"<InitiateMultipartUploadResult><Bucket>{BUCKET}</Bucket><Key>k</Key>"
                                            "<UploadId>up1</UploadId></InitiateMultipartUploadResult>").encode())
        if req.method == "PUT":
            return h.answer(sock, 200, [("ETag", part_etag)] if part_etag is not None else [], b"")
        if req.method == "DELETE":
            return h.answer(sock, 204, [], b"")
        h.answer(sock, 500, [], b"<Error><Code>InternalError</Code></Error>")
    return behaviour


case("part-etag-missing", error="MalformedResponse", seconds=10, aborted=True)(multipart(None))
case("part-etag-control-character", error="MalformedResponse", seconds=10, aborted=True)(multipart('"\x01bad"'))
case("part-etag-not-ascii", error="MalformedResponse", seconds=10, aborted=True)(multipart('"\xffbad"'))


@case("upload-slowloris", error="Timeout", seconds=15, aborted=True, keeps_body=True)
def _(h, sock, req):
    if req.method == "PUT":
        time.sleep(20)  # never reads the part; the socket buffers fill and the client stalls
        return
    Handler.drain(sock, int(req.headers.get("content-length", "0") or 0) - len(req.early))
    multipart('"e"')(h, sock, req)


@case("list-parts-marker-repeats", error="MalformedResponse", seconds=5, max_requests=3)
def _(h, sock, req):
    h.answer(sock, 200, [], (f"<ListPartsResult><Bucket>{BUCKET}</Bucket><Key>k</Key><UploadId>up1</UploadId>"
                             "<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker>"
                             "<IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag>"
                             "<Size>5</Size><LastModified>2025-01-01T00:00:00.000Z</LastModified></Part>"
                             "</ListPartsResult>").encode())


@case("list-token-repeats", error="MalformedResponse", seconds=5, max_requests=3)
def _(h, sock, req):
    h.answer(sock, 200, [], listing(["a"], truncated=True, token="same"))


@case("list-tokens-cycle", error="MalformedResponse", seconds=5, max_requests=3)
def _(h, sock, req):  # tokens A, B, A, B, ...: never the same twice in a row, the keys go round
    token = "B" if "continuation-token=A" in req.query else "A"
    h.answer(sock, 200, [], listing(["a", "b"], truncated=True, token=token))


@case("list-uploads-markers-repeat", error="MalformedResponse", seconds=5, max_requests=3)
def _(h, sock, req):
    h.answer(sock, 200, [], (f"<ListMultipartUploadsResult><Bucket>{BUCKET}</Bucket><EncodingType>url</EncodingType>"
                             "<NextKeyMarker>a</NextKeyMarker><NextUploadIdMarker>u1</NextUploadIdMarker>"
                             "<IsTruncated>true</IsTruncated><Upload><Key>a</Key><UploadId>u1</UploadId>"
                             "<Initiated>2025-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>").encode())


# ---------------------------------------------------------------- the client side (child process)

def client_call(name: str, port: int, workdir: str) -> dict[str, Any]:
    sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
    import r2

    client = r2.Client(endpoint=f"http://127.0.0.1:{port}", allow_http=True, access_key_id="AKIDHOSTILE",
                       secret_access_key=SECRET, connect_timeout=2, request_timeout=5, list_timeout=2,
                       stall_timeout=2, max_attempts=1, max_get_bytes=8 * MIB)
    transfer = dict(threshold=5 * MIB, part_size=5 * MIB, concurrency=2)
    out: dict[str, Any] = {}
    path = os.path.join(workdir, "download.bin")
    if name.startswith("range-") and name.endswith("-fileobj"):
        sink = io.BytesIO()
        client.download_fileobj(BUCKET, "k", sink, **transfer)
        out["correct"] = sink.getvalue() == pattern(0, SIZE)
    elif name.startswith("range-") and name.endswith("-get"):
        out["body"] = client.get(BUCKET, "k", range=(MIB, MIB + 9)).body.decode("latin-1")
    elif name.startswith("range-"):
        client.download_file(BUCKET, "k", path, **transfer)
        with open(path, "rb") as f:
            out["correct"] = f.read() == pattern(0, SIZE)
    elif name in ("nul-in-key", "list-truncated-xml", "list-not-xml", "list-50-mb-body", "list-endless-chunked-body",
                  "list-silent-server", "list-token-repeats", "list-tokens-cycle"):
        out["keys"] = [o.key for o in client.list_all(BUCKET)]
    elif name == "nul-in-common-prefix":
        out["prefixes"] = client.list(BUCKET, delimiter="/").common_prefixes
    elif name in ("nul-in-upload-key", "list-uploads-markers-repeat"):
        out["uploads"] = [u.key for u in client.list_multipart_uploads(BUCKET)]
    elif name == "list-parts-marker-repeats":
        out["parts"] = len(client.list_parts(BUCKET, "k", "up1"))
    elif name == "complete-200-with-error-body":
        client.complete_multipart_upload(BUCKET, "k", "up1", [(1, '"e"')])
    elif name.startswith("part-etag") or name == "upload-slowloris":
        source = os.path.join(workdir, "upload.bin")
        with open(source, "wb") as f:
            f.write(os.urandom(SIZE))
        client.upload_file(source, BUCKET, "k", concurrency=1, threshold=5 * MIB, part_size=5 * MIB)
    elif name.startswith("retry-after"):
        client2 = r2.Client(endpoint=f"http://127.0.0.1:{port}", allow_http=True, access_key_id="AKIDHOSTILE",
                            secret_access_key=SECRET, deadline=3)
        client2.get(BUCKET, "k")
    elif EXPECT[name].get("retries"):  # the default attempt budget (3 for network failures)
        client3 = r2.Client(endpoint=f"http://127.0.0.1:{port}", allow_http=True, access_key_id="AKIDHOSTILE",
                            secret_access_key=SECRET, stall_timeout=2)
        out["body"] = client3.get(BUCKET, "k").body.decode("latin-1")
    else:  # every other case is a GET into memory
        out["body"] = client.get(BUCKET, "k").body.decode("latin-1")[:100]
    out["partial_files"] = sorted(f for f in os.listdir(workdir) if f.startswith("download"))
    return out


def child(name: str, port: int) -> None:
    start = time.monotonic()
    result: dict[str, Any] = {"case": name}
    with tempfile.TemporaryDirectory() as workdir:
        try:
            result.update(client_call(name, port, workdir))
            result["error"] = None
        except Exception as e:  # noqa: BLE001 - the type is what the driver checks
            import r2
            result["error"] = type(e).__name__
            result["is_r2_error"] = isinstance(e, r2.R2Error)
            result["http_status"] = getattr(e, "http_status", None)
            result["message"] = str(e)
            result["retry_after"] = getattr(e, "retry_after", None)
            result["partial_files"] = sorted(f for f in os.listdir(workdir) if f.startswith("download"))
    result["seconds"] = time.monotonic() - start
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    with open("/proc/self/status") as f:
        hwm_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    result["maxrss_mib"] = hwm_kib / 1024
    print(json.dumps(result))


# ---------------------------------------------------------------- the driver

MAIN: Server
OTHER: Server  # the redirect target: must never see a request


def check(name: str, r: dict[str, Any]) -> list[str]:
    want = EXPECT[name]
    problems = []
    expected = want["error"]
    if expected is None:
        if r["error"] is not None:
            problems.append(f"expected success, got {r['error']}: {r.get('message')}")
    elif expected == "R2Error":
        if not r.get("is_r2_error"):
            problems.append(f"expected an r2 error, got {r['error']}: {r.get('message')}")
    elif r["error"] not in ((expected,) if isinstance(expected, str) else expected):
        problems.append(f"expected {expected}, got {r['error']}: {r.get('message')}")
    if r["seconds"] > want["seconds"]:
        problems.append(f"took {r['seconds']:.1f} s, more than {want['seconds']} s")
    if r["maxrss_mib"] > want["mib"]:
        problems.append(f"peak RSS {r['maxrss_mib']:.0f} MiB, more than {want['mib']} MiB")
    if SECRET in json.dumps(r):
        problems.append("the secret key appears in the outcome")
    if "http_status" in want and r.get("http_status") != want["http_status"]:
        problems.append(f"http_status {r.get('http_status')}, expected {want['http_status']}")
    if "body" in want and r.get("body") != want["body"]:
        problems.append(f"body {r.get('body')!r}, expected {want['body']!r}")
    if name.startswith("range-") and expected is not None and r.get("partial_files"):
        problems.append(f"files left behind: {r['partial_files']}")
    if name == "range-correct" and not r.get("correct"):
        problems.append("the control download's bytes differ")
    if OTHER.requests:
        problems.append(f"the redirect target got {len(OTHER.requests)} request(s)"
                        + (" with Authorization" if any("authorization" in q.headers for q in OTHER.requests) else ""))
    requests = list(MAIN.requests)
    if want.get("aborted") and not any(q.method == "DELETE" and "uploadId=up1" in q.query for q in requests):
        problems.append("the multipart upload was not aborted")
    if "max_requests" in want and len(requests) > want["max_requests"]:
        problems.append(f"{len(requests)} requests for a listing that does not advance")
    if name.startswith("retry-after") and r.get("message") and "gave up: a retry in" in r["message"]:
        waited = int(r["message"].split("gave up: a retry in ")[1].split(" ms")[0])
        if waited > 30000:
            problems.append(f"Retry-After was not capped: a retry in {waited} ms")
    return problems


def main(argv: list[str]) -> int:
    global MAIN, OTHER
    if len(argv) >= 3 and argv[0] == "--child":
        child(argv[1], int(argv[2]))
        return 0
    MAIN, OTHER = Server(), Server()
    OTHER.reset("never")
    names = argv or list(BEHAVIOURS)
    rows, failures = [], 0
    for name in names:
        MAIN.reset(name)
        start = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, __file__, "--child", name, str(MAIN.port)], capture_output=True,
                                  text=True, timeout=CHILD_TIMEOUT)
            lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
            r = json.loads(lines[-1]) if lines else {"error": f"child crashed (exit {proc.returncode}): {proc.stderr[-500:]}",
                                                     "seconds": time.monotonic() - start, "maxrss_mib": 0}
        except subprocess.TimeoutExpired:
            r = {"error": "hung", "seconds": CHILD_TIMEOUT, "maxrss_mib": 0}
        problems = check(name, r)
        failures += bool(problems)
        outcome = r["error"] or "ok"
        rows.append((name, outcome, r["seconds"], r["maxrss_mib"], "PASS" if not problems else "FAIL"))
        for p in problems:
            print(f"FAIL {name}: {p}")
        if r.get("message") and os.environ.get("HOSTILE_VERBOSE"):
            print(f"     {name}: {r['message']}")
    print(f"\n| case | outcome | time to fail (s) | peak RSS (MiB) | |\n|---|---|---|---|---|")
    for name, outcome, seconds, rss, verdict in rows:
        print(f"| {name} | {outcome} | {seconds:.2f} | {rss:.0f} | {verdict} |")
    print(f"\nhostile: {len(rows) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

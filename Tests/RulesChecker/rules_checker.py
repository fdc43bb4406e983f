#!/usr/bin/env python3
"""The R2 rules checker: an HTTP proxy for r2's tests (Python standard library only).

It sits between the client and the local S3 server (SeaweedFS), which accepts
many requests that Cloudflare R2 refuses. Every request is checked against
R2's documented rules (R2's S3 API compatibility pages) before it is
forwarded; a request R2 would refuse is answered with 400 `R2RulesViolation`, recorded, and fails the run:

  - no `x-amz-content-sha256` (R2 requires it on every signed request)
  - a body-carrying request without `Content-Length`; `Transfer-Encoding`
  - `aws-chunked`, `STREAMING-*` payloads, `x-amz-trailer`
  - two checksums (Content-MD5 and/or several `x-amz-checksum-*`), or
    `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm`
  - `Expect: 100-continue` (R2 does not answer 100)
  - a header R2 does not implement (SSE-S3/KMS, tagging, object lock, ACL
    grants, website redirect, request payer, expected bucket owner), a storage
    class other than STANDARD / STANDARD_IA, an empty header value
  - a part above 5 GiB - 5 MiB; at CompleteMultipartUpload, parts of unequal
    size (every part but the last the same size, the last no larger) among the
    parts this proxy saw uploaded

It can also answer what SeaweedFS does not (see `inject` below).

    rules_checker.py --upstream HOST:PORT run -- CMD ARGS...

starts the proxy, runs CMD with R2_TEST_ENDPOINT pointing at it and
R2_RULES_CONTROL_PORT set, prints every violation, and exits non-zero when
there was one (or when CMD failed). Without `run` it prints
"PROXY_PORT CONTROL_PORT" and serves until "quit".

Control (connect to the control port, send one line, read one line):
    inject OP ACTION [count=N]   the next N (default 1) requests of operation OP
                                 (PutObject, UploadPart, CompleteMultipartUpload,
                                 GetObject, ...) get ACTION instead of the server's answer:
        status=CODE              an R2-style error (429 TooManyRequests, 500
                                 InternalError, 503 ServiceUnavailable, 501 NotImplemented
                                 naming a header as R2 does, 400 ExpiredRequest with code=,
                                 304 with no body)
        error200                 200 with an <Error> InternalError document, not forwarded
        lose                     forwarded (so it takes effect), then the connection is closed
                                 without an answer (a lost response)
        bad_etag / odd_etag      forwarded, and the answer's <ETag> replaced by a wrong
                                 multipart ETag / one of another form (R2's before 2023-06)
    write_limit on|off           R2's limit of one write per second per key: a second
                                 PUT/Complete to a key within a second gets 429
    violations                   "N" then " | message" per violation
    expect_violations N          the next N violations are expected (a self-test) and
                                 do not fail the run
    seen OP                      how many requests of OP reached the proxy
    headers OP                   the last OP request's headers, "name: value" joined by " ; "
    clear                        forget injections, counts and headers (violations stay)
    quit
"""
import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

MAX_PART = 5 * 1024 ** 3 - 5 * 1024 ** 2
CHUNK = 1 << 20
UNSUPPORTED = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
               "x-amz-server-side-encryption-context", "x-amz-server-side-encryption-bucket-key-enabled",
               "x-amz-tagging", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
               "x-amz-object-lock-legal-hold", "x-amz-grant-full-control", "x-amz-grant-read",
               "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-website-redirect-location",
               "x-amz-request-payer", "x-amz-expected-bucket-owner",
               "x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm", "x-amz-trailer")
CHECKSUMS = ("content-md5", "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1",
             "x-amz-checksum-sha256", "x-amz-checksum-crc64nvme")
MESSAGES = {429: ("TooManyRequests", "Reduce your concurrent request rate for the same object."),
            500: ("InternalError", "We encountered an internal error. Please try again."),
            503: ("ServiceUnavailable", "Reduce your rate of requests."),
            501: ("NotImplemented", "Header 'x-amz-checksum-crc32' with value 'AAAAAA==' not implemented"),
            400: ("ExpiredRequest", "Request has expired"),
            404: ("NoSuchUpload", "The specified multipart upload does not exist. The upload ID may be invalid, "
                                  "or the upload may have been aborted or completed.")}


def operation(method, path, query, headers):
    """The S3 operation of a request, from its method, path and query."""
    q = dict(parse_qsl(query, keep_blank_values=True))
    has_key = path.strip("/").count("/") >= 1
    if method == "PUT":
        if "partNumber" in q and "uploadId" in q:
            return "UploadPartCopy" if "x-amz-copy-source" in headers else "UploadPart"
        if not has_key:
            return "CreateBucket"
        return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
    if method == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
        return "DeleteObjects" if "delete" in q else "Post"
    if method == "GET":
        if "uploadId" in q:
            return "ListParts"
        if "uploads" in q:
            return "ListMultipartUploads"
        if has_key:
            return "GetObject"
        return "ListObjectsV2" if q.get("list-type") == "2" else ("ListBuckets" if path == "/" else "ListObjects")
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "DELETE":
        if "uploadId" in q:
            return "AbortMultipartUpload"
        return "DeleteObject" if has_key else "DeleteBucket"
    return method


def error_body(code, message):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()


class State:
    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.violations = []
        self.expected = 0
        self.injections = []  # [op, action, remaining]
        self.seen = {}
        self.requests = 0
        self.last_headers = {}
        self.parts = {}  # upload id -> {part number: size}
        self.write_limit = False
        self.last_write = {}  # path -> monotonic time of the last write

    def violation(self, message):
        with self.lock:
            if self.expected > 0:
                self.expected -= 1
                self.violations.append("(expected) " + message)
            else:
                self.violations.append(message)

    def failures(self):
        with self.lock:
            return [v for v in self.violations if not v.startswith("(expected) ")]

    def take_injection(self, op):
        with self.lock:
            for item in self.injections:
                if item[0] == op and item[2] > 0:
                    item[2] -= 1
                    return item[1]
        return None

    def control(self, line):
        words = line.split()
        if not words:
            return "error: empty command"
        cmd = words[0]
        with self.lock:
            if cmd == "inject" and len(words) >= 3:
                count = 1
                for w in words[3:]:
                    if w.startswith("count="):
                        count = int(w[6:])
                self.injections.append([words[1], words[2], count])
                return "ok"
            if cmd == "write_limit" and len(words) == 2:
                self.write_limit = words[1] == "on"
                self.last_write.clear()
                return "ok"
            if cmd == "violations":
                return str(len(self.violations)) + "".join(" | " + v for v in self.violations)
            if cmd == "expect_violations" and len(words) == 2:
                self.expected = int(words[1])
                return "ok"
            if cmd == "seen" and len(words) == 2:
                return str(self.seen.get(words[1], 0))
            if cmd == "headers" and len(words) == 2:
                return " ; ".join(f"{k}: {v}" for k, v in self.last_headers.get(words[1], []))
            if cmd == "clear":
                self.injections.clear()
                self.seen.clear()
                self.last_headers.clear()
                self.write_limit = False
                return "ok"
        if cmd == "quit":
            os._exit(0)
        return f"error: unknown command {line.strip()}"


def check_request(method, op, query, headers):
    """R2's rules for one request's head: the list of what R2 would refuse."""
    problems = []
    lower = {}
    for name, value in headers:
        lower.setdefault(name.lower(), []).append(value)
        if value.strip() == "":
            problems.append(f"empty value for header {name} (R2 answers 501 NotImplemented)")
    q = dict(parse_qsl(query, keep_blank_values=True))
    presigned = "X-Amz-Signature" in q
    if not presigned and "x-amz-content-sha256" not in lower:
        problems.append("no x-amz-content-sha256 (R2 requires it on every request)")
    sha = (lower.get("x-amz-content-sha256") or [""])[0]
    if sha.startswith("STREAMING-"):
        problems.append(f"x-amz-content-sha256 {sha}: streaming SigV4 is not implemented by R2")
    if "aws-chunked" in ",".join(lower.get("content-encoding", [])).lower():
        problems.append("Content-Encoding aws-chunked (not implemented by R2)")
    if "transfer-encoding" in lower:
        problems.append("Transfer-Encoding on a request: R2 needs Content-Length")
    if method in ("PUT", "POST") and "content-length" not in lower:
        problems.append(f"{op} without Content-Length (R2: 411 MissingContentLength)")
    if any(v.lower() == "100-continue" for v in lower.get("expect", [])):
        problems.append("Expect: 100-continue (R2 does not answer 100)")
    present = [c for c in CHECKSUMS if c in lower]
    if len(present) > 1 or any(len(lower[c]) > 1 for c in present):
        problems.append(f"more than one checksum ({', '.join(present)}): R2 accepts one per request")
    for name in UNSUPPORTED:
        if name in lower:
            problems.append(f"header {name} is not implemented by R2")
    for sc in lower.get("x-amz-storage-class", []):
        if sc not in ("STANDARD", "STANDARD_IA"):
            problems.append(f"storage class {sc!r}: R2 has STANDARD and STANDARD_IA only")
    if op == "UploadPart":
        size = int((lower.get("content-length") or ["0"])[0] or 0)
        if size > MAX_PART:
            problems.append(f"part of {size} bytes: R2's largest part is 5 GiB - 5 MiB")
    sse = [n for n in lower if n.startswith("x-amz-server-side-encryption-customer-")]
    if sse and len(sse) != 3:
        problems.append(f"SSE-C needs algorithm, key and key MD5 together; got {sse}")
    return problems


def check_complete(parts_seen, body):
    """Unequal parts at Complete (among the parts this proxy saw uploaded)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as e:
        return [f"CompleteMultipartUpload body is not XML: {e}"]
    numbers = sorted(int(p.findtext("{*}PartNumber") or p.findtext("PartNumber") or 0)
                     for p in root.iter() if p.tag.endswith("Part"))
    sizes = [parts_seen[n] for n in numbers if n in parts_seen]
    if len(sizes) != len(numbers) or not sizes:
        return []
    first = sizes[0]
    for i, s in enumerate(sizes[:-1]):
        if s != first:
            return [f"part {numbers[i]} is {s} bytes, part {numbers[0]} is {first}: R2 needs equal parts (InvalidPart)"]
        if s < 5 * 1024 * 1024:
            return [f"part {numbers[i]} is {s} bytes: every part but the last needs 5 MiB (EntityTooSmall)"]
    if len(sizes) > 1 and sizes[-1] > first:
        return [f"the last part is {sizes[-1]} bytes, larger than the others ({first}): R2 refuses it (InvalidPart)"]
    return []


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(body)

        def drain(self):
            n = int(self.headers.get("Content-Length") or 0)
            while n > 0:
                got = self.rfile.read(min(CHUNK, n))
                if not got:
                    break
                n -= len(got)

        def handle_any(self):
            url = urlsplit(self.path)
            headers = list(self.headers.items())
            lower = {k.lower(): v for k, v in headers}
            op = operation(self.command, url.path, url.query, lower)
            q = dict(parse_qsl(url.query, keep_blank_values=True))
            with state.lock:
                state.seen[op] = state.seen.get(op, 0) + 1
                state.requests += 1
                # Never the signature: of Authorization only its credential scope (date/region/service).
                state.last_headers[op] = [(k, v) if k.lower() != "authorization"
                                          else ("Authorization-Scope", "/" + re.sub(r".*Credential=[^/]*/([^,]*).*", r"\1", v))
                                          for k, v in headers]
            problems = check_request(self.command, op, url.query, headers)
            body = None
            if op == "CompleteMultipartUpload" and not problems:
                body = self.rfile.read(int(lower.get("content-length") or 0))
                with state.lock:
                    seen = dict(state.parts.get(q.get("uploadId"), {}))
                problems = check_complete(seen, body)
            if problems:
                state.violation(f"{self.command} {url.path} ({op}): " + "; ".join(problems))
                if body is None and "transfer-encoding" not in lower:
                    self.drain()
                self.close_connection = "transfer-encoding" in lower
                return self.answer(400, error_body("R2RulesViolation", "; ".join(problems)),
                                   [("Content-Type", "application/xml")])

            action = state.take_injection(op)
            if action is None and state.write_limit and op in ("PutObject", "CompleteMultipartUpload", "CopyObject"):
                now = time.monotonic()
                with state.lock:
                    last = state.last_write.get(url.path)
                    state.last_write[url.path] = now
                if last is not None and now - last < 1.0:
                    action = "status=429"
            if action and action.startswith("status="):
                if body is None:
                    self.drain()
                code = int(action[7:])
                if code == 304:
                    return self.answer(304, headers=[("ETag", lower.get("if-none-match", '"0"'))])
                s3code, message = MESSAGES.get(code, ("InternalError", "injected"))
                extra = [("Retry-After", "1")] if code == 429 else []
                return self.answer(code, error_body(s3code, message) if self.command != "HEAD" else b"",
                                   [("Content-Type", "application/xml")] + extra)
            if action == "error200":
                if body is None:
                    self.drain()
                return self.answer(200, error_body("InternalError", "We encountered an internal error. Please try again."),
                                   [("Content-Type", "application/xml")])
            try:
                self.forward(url, headers, lower, op, q, body, lose=action == "lose",
                             etag=action if action in ("bad_etag", "odd_etag") else None)
            except (ConnectionError, OSError):
                self.close_connection = True  # the client went away (a cancelled test): nothing to answer

        def forward(self, url, headers, lower, op, q, body, lose, etag=None):
            host, port = state.upstream
            conn = http.client.HTTPConnection(host, port, timeout=600)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                conn.endheaders()
                if body is not None:
                    conn.send(body)
                else:
                    n = int(lower.get("content-length") or 0)
                    while n > 0:
                        got = self.rfile.read(min(CHUNK, n))
                        if not got:
                            raise ConnectionError("client body ended early")
                        conn.send(got)
                        n -= len(got)
                resp = conn.getresponse()
                if lose:
                    resp.read()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if 200 <= resp.status < 300 and op in ("UploadPart", "UploadPartCopy"):
                    size = int(lower.get("content-length") or 0)
                    if op == "UploadPartCopy":
                        m = re.match(r"bytes=(\d+)-(\d+)", lower.get("x-amz-copy-source-range", ""))
                        size = int(m.group(2)) - int(m.group(1)) + 1 if m else None
                    with state.lock:
                        parts = state.parts.setdefault(q.get("uploadId"), {})
                        if size is None:
                            parts.pop(int(q.get("partNumber", 0)), None)
                        else:
                            parts[int(q.get("partNumber", 0))] = size
                out = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection")]
                chunked = (resp.getheader("Transfer-Encoding") or "").lower() == "chunked"
                if etag in ("bad_etag", "odd_etag") and resp.status == 200:
                    # Answers with another ETag than the server's: a wrong multipart one, or one of an old form.
                    data = resp.read()
                    fake = "&quot;00000000000000000000000000000000-9&quot;" if etag == "bad_etag" else "AbCdEf+/old=="
                    data = re.sub(rb"<ETag>[^<]*</ETag>", b"<ETag>" + fake.encode() + b"</ETag>", data)
                    out = [(k, v) for k, v in out if k.lower() != "content-length"] + [("Content-Length", str(len(data)))]
                    chunked = True
                self.send_response(resp.status)
                if chunked and etag is None:
                    data = resp.read()
                    out = [(k, v) for k, v in out if k.lower() != "content-length"] + [("Content-Length", str(len(data)))]
                for k, v in out:
                    self.send_header(k, v)
                self.end_headers()
                if chunked:
                    if self.command != "HEAD":
                        self.wfile.write(data)
                    return
                while self.command != "HEAD":
                    data = resp.read(CHUNK)
                    if not data:
                        break
                    self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Asynchronous clients open 100+ connections at once (r2's engine: up to 64 per loop);
    # socketserver's default backlog of 5 would drop their handshakes.
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a client that went away is not news


def serve_control(state, sock):
    while True:
        conn, _ = sock.accept()
        with conn:
            line = conn.makefile("r").readline()
            conn.sendall((state.control(line) + "\n").encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("mode", nargs="?", default="serve")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    host, _, port = args.upstream.rpartition(":")
    state = State((host or "127.0.0.1", int(port)))
    server = Server(("127.0.0.1", 0), make_handler(state))
    control = socket.socket()
    control.bind(("127.0.0.1", 0))
    control.listen(16)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=serve_control, args=(state, control), daemon=True).start()
    proxy_port, control_port = server.server_address[1], control.getsockname()[1]
    if args.mode != "run":
        print(proxy_port, control_port, flush=True)
        while True:
            time.sleep(3600)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    env = dict(os.environ, R2_TEST_ENDPOINT=f"http://127.0.0.1:{proxy_port}", R2_RULES_CONTROL_PORT=str(control_port))
    rc = subprocess.call(cmd, env=env)
    failures = state.failures()
    for v in failures:
        print(f"R2 rules checker: R2 would refuse: {v}", file=sys.stderr)
    print(f"R2 rules checker: {state.requests} requests, {len(failures)} violations "
          f"({len(state.violations) - len(failures)} expected)", file=sys.stderr)
    sys.exit(rc if rc != 0 else (1 if failures else 0))


if __name__ == "__main__":
    main()

"""A fake S3 endpoint whose part uploads stall: it answers CreateMultipartUpload
and AbortMultipartUpload, but never reads a PUT's body nor answers it, like a
network that stopped moving. What cancellation must cope with."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREATED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>'
           b"<Bucket>stall</Bucket><Key>k</Key><UploadId>stalled-upload</UploadId></InitiateMultipartUploadResult>")


class StallServer:
    def __init__(self) -> None:
        self.put_started = threading.Event()  # a PUT is hanging
        self.aborted = threading.Event()      # the client sent AbortMultipartUpload
        self.release = threading.Event()      # lets hanging handlers go (close())
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amz-request-id", "stall-server")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self._answer(200, CREATED if "uploads" in self.path else b"")

            def do_DELETE(self) -> None:
                server.aborted.set()
                self._answer(204)

            def do_HEAD(self) -> None:
                self._answer(404)

            def do_GET(self) -> None:
                self._answer(404)

            def do_PUT(self) -> None:
                server.put_started.set()
                server.release.wait(120)  # neither read nor answer: the client's send stalls
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="stall-server", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> StallServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

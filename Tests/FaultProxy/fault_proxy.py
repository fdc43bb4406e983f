#!/usr/bin/env python3
"""A fault-injecting TCP proxy for r2's tests (Python standard library only).

It sits between the client and the local S3 server and, following a plan
set over a control port, resets connections after a number of bytes (either
direction), stalls them, or answers new connections with 503 SlowDown.

    fault_proxy.py --upstream HOST:PORT

prints "PROXY_PORT CONTROL_PORT" on stdout once it listens (both on
127.0.0.1, ports chosen by the kernel) and runs until "quit" or until the
process that started it exits. Control: connect, send one line, read one:

    plan KEY=VALUE ...   replace the plan (unset keys are 0); answers "ok"
        reset_down=N     reset a connection (TCP RST) once N bytes went server -> client on it
        reset_up=N       the same for client -> server bytes (uploads)
        resets=K         how many resets in all
        stall_down=N     pause a connection once N bytes went server -> client on it ...
        stall_ms=T       ... for T milliseconds
        stalls=K         how many stalls in all
        slowdown=K       the next K requests get "503 SlowDown" (Retry-After below) and their connection
                         is closed: the first request of a new connection, or the next request on a
                         kept-alive connection after the plan was set (clients share pooled connections)
        retry_after=S    seconds, default 1
    stats                "connections=.. resets=.. stalls=.. slowdowns=.. bytes_down=.. bytes_up=.."
    quit

Thresholds count the bytes moved on each connection since the plan was set
(with keep-alive, several requests share a connection and so a count).
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024
PLAN_KEYS = ("reset_down", "reset_up", "resets", "stall_down", "stall_ms", "stalls", "slowdown", "retry_after")


class Proxy:
    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.plan = dict.fromkeys(PLAN_KEYS, 0)
        self.plan["retry_after"] = 1
        self.generation = 0  # a new plan restarts every connection's byte counts
        self.stats = dict.fromkeys(("connections", "resets", "stalls", "slowdowns", "bytes_down", "bytes_up"), 0)

    def take(self, budget, stat):
        """Claims one fault from the plan's budget; True if there was one left."""
        with self.lock:
            if self.plan[budget] <= 0:
                return False
            self.plan[budget] -= 1
            self.stats[stat] += 1
            return True

    def control(self, line):
        words = line.split()
        if not words:
            return "error: empty command"
        if words[0] == "plan":
            plan = dict.fromkeys(PLAN_KEYS, 0)
            plan["retry_after"] = 1
            for word in words[1:]:
                key, _, value = word.partition("=")
                if key not in plan or not value.isdigit():
                    return f"error: bad plan item {word}"
                plan[key] = int(value)
            with self.lock:
                self.plan = plan
                self.generation += 1
            return "ok"
        if words[0] == "stats":
            with self.lock:
                return " ".join(f"{k}={v}" for k, v in self.stats.items())
        if words[0] == "quit":
            os._exit(0)
        return f"error: unknown command {words[0]}"

    def serve(self, client):
        with self.lock:
            self.stats["connections"] += 1
            retry_after = self.plan["retry_after"]
        if self.take("slowdown", "slowdowns"):
            return slow_down(client, retry_after)
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(self, client, server)
        threading.Thread(target=conn.pump, args=(client, server, "up"), daemon=True).start()
        conn.pump(server, client, "down")


class Connection:
    def __init__(self, proxy, client, server):
        self.proxy, self.client, self.server = proxy, client, server
        self.lock = threading.Lock()
        self.done = 0
        self.was_reset = False

    def reset(self):
        """Drops both sides; the client sees a TCP RST, not a clean end."""
        with self.lock:
            if self.was_reset:
                return
            self.was_reset = True
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RD)  # wakes the other pump
            except OSError:
                pass
        self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.client.close()
        self.server.close()

    def pump(self, src, dst, direction):
        generation = -1
        try:
            while True:
                data = src.recv(CHUNK)
                if not data:
                    break
                with self.proxy.lock:
                    replanned = generation != -1 and generation != self.proxy.generation
                    if generation != self.proxy.generation:
                        generation, plan, moved = self.proxy.generation, dict(self.proxy.plan), 0
                # A kept-alive connection's first request under a new plan is a next request too.
                if direction == "up" and replanned and self.proxy.take("slowdown", "slowdowns"):
                    slow_down(self.client, plan["retry_after"], data)
                    self.server.close()
                    return
                reset_at = plan["reset_" + direction]
                stall_at = plan["stall_down"] if direction == "down" else 0
                start, end = moved, moved + len(data)
                if stall_at and start < stall_at <= end and self.proxy.take("stalls", "stalls"):
                    dst.sendall(data[: stall_at - start])
                    time.sleep(plan["stall_ms"] / 1000)
                    data = data[stall_at - start:]
                    start = stall_at
                if reset_at and start < reset_at <= end and self.proxy.take("resets", "resets"):
                    dst.sendall(data[: reset_at - start])
                    self.count(direction, reset_at - moved)
                    self.reset()
                    return
                dst.sendall(data)
                self.count(direction, end - moved)
                moved = end
        except OSError:
            pass
        self.finish(dst)

    def count(self, direction, n):
        with self.proxy.lock:
            self.proxy.stats["bytes_" + direction] += n

    def finish(self, dst):
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self.lock:
            self.done += 1
            last = self.done == 2
        if last and not self.was_reset:
            self.client.close()
            self.server.close()


def slow_down(client, retry_after, head=b""):
    """Reads the request head (`head`: what was read of it already), answers 503 SlowDown and closes."""
    client.settimeout(5)
    try:
        while b"\r\n\r\n" not in head and len(head) < 65536:
            data = client.recv(4096)
            if not data:
                break
            head += data
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                b"<Message>Please reduce your request rate.</Message></Error>")
        client.sendall(b"HTTP/1.1 503 Slow Down\r\nRetry-After: %d\r\nContent-Type: application/xml\r\n"
                       b"Content-Length: %d\r\nx-amz-request-id: proxy-slowdown\r\nConnection: close\r\n\r\n%s"
                       % (retry_after, len(body), body))
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    client.close()


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def accept_loop(sock, handle):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the S3 server")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    proxy = Proxy((host, int(port)))

    def control(conn):
        with conn, conn.makefile("rw") as f:
            line = f.readline()
            f.write(proxy.control(line) + "\n")
            f.flush()

    data, ctl = listen(), listen()
    threading.Thread(target=accept_loop, args=(data, proxy.serve), daemon=True).start()
    threading.Thread(target=accept_loop, args=(ctl, control), daemon=True).start()
    print(data.getsockname()[1], ctl.getsockname()[1], flush=True)
    # Never outlive the test that started us, however it ends.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())

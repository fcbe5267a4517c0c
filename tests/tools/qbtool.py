#!/usr/bin/env python3
# Test peers for the end-to-end tests, run inside the test namespaces: an HTTP
# server (GET files, PUT returns sha256), a half-close server and client, UDP
# echo server and client, a parallel fetcher and a churning one that aborts
# some of its transfers. Standard library only.
import argparse
import concurrent.futures
import hashlib
import http.server
import os
import socket
import socketserver
import sys
import threading
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0"))
        digest = hashlib.sha256()
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(1 << 20, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
        body = f"{digest.hexdigest()} {length - remaining}\n".encode()
        self.send_response(200 if remaining == 0 else 400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


class ThreadingServer6(ThreadingServer):
    address_family = socket.AF_INET6


def httpd(args):
    os.chdir(args.root)
    cls = ThreadingServer6 if ":" in args.bind else ThreadingServer
    server = cls((args.bind, args.port), Handler)
    server.serve_forever()


def halfclose_server(args):
    """Reads until the client half-closes, then answers with what it read, reversed."""
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.bind, args.port))
    srv.listen(64)

    def serve(conn):
        with conn:
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            time.sleep(0.2)  # the reply comes well after the client's FIN
            conn.sendall(b"reply:" + data[::-1])

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def halfclose_client(args):
    with socket.create_connection((args.host, args.port), timeout=args.timeout) as s:
        s.sendall(args.message.encode())
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    print(reply.decode())


def echo_server(args):
    """TCP: answers each line with 'board:' + the line (a stand-in for a board service)."""
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.bind, args.port))
    srv.listen(64)

    def serve(conn):
        with conn, conn.makefile("rwb") as f:
            for line in f:
                f.write(b"board:" + line)
                f.flush()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def rr_server(args):
    """Echoes each 1-byte request at once: a TCP request/response latency peer."""
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.bind, args.port))
    srv.listen(16)

    def serve(conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            while True:
                b = conn.recv(1)
                if not b:
                    return
                conn.sendall(b)

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def http10_server(args):
    """Answers every HTTP request with one small page and closes (HTTP/1.0, a
    connection per request): the peer of `ab` in the connection-rate bench.
    One asyncio loop, no thread per connection, so the server is not the limit."""
    import asyncio

    body = b"x" * args.size
    reply = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    class Reply(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.head = transport, b""

        def data_received(self, data):
            self.head += data
            if b"\r\n\r\n" in self.head:
                self.transport.write(reply)
                self.transport.close()
            elif len(self.head) > 16384:
                self.transport.abort()

    async def serve():
        server = await asyncio.get_running_loop().create_server(
            Reply, args.bind, args.port, reuse_address=True, backlog=1024)
        await server.serve_forever()

    asyncio.run(serve())


def rr_client(args):
    """One connection, 1-byte request/response for SECONDS; prints round trips/s and mean RTT in us."""
    s = socket.create_connection((args.host, args.port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n = 0
    start = time.perf_counter()
    deadline = start + args.seconds
    while time.perf_counter() < deadline:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise SystemExit("bad echo")
        n += 1
    took = time.perf_counter() - start
    s.close()
    print(f"{n / took:.0f} {took / n * 1e6:.1f}")


def udp_echo_server(args):
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((args.bind, args.port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def udp_echo_client(args):
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(args.timeout)
    ok = 0
    for i in range(args.count):
        payload = f"qbnet-udp-{i}-".encode() + os.urandom(args.size)
        s.sendto(payload, (args.host, args.port))
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        if data == payload:
            ok += 1
    print(f"{ok}/{args.count}")
    sys.exit(0 if ok == args.count else 1)


def parallel_get(args):
    """Opens N connections at once (all held open until every one got its reply)."""
    barrier = threading.Barrier(args.count, timeout=args.timeout)

    def one(i):
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as s:
            barrier.wait()
            s.sendall(f"GET /{args.path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return head.split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"] and hashlib.sha256(body).hexdigest() == args.sha256

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.count) as pool:
        results = list(pool.map(one, range(args.count)))
    print(f"{sum(results)}/{args.count}")
    sys.exit(0 if all(results) else 1)


def churn_get(args):
    """Many short HTTP/1.0 GETs from WORKERS threads: each either reads the whole body and checks
    its sha256, or aborts after a random part of it (a user who gives up). Prints the counts."""
    import random
    want = dict(item.split("=", 1) for item in args.files)
    rng = random.Random(args.seed)
    plan = [(rng.choice(sorted(want)), rng.random() < args.abort_fraction, rng.random()) for _ in range(args.count)]

    def one(job):
        path, abort, cut = job
        try:
            with socket.create_connection((args.host, args.port), timeout=args.timeout) as s:
                s.sendall(f"GET /{path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
                data = bytearray()
                limit = int(cut * 65536) if abort else None
                while limit is None or len(data) < limit:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if abort:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return "aborted"
            head, _, body = bytes(data).partition(b"\r\n\r\n")
            ok = head.split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"] and hashlib.sha256(body).hexdigest() == want[path]
            return "ok" if ok else "bad"
        except OSError as e:
            return f"error {e.__class__.__name__}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(one, plan))
    counts = {k: results.count(k) for k in sorted(set(results))}
    print(" ".join(f"{k.replace(' ', '-')}={v}" for k, v in counts.items()))
    sys.exit(0 if set(counts) <= {"ok", "aborted"} else 1)


def hold_server(args):
    """Accepts connections and keeps them open, with no thread per connection, until the peer closes."""
    import selectors
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.bind, args.port))
    srv.listen(4096)
    srv.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is srv:
                try:
                    while True:
                        conn, _ = srv.accept()
                        conn.setblocking(False)
                        sel.register(conn, selectors.EVENT_READ)
                except BlockingIOError:
                    pass
            else:
                try:
                    data = key.fileobj.recv(4096)
                except (BlockingIOError, ConnectionError):
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()


def hold_connections(args):
    """Opens N idle connections, holds them for SECONDS, then closes them all."""
    socks = []
    for _ in range(args.count):
        socks.append(socket.create_connection((args.host, args.port), timeout=args.timeout))
    print(f"open {len(socks)}", flush=True)
    deadline = time.time() + args.seconds
    while time.time() < deadline and not os.path.exists(args.release_file or "/nonexistent"):
        time.sleep(0.1)
    for s in socks:
        s.close()
    print("closed", flush=True)


def chat_client(args):
    """An interactive session (what ssh is to a user): one line at a time, each answered by the echo
    server before the next is typed. Writes every byte received to TRANSCRIPT and what it should be to
    EXPECT; prints "N/N, longest wait for a reply S s" and fails on the first wrong or missing reply."""
    import random
    rng = random.Random(args.seed)
    expect = bytearray()
    longest = 0.0
    with socket.create_connection((args.host, args.port), timeout=args.timeout) as s, \
            open(args.transcript, "wb") as transcript, s.makefile("rb") as replies:
        for i in range(args.lines):
            line = f"{i:05d} {rng.getrandbits(128):032x}\n".encode()
            expect += b"board:" + line
            s.sendall(line)
            sent = time.monotonic()
            reply = replies.readline()
            longest = max(longest, time.monotonic() - sent)
            transcript.write(reply)
            transcript.flush()
            if reply != b"board:" + line:
                print(f"{i}/{args.lines}: line {i} answered {reply!r}")
                sys.exit(1)
            time.sleep(args.interval)
    with open(args.expect, "wb") as f:
        f.write(expect)
    print(f"{args.lines}/{args.lines}, longest wait for a reply {longest:.2f} s")


def link_relay(args):
    """A cable between qbnetd and qbnet we can pull: relays each connection accepted on LISTEN to a
    new connection to TARGET (Unix stream sockets). While CUT_FILE exists the cable is out: every
    relayed connection is closed on both sides (whatever was in flight in the relay is lost), and
    LISTEN is gone, so the board's reconnects fail until the file is removed, as with no cable."""
    import selectors
    pairs = []  # [board side, host side] of each relayed connection
    listener = None
    sel = selectors.DefaultSelector()

    def pump(src, dst):
        try:
            while True:
                data = src.recv(1 << 20)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def plug():
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(args.listen):
            os.unlink(args.listen)
        srv.bind(args.listen)
        srv.listen(8)
        sel.register(srv, selectors.EVENT_READ)
        print(f"plugged {time.time():.3f}", flush=True)
        return srv

    def pull(srv):
        sel.unregister(srv)
        srv.close()
        os.unlink(args.listen)
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        pairs.clear()
        print(f"pulled {time.time():.3f}", flush=True)

    while True:
        cut = os.path.exists(args.cut_file)
        if cut and listener:
            pull(listener)
            listener = None
        elif not cut and not listener:
            listener = plug()
        for key, _ in sel.select(timeout=0.02):
            board, _ = key.fileobj.accept()
            host = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                host.connect(args.target)
            except OSError:
                board.close()
                continue
            pairs.append((board, host))
            threading.Thread(target=pump, args=(board, host), daemon=True).start()
            threading.Thread(target=pump, args=(host, board), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    def server(name, fn, port, bind="0.0.0.0"):
        a = sub.add_parser(name)
        a.add_argument("--bind", default=bind)
        a.add_argument("--port", type=int, default=port)
        a.set_defaults(fn=fn)
        return a

    def client(name, fn):
        a = sub.add_parser(name)
        a.add_argument("host")
        a.add_argument("port", type=int)
        a.set_defaults(fn=fn)
        return a

    server("httpd", httpd, 80).add_argument("--root", default=".")
    server("halfclose-server", halfclose_server, 7001)
    a = client("halfclose-client", halfclose_client)
    a.add_argument("--message", default="hello")
    a.add_argument("--timeout", type=float, default=10)
    server("echo-server", echo_server, 2222)
    server("rr-server", rr_server, 5300, bind="127.0.0.1")
    server("http10-server", http10_server, 5380, bind="127.0.0.1").add_argument("--size", type=int, default=100)
    client("rr-client", rr_client).add_argument("--seconds", type=float, default=3)
    server("udp-echo-server", udp_echo_server, 7)
    a = client("udp-echo-client", udp_echo_client)
    a.add_argument("--count", type=int, default=20)
    a.add_argument("--size", type=int, default=1000)
    a.add_argument("--timeout", type=float, default=2)
    a = client("parallel-get", parallel_get)
    a.add_argument("path")
    a.add_argument("sha256")
    a.add_argument("--count", type=int, default=200)
    a.add_argument("--timeout", type=float, default=30)
    a = client("churn-get", churn_get)
    a.add_argument("files", nargs="+", help="PATH=SHA256 of each file to fetch")
    a.add_argument("--count", type=int, default=300)
    a.add_argument("--workers", type=int, default=16)
    a.add_argument("--abort-fraction", type=float, default=0.3)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--timeout", type=float, default=30)
    a = client("chat-client", chat_client)
    a.add_argument("--lines", type=int, default=100)
    a.add_argument("--interval", type=float, default=0.05, help="seconds between a reply and the next line")
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--timeout", type=float, default=60, help="for the connect and each reply")
    a.add_argument("--transcript", required=True, help="every byte received, as received")
    a.add_argument("--expect", required=True, help="what the transcript must equal (written at the end)")
    a = sub.add_parser("link-relay")
    a.add_argument("listen", help="the socket path qbnetd connects to")
    a.add_argument("target", help="qbnet's socket path")
    a.add_argument("--cut-file", required=True, help="while this file exists, the cable is pulled")
    a.set_defaults(fn=link_relay)
    server("hold-server", hold_server, 7002)
    a = client("hold-connections", hold_connections)
    a.add_argument("--count", type=int, default=1000)
    a.add_argument("--seconds", type=float, default=5)
    a.add_argument("--timeout", type=float, default=10)
    a.add_argument("--release-file", help="close early once this file exists")
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()

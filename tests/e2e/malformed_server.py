#!/usr/bin/env python3
"""An HTTP/1.1 endpoint that answers each request in the way its path
names, most of them broken, so that load runs can be checked to count
them right. usage: malformed_server.py PORT. Loopback only.

  /ok           200, a small JSON body, kept alive
  /big-cl       200, a 100 KiB body by Content-Length, kept alive
  /big-chunked  200, a 100 KiB body in chunks (one of 64 KiB), kept alive
  /eof          200, a body ended by closing the connection (no length)
  /bad-chunk    200, chunked, whose chunk size is not hex
  /continue     100 Continue, then 200
  /info         100 Continue, 103 Early Hints, then 200
  /status-999   HTTP/1.1 999, a small body
  /status-abc   HTTP/1.1 abc, a small body
  /garbage      a line that is not HTTP at all
  /truncated    Content-Length 100, 2 bytes, then close
  /reset        a TCP reset in place of an answer
  /stall        no answer, ever
  /redirect     302 to /ok (a load run does not follow it)
  /unavailable  503
  anything else 404
"""
import socket
import struct
import sys
import threading
import time

BIG = 100 * 1024


def ok_body():
    return b'{"ok": true}'


def head(status, extra=b""):
    return b"HTTP/1.1 " + status + b"\r\n" + extra


def answer(path):
    """(bytes to send, then close?) for path; None: reset; "stall"."""
    body = ok_body()
    cl = b"Content-Length: %d\r\n\r\n" % len(body)
    if path == "/ok":
        return head(b"200 OK", cl) + body, False
    if path == "/big-cl":
        return head(b"200 OK", b"Content-Length: %d\r\n\r\n" % BIG) + \
            b"x" * BIG, False
    if path == "/big-chunked":
        out = head(b"200 OK", b"Transfer-Encoding: chunked\r\n\r\n")
        out += b"%x\r\n" % 65536 + b"y" * 65536 + b"\r\n"
        left = BIG - 65536
        while left > 0:
            n = min(left, 1000)
            out += b"%x;ext=1\r\n" % n + b"z" * n + b"\r\n"
            left -= n
        return out + b"0\r\nX-Trailer: 1\r\n\r\n", False
    if path == "/eof":
        return head(b"200 OK", b"\r\n") + body, True
    if path == "/bad-chunk":
        return head(b"200 OK", b"Transfer-Encoding: chunked\r\n\r\n") + \
            b"zz\r\n\r\n", True
    if path == "/continue":
        return b"HTTP/1.1 100 Continue\r\n\r\n" + head(b"200 OK", cl) + \
            body, False
    if path == "/info":
        return b"HTTP/1.1 100 Continue\r\n\r\n" + \
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n" + \
            head(b"200 OK", cl) + body, False
    if path == "/status-999":
        return head(b"999 Weird", cl) + body, False
    if path == "/status-abc":
        return head(b"abc Weird", b"Connection: close\r\n" + cl) + body, True
    if path == "/garbage":
        return b"THIS IS NOT HTTP\r\n\r\n", True
    if path == "/truncated":
        return head(b"200 OK", b"Content-Length: 100\r\n\r\n") + body[:2], \
            True
    if path == "/reset":
        return None, True
    if path == "/stall":
        return "stall", False
    if path == "/redirect":
        return head(b"302 Found", b"Location: /ok\r\n" + cl) + body, False
    if path == "/unavailable":
        return head(b"503 Service Unavailable", cl) + body, False
    return head(b"404 Not Found", cl) + body, False


def read_request(f):
    """The request's path, its body read; None at end of stream."""
    line = f.readline()
    if not line:
        return None
    n = 0
    while True:
        h = f.readline()
        if not h or h in (b"\r\n", b"\n"):
            break
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    if n:
        f.read(n)
    parts = line.split()
    return parts[1].decode() if len(parts) > 1 else "/"


def serve(conn):
    f = conn.makefile("rb")
    try:
        while True:
            path = read_request(f)
            if path is None:
                break
            data, close = answer(path)
            if data is None:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
                break
            if data == "stall":
                time.sleep(3600)
                break
            conn.sendall(data)
            if close:
                break
    except OSError:
        pass
    finally:
        try:
            f.close()
            conn.close()
        except OSError:
            pass


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(512)
    while True:
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()

#!/usr/bin/env python3
"""The raw limit for make bench: fetch every message as fast as the wire
allows, read it and throw it away.

    raw.py pop3 PORT CAFILE USER PASS
        POP3S on 127.0.0.1:PORT: AUTH PLAIN (RFC 5034, initial response),
        STAT, then "RETR 1" .. "RETR N" all in ONE write, read all N
        replies (each ends with CRLF.CRLF, RFC 1939 §3) and discard them.
    raw.py imap PORT CAFILE USER PASS FOLDER
        IMAPS: AUTHENTICATE PLAIN with SASL-IR (RFC 4959), SELECT FOLDER,
        "UID FETCH 1:* BODY.PEEK[]", read every literal and discard it.

Prints "MS COUNT": the milliseconds from before the TCP connect to the last
byte (Python's start-up left out, so the limit is if anything too low), and
the number of messages received.  Status 1 on any protocol error."""
import base64
import socket
import ssl
import sys
import time


def connect(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=120)
    return ctx.wrap_socket(raw, server_hostname="localhost")


class Reader:
    """Buffered reads of lines and counted bytes from a TLS socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, bytearray()

    def fill(self):
        data = self.sock.recv(1 << 18)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i != -1:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out
            self.fill()

    def skip(self, n):
        while len(self.buf) < n:
            n -= len(self.buf)
            self.buf.clear()
            self.fill()
        del self.buf[:n]


def plain(user, pw):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()


def pop3(port, cafile, user, pw):
    s = connect(port, cafile)
    r = Reader(s)
    r.line()                                   # greeting
    s.sendall(("AUTH PLAIN %s\r\n" % plain(user, pw)).encode())
    if not r.line().startswith(b"+OK"):
        raise RuntimeError("AUTH PLAIN refused")
    s.sendall(b"STAT\r\n")
    stat = r.line().split()
    n = int(stat[1])
    s.sendall(b"".join(b"RETR %d\r\n" % i for i in range(1, n + 1)))
    got, end, tail = 0, b"\r\n.\r\n", b""
    while got < n:
        # Count terminators in what arrived (plus the last 4 bytes before
        # it, in case one straddles two reads); dot-stuffing guarantees a
        # message body never contains CRLF.CRLF.
        r.fill()
        chunk = tail + bytes(r.buf)
        got += chunk.count(end)
        tail = chunk[-4:] if not chunk.endswith(end) else b""
        r.buf.clear()
    s.sendall(b"QUIT\r\n")
    s.close()
    return got


def imap(port, cafile, user, pw, folder):
    s = connect(port, cafile)
    r = Reader(s)
    r.line()                                   # greeting
    s.sendall(("a1 AUTHENTICATE PLAIN %s\r\na2 SELECT \"%s\"\r\n"
               "a3 UID FETCH 1:* BODY.PEEK[]\r\n" % (plain(user, pw), folder)).encode())
    got = 0
    while True:
        line = r.line()
        if line.startswith((b"a1 ", b"a2 ")) and not line[3:].startswith(b"OK"):
            raise RuntimeError(line.decode(errors="replace"))
        if line.startswith(b"a3 "):
            if not line.startswith(b"a3 OK"):
                raise RuntimeError(line.decode(errors="replace"))
            break
        while line.endswith(b"}") and b"{" in line:     # a literal follows
            r.skip(int(line[line.rindex(b"{") + 1:-1]))
            got += 1
            line = r.line()
    s.sendall(b"a4 LOGOUT\r\n")
    s.close()
    return got


def main():
    kind, port, cafile, user, pw = sys.argv[1:6]
    start = time.monotonic()
    if kind == "pop3":
        got = pop3(int(port), cafile, user, pw)
    else:
        got = imap(int(port), cafile, user, pw, sys.argv[6])
    print("%.1f %d" % ((time.monotonic() - start) * 1000.0, got))


main()

#!/usr/bin/env python3
"""mailflow's scripted fake mail server (test layer 2).

Real servers (Dovecot, Postfix) cover the well-behaved paths.  This server
exists for the misbehaviour they will not produce on demand: a 4xx at any
step, a stripped STARTTLS, garbage or overlong replies, silence, dropped
connections, TLS where plaintext was expected, hostile IMAP names, endless
multi-line replies.  It plays a script line by line, records every line the
client sent (also inside TLS) and fails loudly when the client deviates.

The script language and the .case file format are documented in
tests/fake/README.  Python 3 standard library only.

Modes:
  fakeserver.py --script FILE [--port N] [--certs DIR] ...   serve
  fakeserver.py --split-case FILE DIR     write each section of a .case to DIR
  fakeserver.py --match EXPECTED ACTUAL   compare a transcript with patterns

Exit status of the server mode: 0 the script was played to the end, 1 the
client deviated (or the global timeout hit), 2 the script or the usage is
wrong.
"""

import argparse
import os
import re
import select
import signal
import socket
import ssl
import struct
import sys
import time

MAX_LINE = 64 * 1024          # a client line longer than this is a failure
# A client that sent this may close without reading the reply (IMAP LOGOUT,
# RFC 9051 §6.1.3; SMTP and POP3 QUIT): replies it misses are no failure.
LEAVING = re.compile(rb"^(\S+ )?(LOGOUT|QUIT)$", re.IGNORECASE)
DRAIN_SECONDS = 2.0           # how long to wait for the client after the end
SILENT_SECONDS = 30.0         # default duration of !silent
CERT_NAMES = ("ok", "expired", "wrongname", "unknownca", "selfsigned", "mx")
# "!tls CERT tls1.0": a server that speaks only that (old) version
TLS_ONLY = ("tls1.0", "tls1.1")

SECTIONS = ("info", "server", "client", "exit", "stdout", "stderr",
            "not-output", "transcript", "captured", "timeout", "requires")


class ScriptError(Exception):
    """The script or case file itself is wrong (author error, exit 2)."""


class Failure(Exception):
    """The client did not do what the script expected (exit 1)."""


class ClientClosed(Exception):
    """The client closed the connection (EOF, reset, or TLS handshake failed)."""


class Timeout(Exception):
    """The global deadline passed (raised from the SIGALRM handler)."""


class Terminated(Exception):
    """SIGTERM from the runner: it gave up waiting for us."""


# ---------------------------------------------------------------- text helpers

ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", "0": b"\0"}


def _scan(text, on_plain, on_star=None, on_query=None):
    """Walk TEXT, decoding backslash escapes; shared by unescape and globs.

    Calls on_plain(bytes) for literal bytes and, when given, on_star() and
    on_query() for unescaped '*' and '?'.  '\\*' and '\\?' are literal."""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n in ESCAPES:
                on_plain(ESCAPES[n])
                i += 2
                continue
            if n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
                on_plain(bytes([int(text[i + 2:i + 4], 16)]))
                i += 4
                continue
            if n in "*?" and on_star:
                on_plain(n.encode())
                i += 2
                continue
        if c == "*" and on_star:
            on_star()
        elif c == "?" and on_query:
            on_query()
        else:
            on_plain(c.encode("utf-8"))
        i += 1


def unescape(text):
    """Script text (UTF-8) with \\r \\n \\t \\0 \\\\ \\xNN escapes -> bytes."""
    out = []
    _scan(text, out.append)
    return b"".join(out)


def glob_regex(pattern):
    """Compile a line pattern to a bytes regex matching the whole line.

    Only '*' (any run of bytes) and '?' (one byte) are special.  Brackets
    are literal on purpose: IMAP lines are full of them (BODY[], [ALERT]),
    and fnmatch's character classes would make every such pattern a trap."""
    parts = []
    _scan(pattern, lambda b: parts.append(re.escape(b)),
          lambda: parts.append(b".*"), lambda: parts.append(b"."))
    return re.compile(b"".join(parts) + b"\\Z", re.DOTALL)


def show(data):
    """Render bytes readably for reports: UTF-8 kept, controls escaped."""
    text = data.decode("utf-8", "backslashreplace")
    text = re.sub(r"[\x00-\x1f\x7f]",
                  lambda m: {"\r": "\\r", "\n": "\\n", "\t": "\\t"}.get(
                      m.group(), "\\x%02x" % ord(m.group())), text)
    return '"' + text + '"'


# ---------------------------------------------------------------- case files

def split_sections(text, path):
    """Split a .case file into {section: [(lineno, line), ...]}.

    A file without any '--- NAME' line is a bare server script.  Trailing
    blank lines of a section are dropped: they only separate sections."""
    if not re.search(r"^--- ", text, re.M):
        sections = {"server": []}
        current = "server"
    else:
        sections, current = {}, None
    for lineno, line in enumerate(text.splitlines(), 1):
        m = re.fullmatch(r"--- ([A-Za-z-]+)\s*", line)
        if m:
            current = m.group(1).lower()
            if current not in SECTIONS:
                raise ScriptError("%s:%d: unknown section '%s' (known: %s)"
                                  % (path, lineno, current, " ".join(SECTIONS)))
            if current in sections:
                raise ScriptError("%s:%d: section '%s' appears twice"
                                  % (path, lineno, current))
            sections[current] = []
        elif current is None:
            if line.strip():
                raise ScriptError("%s:%d: text before the first section"
                                  % (path, lineno))
        else:
            sections[current].append((lineno, line))
    for lines in sections.values():
        while lines and not lines[-1][1].strip():
            lines.pop()
    return sections


def read_case(path):
    """Read and split a case or script file (UTF-8, undecodable bytes kept)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return split_sections(f.read(), path)


# ---------------------------------------------------------------- the script

class Directive:
    """One script line: operator, argument text, and where it came from."""

    def __init__(self, lineno, op, arg, source):
        self.lineno, self.op, self.arg, self.source = lineno, op, arg, source

    def where(self):
        return "script line %d (%s)" % (self.lineno, self.source)


def _number(d, text, kind=float):
    try:
        value = kind(text)
    except ValueError:
        raise ScriptError("line %d: '%s' needs a number, got '%s'"
                          % (d.lineno, d.op, text)) from None
    if value < 0:
        raise ScriptError("line %d: negative number" % d.lineno)
    return value


def _check(d):
    """Validate a directive's argument at load time, so typos fail early."""
    if d.op in ("!starttls", "!tls"):
        words = d.arg.split()
        if not words or words[0] not in CERT_NAMES:
            raise ScriptError("line %d: %s needs one of %s, got '%s'"
                              % (d.lineno, d.op, "|".join(CERT_NAMES), d.arg))
        if len(words) > 2 or (len(words) == 2 and words[1] not in TLS_ONLY):
            raise ScriptError("line %d: %s CERT [%s], got '%s'"
                              % (d.lineno, d.op, "|".join(TLS_ONLY), d.arg))
    elif d.op in ("!sleep",):
        _number(d, d.arg)
    elif d.op == "!silent" and d.arg:
        _number(d, d.arg)
    elif d.op in ("<repeat", "<long"):
        count, _, _ = d.arg.partition(" ")
        _number(d, count, int)
    elif d.op in (">>", "!flood") and not d.arg:
        raise ScriptError("line %d: %s needs an argument" % (d.lineno, d.op))
    elif d.op == "!tls-resumed" and d.arg not in ("yes", "no"):
        raise ScriptError("line %d: !tls-resumed yes|no, got '%s'"
                          % (d.lineno, d.arg))
    elif d.op in ("!close", "!reset", "!accept", "!expect-close",
                  ">LITERAL") and d.arg:
        raise ScriptError("line %d: %s takes no argument" % (d.lineno, d.op))


OPS = ("<", "<raw", "<repeat", "<long", ">", ">?", ">>", ">LITERAL",
       "!starttls", "!tls", "!sleep", "!close", "!reset", "!silent", "!accept",
       "!expect-close", "!flood", "!raw", "!tls-resumed")


def parse_script(lines):
    """[(lineno, text)] -> [Directive].  '#' lines and blank lines are skipped.

    The operator is everything up to the first space; the argument is the
    rest verbatim (so '<  x' sends ' x')."""
    script = []
    for lineno, text in lines:
        if not text.strip() or text.startswith("#"):
            continue
        op, _, arg = text.partition(" ")
        if op == "!raw":                 # alias, the brief used both names
            op = "<raw"
        if op not in OPS:
            raise ScriptError("line %d: unknown directive '%s'" % (lineno, op))
        d = Directive(lineno, op, arg, text)
        _check(d)
        script.append(d)
    return script


def load_script(path):
    """The server script of a case (or bare script) file, validated."""
    try:
        return parse_script(read_case(path).get("server", []))
    except ScriptError as e:
        if str(e).startswith("line "):
            raise ScriptError("%s:%s" % (path, str(e)[5:])) from None
        raise


# ---------------------------------------------------------------- recording

class Recorder:
    """Writes what happened: client lines (transcript), captures, and a log.

    The transcript holds the raw bytes of each client line, one per line, so
    the runner can compare it with the case's expected transcript.  The log
    has both directions ('C: ', 'S: ') and events ('-- '), for humans."""

    def __init__(self, transcript, captured, log):
        self.files = {}
        for key, path in (("t", transcript), ("c", captured), ("l", log)):
            if path == "-":
                self.files[key] = sys.stderr.buffer
            else:
                self.files[key] = open(path, "wb", buffering=0) if path else None

    def _write(self, key, data):
        if self.files[key]:
            self.files[key].write(data + b"\n")

    def _log(self, prefix, line, suffix=""):
        """Log lines are escaped: a hostile reply must not drive the terminal
        of whoever reads the log (the runner prints it on failure)."""
        if len(line) > 300:
            line, suffix = line[:300], "...[%d bytes]%s" % (len(line), suffix)
        self._write("l", (prefix + show(line)[1:-1] + suffix).encode("utf-8"))

    def client(self, line):
        self._write("t", line)
        self._log("C: ", line)

    def capture(self, line):
        self._write("c", line)

    def server(self, data):
        lines = data.split(b"\r\n")
        last = lines.pop()
        for line in lines:
            self._log("S: ", line)
        if last:
            self._log("S: ", last, " [no CRLF]")

    def event(self, text):
        self._write("l", ("-- " + text).encode("utf-8", "backslashreplace"))


# ---------------------------------------------------------------- connection

class Conn:
    """One client connection: a socket (maybe TLS) plus a read buffer.

    Reads are line based with a hard maximum; the buffer is exposed so that
    STARTTLS can refuse plaintext that arrived before the handshake."""

    def __init__(self, sock, rec):
        self.sock, self.rec, self.buf = sock, rec, b""
        self.closed_reason = None    # set once we know the client is gone
        self.tls = False
        self.leaving = None          # the client's LOGOUT or QUIT line

    def _fill(self):
        """Read more bytes into the buffer; ClientClosed on EOF or reset."""
        if self.closed_reason:
            raise ClientClosed(self.closed_reason)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError) as e:
            self.closed_reason = "connection reset (%s)" % e.__class__.__name__
            raise ClientClosed(self.closed_reason) from None
        except ssl.SSLError as e:
            self.closed_reason = "TLS error: %s" % e
            raise ClientClosed(self.closed_reason) from None
        if not data:
            self.closed_reason = "client closed the connection"
            raise ClientClosed(self.closed_reason)
        self.buf += data

    def readline(self):
        """Return the next client line without its CRLF; record it.

        A bare LF is a failure: mail protocols require CRLF and a client
        sending bare LF is exploitable (SMTP smuggling)."""
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise Failure("client line longer than %d bytes: %s..."
                              % (MAX_LINE, show(self.buf[:80])))
            try:
                self._fill()
            except ClientClosed:
                if self.buf:
                    self.rec.client(self.buf)
                    self.rec.event("partial line before close")
                raise
        line, _, self.buf = self.buf.partition(b"\n")
        if len(line) > MAX_LINE:
            raise Failure("client line longer than %d bytes: %s..."
                          % (MAX_LINE, show(line[:80])))
        if not line.endswith(b"\r"):
            self.rec.client(line)
            raise Failure("client line ends in bare LF, not CRLF: %s" % show(line))
        line = line[:-1]
        self.rec.client(line)
        if LEAVING.match(line):
            self.leaving = line
        return line

    def read_exact(self, n):
        """Return exactly N bytes (an IMAP literal), not recorded here."""
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def send(self, data):
        self.rec.server(data)
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            self.closed_reason = "send failed: %s" % e
            raise ClientClosed(self.closed_reason) from None

    def has_input(self):
        """True if a read would not block (buffered, TLS-pending or socket)."""
        if self.buf or (self.tls and self.sock.pending()):
            return True
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def start_tls(self, context):
        """Wrap the live socket server-side and handshake.

        A failed handshake (the client rejected our certificate, or spoke
        plaintext) means the client is gone for the rest of the script."""
        if self.buf:
            raise Failure("client sent %s after STARTTLS, before the TLS "
                          "handshake (command injection)" % show(self.buf[:80]))
        try:
            self.sock = context.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.closed_reason = "TLS handshake failed: %s" % e
            self.rec.event(self.closed_reason)
            return
        self.tls = True
        self.rec.event("TLS established (%s, %s)" % (self.sock.version(),
                       "resumed session" if self.sock.session_reused
                       else "full handshake"))

    def close(self):
        """Close at once: unread input may turn this into an RST, on purpose."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.closed_reason = self.closed_reason or "closed by the script"

    def reset(self):
        """Abort with a TCP RST (SO_LINGER 0): a crashed peer, a NAT box."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()
        self.closed_reason = self.closed_reason or "reset by the script"

    def half_close(self):
        """Tell the client we are done writing, keep reading.

        Plain TCP: shutdown(SHUT_WR).  TLS: send close_notify without waiting
        for the peer's (a non-blocking SSL_shutdown); if that is not possible
        the client simply sees the close a little later."""
        try:
            if not self.tls:
                self.sock.shutdown(socket.SHUT_WR)
                return
            timeout = self.sock.gettimeout()
            self.sock.setblocking(False)
            try:
                self.sock._sslobj.shutdown()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            finally:
                self.sock.settimeout(timeout)
        except (OSError, ssl.SSLError, AttributeError):
            pass


# ---------------------------------------------------------------- player

class Player:
    """Plays a script against the connections accepted on one listener."""

    def __init__(self, script, listener, certs, rec):
        self.script, self.listener, self.certs, self.rec = script, listener, certs, rec
        self.conn = None
        self.last_line = b""         # for >LITERAL
        self.tag = b""               # %TAG: first word of the last command
        self.continuation = False    # next client line ends a literal command
        self.contexts = {}
        self.current = None          # directive being played, for reports

    # -- plumbing

    def accept(self):
        sock, peer = self.listener.accept()
        self.rec.event("accepted connection from %s:%d" % peer)
        self.conn = Conn(sock, self.rec)
        self.last_line, self.tag, self.continuation = b"", b"", False

    def context(self, arg):
        """TLS server context for "CERT [tls1.0|tls1.1]" (loaded once)."""
        if arg not in self.contexts:
            if not self.certs:
                raise ScriptError("%s needs --certs DIR" % self.current.where())
            words = arg.split()
            name = words[0]
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(self.certs, name + ".pem"),
                                os.path.join(self.certs, name + ".key"))
            if len(words) == 2:
                v = {"tls1.0": ssl.TLSVersion.TLSv1,
                     "tls1.1": ssl.TLSVersion.TLSv1_1}[words[1]]
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                ctx.minimum_version = v
                ctx.maximum_version = v
            self.contexts[arg] = ctx
        return self.contexts[arg]

    def expect(self, pattern, got):
        if not glob_regex(pattern).match(got):
            raise Failure("expected %s\n          got %s"
                          % (show(unescape(pattern)), show(got)))

    def send_text(self, text):
        """Send script text plus CRLF; %TAG is the client's last tag."""
        data = unescape(text).replace(b"%TAG", self.tag)
        self.conn.send(data + b"\r\n")

    # -- directives

    def op_send(self, arg):                       # <
        self.send_text(arg)

    def op_raw(self, arg):                        # <raw
        self.conn.send(unescape(arg))

    def op_repeat(self, arg):                     # <repeat N TEXT
        count, _, text = arg.partition(" ")
        for _ in range(int(count)):
            self.send_text(text)

    def op_long(self, arg):                       # <long N PREFIX
        size, _, prefix = arg.partition(" ")
        head = unescape(prefix)
        self.conn.send(head + b"x" * max(0, int(size) - len(head)) + b"\r\n")

    def op_expect(self, arg, capture=False):      # > and >?
        line = self.conn.readline()
        self.last_line = line
        if not self.continuation:
            self.tag = line.split(b" ")[0]
        self.continuation = False
        if capture:
            self.rec.capture(line)
        self.expect(arg, line)

    def op_capture(self, arg):
        self.op_expect(arg, capture=True)

    def op_body(self, arg):                       # >> END
        while True:
            line = self.conn.readline()
            if glob_regex(arg).match(line):
                return

    def op_literal(self, arg):                    # >LITERAL
        m = re.search(rb"\{(\d+)\+?\}\Z", self.last_line)
        if not m:
            raise Failure("%s: the previous client line %s announces no "
                          "literal {N}" % (self.current.where(), show(self.last_line)))
        data = self.conn.read_exact(int(m.group(1)))
        self.rec.event("literal of %d bytes" % len(data))
        lines = data.split(b"\r\n")
        if lines[-1] == b"":             # CRLF-terminated, like a read line
            lines.pop()
        for line in lines:
            self.rec.client(line)
        self.last_line = b""
        self.continuation = True

    def op_tls(self, arg):                        # !starttls CERT, !tls CERT
        self.conn.start_tls(self.context(arg))

    def op_tls_resumed(self, arg):                # !tls-resumed yes|no
        """Did the client resume a session of this server's (a ticket or
        session id from an earlier connection of the same script)?"""
        if not self.conn.tls:
            raise Failure("!tls-resumed: the connection is not TLS")
        got = "yes" if self.conn.sock.session_reused else "no"
        if got != arg:
            raise Failure("expected the client %s, but it %s" % (
                "to resume its TLS session" if arg == "yes" else
                "to make a full TLS handshake (no resumption)",
                "made a full handshake" if got == "no" else
                "resumed a session"))

    def op_sleep(self, arg):
        time.sleep(float(arg))

    def op_close(self, arg):
        self.rec.event("closing the connection")
        self.conn.close()

    def op_reset(self, arg):
        self.rec.event("resetting the connection")
        self.conn.reset()

    def op_silent(self, arg):
        """Swallow input without answering until the client gives up."""
        end = time.monotonic() + (float(arg) if arg else SILENT_SECONDS)
        conn = self.conn
        try:
            while True:
                conn.buf = self.record_lines(conn.buf)
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return
                if not (conn.tls and conn.sock.pending()) and \
                        not select.select([conn.sock], [], [], remaining)[0]:
                    return
                conn._fill()
        except ClientClosed:
            return

    def record_lines(self, buf):
        """Record the complete lines in BUF, return the incomplete rest."""
        *lines, rest = buf.split(b"\n")
        for line in lines:
            self.rec.client(line[:-1] if line.endswith(b"\r") else line)
        return rest

    def op_accept(self, arg):
        self.finish_connection()
        self.accept()

    def op_expect_close(self, arg):
        try:
            line = self.conn.readline()
        except ClientClosed:
            return
        raise Failure("expected the client to close, got %s" % show(line))

    def op_flood(self, arg):
        """Send TEXT lines until the client sends something or goes away.

        For endless multi-line replies: the client must stop on its own
        limit.  Whatever it sends stays buffered for the next directive."""
        chunk = (unescape(arg) + b"\r\n") * max(1, 16384 // (len(arg) + 2))
        sent = 0
        try:
            while not self.conn.has_input():
                select.select([self.conn.sock], [self.conn.sock], [])
                if self.conn.has_input():
                    break
                self.conn.sock.sendall(chunk)
                sent += len(chunk)
        except (OSError, ssl.SSLError) as e:
            self.conn.closed_reason = "client went away during flood (%s)" % \
                e.__class__.__name__
        self.rec.event("flood: sent %d bytes" % sent)

    HANDLERS = {
        "<": op_send, "<raw": op_raw, "<repeat": op_repeat, "<long": op_long,
        ">": op_expect, ">?": op_capture, ">>": op_body, ">LITERAL": op_literal,
        "!starttls": op_tls, "!tls": op_tls, "!sleep": op_sleep,
        "!close": op_close, "!reset": op_reset, "!silent": op_silent,
        "!accept": op_accept,
        "!expect-close": op_expect_close, "!flood": op_flood,
        "!tls-resumed": op_tls_resumed,
    }

    # -- driver

    def play(self):
        """Play every directive, then let the client finish."""
        self.accept()
        i = 0
        while i < len(self.script):
            d = self.current = self.script[i]
            self.rec.event(d.where())
            i += 1
            try:
                self.HANDLERS[d.op](self, d.arg)
            except ClientClosed as e:
                if d.op.startswith(">"):
                    raise Failure("expected %s, but %s"
                                  % (show(unescape(d.arg)), e)) from None
                if self.conn.leaving is None:
                    raise Failure(str(e)) from None
                i = self.skip_replies(i)
        self.current = None
        self.finish_connection()

    def skip_replies(self, i):
        """The client closed after its LOGOUT/QUIT: skip the replies and
        pauses meant for this connection; return where the script goes on
        (an !accept, a ">" that then fails, or its end)."""
        self.rec.event("client closed after %s without reading the reply"
                       % show(self.conn.leaving))
        while i < len(self.script) and (self.script[i].op.startswith("<") or
                                        self.script[i].op == "!sleep"):
            i += 1
        return i

    def finish_connection(self):
        """End of script (or !accept): half-close, then anything the client
        still sends is a failure; its EOF or a short silence is fine."""
        conn = self.conn
        if conn.closed_reason:
            conn.sock.close()
            return
        conn.half_close()
        conn.sock.settimeout(DRAIN_SECONDS)
        try:
            line = conn.readline()
        except (ClientClosed, socket.timeout):
            return
        finally:
            conn.sock.close()
        raise Failure("client sent %s after the script ended" % show(line))


# ---------------------------------------------------------------- modes

def match_lines(expected_path, actual_path):
    """Compare ACTUAL lines (raw bytes) with EXPECTED patterns in full.

    A pattern line '...' matches any number of lines.  Prints a report
    and returns True on a match."""
    with open(expected_path, encoding="utf-8", errors="surrogateescape") as f:
        patterns = f.read().splitlines()
    actual = []
    if os.path.exists(actual_path):
        with open(actual_path, "rb") as f:
            actual = f.read().split(b"\n")[:-1]
    if _match(patterns, actual):
        return True
    print("expected (patterns):")
    for p in patterns:
        print("    " + p)
    print("actual:")
    for i, line in enumerate(actual):
        mark = "  "
        if i < len(patterns) and patterns[i] != "..." and \
                not glob_regex(patterns[i]).match(line):
            mark = "! "
        print("  " + mark + show(line)[1:-1])
    return False


def _match(patterns, lines):
    """Glob match of a line list; '...' is a line wildcard (memoised)."""
    memo = {}

    def at(p, l):
        if (p, l) not in memo:
            if p == len(patterns):
                ok = l == len(lines)
            elif patterns[p] == "...":
                ok = at(p + 1, l) or (l < len(lines) and at(p, l + 1))
            else:
                ok = l < len(lines) and bool(
                    glob_regex(patterns[p]).match(lines[l])) and at(p + 1, l + 1)
            memo[(p, l)] = ok
        return memo[(p, l)]
    return at(0, 0)


def split_case(path, outdir):
    """Write each section of a case to OUTDIR/NAME (the runner reads them)."""
    sections = read_case(path)
    for name, lines in sections.items():
        with open(os.path.join(outdir, name), "w", encoding="utf-8",
                  errors="surrogateescape") as f:
            f.write("".join(text + "\n" for _, text in lines))
    if "server" in sections:
        load_script(path)                  # validate now: a clear error early


def _raise(exc):
    def handler(signum, frame):
        raise exc()
    return handler


def serve(args):
    """Listen, report the port, play the script; returns the exit status."""
    script = load_script(args.script)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(8)
    port = listener.getsockname()[1]
    print(port, flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)   # atomic: the runner polls for it
    rec = Recorder(args.transcript, args.captured, args.log)
    player = Player(script, listener, args.certs, rec)
    signal.signal(signal.SIGALRM, _raise(Timeout))
    signal.signal(signal.SIGTERM, _raise(Terminated))
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        player.play()
    except Failure as e:
        return report(player, rec, str(e))
    except Timeout:
        return report(player, rec, "global timeout (%g s) hit" % args.timeout)
    except Terminated:
        return report(player, rec, "stopped by the runner while waiting")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    rec.event("script complete")
    return 0


def report(player, rec, reason):
    """Print a failure the runner shows verbatim, and log it."""
    if player.current:
        where = "at " + player.current.where()
    elif player.conn is None:
        where = "while waiting for the first connection"
    else:
        where = "after the end of the script"
    msg = "fakeserver: FAIL %s: %s" % (where, reason)
    rec.event(msg)
    print(msg, file=sys.stderr)
    return 1


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The script format is described in tests/fake/README.")
    ap.add_argument("--script", help="case file (its 'server' section) or bare script")
    ap.add_argument("--port", type=int, default=0, help="0 = let the OS choose")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port-file", help="also write the port here (atomically)")
    ap.add_argument("--certs", help="directory with NAME.pem/NAME.key for TLS")
    ap.add_argument("--transcript", help="file for the raw client lines")
    ap.add_argument("--captured", help="file for the lines captured with >?")
    ap.add_argument("--log", help="file for the full conversation log ('-': stderr)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="global deadline in seconds (default 30)")
    ap.add_argument("--split-case", nargs=2, metavar=("CASE", "DIR"),
                    help="write each section of CASE to DIR/NAME and exit")
    ap.add_argument("--match", nargs=2, metavar=("EXPECTED", "ACTUAL"),
                    help="match ACTUAL lines against EXPECTED patterns in full")
    args = ap.parse_args()
    try:
        if args.split_case:
            split_case(*args.split_case)
            return 0
        if args.match:
            return 0 if match_lines(*args.match) else 1
        if not args.script:
            ap.error("--script is required")
        return serve(args)
    except ScriptError as e:
        print("fakeserver: script error: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("fakeserver: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

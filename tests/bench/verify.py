#!/usr/bin/env python3
"""Delivery and byte-identity checks for make bench.

    verify.py same SERVER_DIR CLIENT_DIR
        Every message of the server's Maildir folder (the files Dovecot
        holds in new/ and cur/) is in the client's, byte for byte, and
        nothing else is: compared as multisets of SHA-256 hashes.  Line
        ends (CRLF/LF) and trailing newlines are normalised first, since
        POP3 and IMAP deliver CRLF and always end a message with one.
    verify.py same SERVER_DIR CLIENT_DIR HEADER
        The same, after removing from each client message one header line
        starting "HEADER: " that the client tool adds on its own (mbsync
        writes "X-TUID: ..." into every message it stores).
    verify.py list MAILDIR
        Print the message names (without ":2,..." flags) now in MAILDIR.
    verify.py delivered LIST MAILDIR COUNT MESSAGE
        Exactly COUNT messages arrived in MAILDIR since LIST was written,
        each with MESSAGE's body (the part after the first empty line)
        unchanged; headers differ (Received, Message-ID, Date).

Silent with status 0 when all is well; otherwise one line saying what is
wrong and status 1."""
import collections
import hashlib
import os
import sys


def names(root):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(root, sub)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in os.listdir(d)]
    return out


def norm(data):
    return data.replace(b"\r\n", b"\n").rstrip(b"\n")


def drop_header(data, name):
    """DATA without its first header line starting with "NAME: "."""
    end = data.find(b"\n\n")
    head = data if end == -1 else data[:end + 1]
    key = name.encode() + b": "
    at = 0 if head.startswith(key) else head.find(b"\n" + key) + 1
    if at == 0 and not head.startswith(key):
        return data
    stop = data.find(b"\n", at)
    if stop == -1:                  # the last line of a header-only message
        return data[:at].rstrip(b"\n")
    return data[:at] + data[stop + 1:]


def digest(path, header=None):
    with open(path, "rb") as f:
        data = norm(f.read())
    if header:
        data = drop_header(data, header)
    return hashlib.sha256(data).hexdigest()


def body(data):
    data = norm(data)
    cut = data.find(b"\n\n")
    return data[cut + 2:] if cut != -1 else b""


def same(server, client, header=None):
    want = collections.Counter(digest(p) for p in names(server))
    got = collections.Counter(digest(p, header) for p in names(client))
    lost = sum((want - got).values())
    extra = sum((got - want).values())
    if lost or extra:
        print("%d of %d messages missing or altered, %d unexpected"
              % (lost, sum(want.values()), extra))
        return 1
    return 0


def base(path):
    return os.path.basename(path).split(":")[0]


def delivered(listfile, root, count, message):
    with open(listfile) as f:
        before = set(f.read().split())
    fresh = [p for p in names(root) if base(p) not in before]
    if len(fresh) != count:
        print("delivered %d of %d messages" % (len(fresh), count))
        return 1
    with open(message, "rb") as f:
        want = body(f.read())
    bad = 0
    for p in fresh:
        with open(p, "rb") as f:
            if body(f.read()) != want:
                bad += 1
    if bad:
        print("%d of %d delivered messages have an altered body" % (bad, count))
        return 1
    return 0


def main():
    mode = sys.argv[1]
    if mode == "same":
        return same(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    if mode == "list":
        print("\n".join(base(p) for p in names(sys.argv[2])))
        return 0
    if mode == "delivered":
        return delivered(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    sys.exit("verify.py: unknown mode " + mode)


sys.exit(main())

#!/usr/bin/env python3
"""Fill a server-side Maildir with a real-world message mix, for make bench.

    mix.py MAILDIR COUNT [small]

Writes COUNT messages into MAILDIR/new (created if missing), as a mail
server would hold them (LF line ends).  The mix, the same for every run
(a fixed random seed):

  - one message in ten is one of CPython's e-mail test messages
    (libpython3.11-testsuite: test/test_email/data/msg_*.txt, odd MIME,
    some malformed, written by nobody here), taken in turn;
  - the rest are generated, 2 to 50 KiB: a text part, and in one of three
    a base64 attachment (random bytes, 1 to 40 KiB) in multipart/mixed.

Every message gets a first header "X-Bench-Seq: N" so that no two are
byte-identical.  "small" instead writes ~1 KiB text messages (the memory
rows, where the count matters and not the size).  Prints the number of
CPython messages used."""
import base64
import glob
import os
import random
import sys
import sysconfig

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua.\n")


def cpython_messages():
    """Debian's libpython3.11-testsuite first, else this Python's own."""
    own = os.path.join(sysconfig.get_paths()["stdlib"], "test", "test_email", "data")
    paths = []
    for data in ("/usr/lib/python3.11/test/test_email/data", own):
        paths = sorted(glob.glob(os.path.join(data, "msg_*.txt")))
        if paths:
            break
    out = []
    for path in paths:
        with open(path, "rb") as f:
            out.append(f.read())
    return out


def text_body(rng, size):
    words = LOREM * (size // len(LOREM) + 1)
    return words[:size].rsplit("\n", 1)[0] + "\n"


def generated(rng, i):
    size = rng.randint(2 * 1024, 50 * 1024)
    head = ("From: Sender %d <sender%d@example.org>\nTo: bob@example.test\n"
            "Subject: bench message %d\nDate: Mon, 07 Dec 2026 03:00:00 +0000\n"
            "Message-ID: <bench.%d@example.org>\nMIME-Version: 1.0\n" % (i % 97, i % 97, i, i))
    if rng.random() >= 1 / 3:
        return (head + "Content-Type: text/plain; charset=us-ascii\n\n"
                + text_body(rng, size - len(head))).encode()
    att = rng.randint(1024, min(40 * 1024, size))
    b64 = base64.encodebytes(rng.randbytes(att * 3 // 4)).decode()
    text = text_body(rng, max(200, size - len(head) - len(b64)))
    return (head + 'Content-Type: multipart/mixed; boundary="=b%d"\n\n'
            "--=b%d\nContent-Type: text/plain; charset=us-ascii\n\n%s\n"
            "--=b%d\nContent-Type: application/octet-stream; name=\"data%d.bin\"\n"
            "Content-Transfer-Encoding: base64\n"
            "Content-Disposition: attachment; filename=\"data%d.bin\"\n\n%s\n"
            "--=b%d--\n" % (i, i, text, i, i, i, b64, i)).encode()


def small(i):
    return ("From: a@example.org\nTo: bob@example.test\nSubject: small %d\n"
            "Message-ID: <small.%d@example.org>\n\n%s" % (i, i, LOREM * 8)).encode()


def main():
    root, count = sys.argv[1], int(sys.argv[2])
    only_small = len(sys.argv) > 3 and sys.argv[3] == "small"
    rng = random.Random(15)
    corpus = [] if only_small else cpython_messages()
    new = os.path.join(root, "new")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    used = 0
    for i in range(count):
        if only_small:
            body = small(i)
        elif corpus and i % 10 == 0:
            body = corpus[(i // 10) % len(corpus)]
            used += 1
        else:
            body = generated(rng, i)
        with open(os.path.join(new, "1796000000.M%dP15Q%d.bench" % (i, i)), "wb") as f:
            f.write(b"X-Bench-Seq: %d\n" % i + body)
    print(used)


main()

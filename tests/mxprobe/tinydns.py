#!/usr/bin/env python3
"""A tiny DNS responder for mxprobe's fake-server cases (tests/fake).

    tinydns.py PORTFILE DOMAIN ADDR [--null-mx]

Answers UDP queries on 127.0.0.1 (a free port, written to PORTFILE):
DOMAIN MX -> "10 mx.DOMAIN" (or "0 ." with --null-mx), mx.DOMAIN A -> ADDR;
other types under DOMAIN -> NODATA; names outside DOMAIN -> REFUSED.
Exits after 60 s so a forgotten instance cannot linger."""
import os
import signal
import socket
import struct
import sys


def qname(msg, off):
    labels = []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels).lower(), off + 1


def name(n):
    out = b""
    for label in n.split(".") if n else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def answer(query, domain, addr, null_mx):
    qid, _flags = struct.unpack(">HH", query[:4])
    q, end = qname(query, 12)
    qtype, _ = struct.unpack(">HH", query[end:end + 4])
    question = query[12:end + 4]
    rcode, rrs = 0, []
    if q != domain and not q.endswith("." + domain):
        rcode = 5
    elif q == domain and qtype == 15:
        rdata = struct.pack(">H", 0) + name("") if null_mx else \
            struct.pack(">H", 10) + name("mx." + domain)
        rrs.append((15, rdata))
    elif q == "mx." + domain and qtype == 1:
        rrs.append((1, socket.inet_aton(addr)))
    body = b""
    for rtype, rdata in rrs:
        body += b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata
    head = struct.pack(">HHHHHH", qid, 0x8580 | rcode, 1, len(rrs), 0, 0)
    return head + question + body


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    portfile, domain, addr = sys.argv[1], sys.argv[2].lower(), sys.argv[3]
    null_mx = "--null-mx" in sys.argv[4:]
    signal.alarm(60)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        query, peer = s.recvfrom(4096)
        try:
            s.sendto(answer(query, domain, addr, null_mx), peer)
        except (IndexError, struct.error):
            pass


if __name__ == "__main__":
    main()

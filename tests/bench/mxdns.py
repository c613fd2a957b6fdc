#!/usr/bin/env python3
"""A DNS responder for the mxprobe scale benchmark (tests/bench/mxprobe-scale.sh).

    mxdns.py PORTFILE ADDR SECONDS

Every domain gets its own MX host, so mxprobe's probe cache cannot share
anything between domains: NAME.scale.test MX -> "10 mx.NAME.scale.test",
mx.*.scale.test A -> ADDR; every other question under scale.test is
NODATA, names outside it REFUSED.  UDP on 127.0.0.1 (a free port, written
to PORTFILE); exits after SECONDS."""
import os
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "mxprobe"))
from tinydns import name as wire, qname  # noqa: E402  (shared helpers)

ZONE = "scale.test"


def answer(query, addr):
    qid = struct.unpack(">H", query[:2])[0]
    q, end = qname(query, 12)
    qtype = struct.unpack(">H", query[end:end + 2])[0]
    question = query[12:end + 4]
    rcode, rrs = 0, []
    if q != ZONE and not q.endswith("." + ZONE):
        rcode = 5
    elif q.startswith("mx.") and qtype == 1:
        rrs.append((1, addr))
    elif not q.startswith(("mx.", "_", "mta-sts.")) and qtype == 15:
        rrs.append((15, struct.pack(">H", 10) + wire("mx." + q)))
    body = b"".join(b"\xc0\x0c" + struct.pack(">HHIH", t, 1, 60, len(d)) + d
                    for t, d in rrs)
    return struct.pack(">HHHHHH", qid, 0x8580 | rcode, 1, len(rrs), 0, 0) + \
        question + body


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    portfile, addr = sys.argv[1], socket.inet_aton(sys.argv[2])
    signal.alarm(int(sys.argv[3]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("127.0.0.1", 0))
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        query, peer = s.recvfrom(4096)
        try:
            s.sendto(answer(query, addr), peer)
        except (IndexError, struct.error):
            pass


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A one-connection TCP relay for fake-server cases (tests/fake).

    relay.py PORTFILE HOST PORT

Listens on 127.0.0.1 (a free port, written to PORTFILE atomically),
accepts one connection, relays it both ways to HOST:PORT until either side
closes, then exits: the same server seen on a second port (a TLS session
cache must not resume across ports).  Gives up after 30 s."""
import os
import select
import socket
import sys

LIMIT = 30


def main():
    portfile, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(LIMIT)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % lst.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    a, _ = lst.accept()
    b = socket.create_connection((host, port), timeout=LIMIT)
    peer = {a: b, b: a}
    while True:
        ready, _, _ = select.select([a, b], [], [], LIMIT)
        if not ready:
            return 1
        for s in ready:
            data = s.recv(65536)
            if not data:
                return 0
            peer[s].sendall(data)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that a test controls, to misbehave like a
network: tests/soak/proxy.py LISTEN_PORT TARGET_PORT PIDFILE [RATE]

  RATE     bytes per second passed on at most (a slow link); default none

  SIGUSR1  drop every open connection at once (TCP reset both ways), as a
           NAT box or a changed network does
  SIGUSR2  toggle "silent": open connections stay open but every byte is
           swallowed (a dead peer behind a NAT table that forgot us); new
           connections are reset while silent
  SIGTERM  exit

Only 127.0.0.1 is ever contacted.  Standard library only."""
import os, selectors, signal, socket, struct, sys, time

listen_port, target_port, pidfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rate = int(sys.argv[4]) if len(sys.argv) > 4 else 0
sel = selectors.DefaultSelector()
pairs = {}          # socket -> its peer
flags = {"drop": False, "silent": False, "stop": False}

def on_signal(sig, _frame):
    if sig == signal.SIGUSR1:
        flags["drop"] = True
    elif sig == signal.SIGUSR2:
        flags["silent"] = not flags["silent"]
    else:
        flags["stop"] = True

for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT):
    signal.signal(s, on_signal)

def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sel.unregister(sock)
    except (KeyError, ValueError):
        pass
    sock.close()

def close_pair(sock, hard=False):
    peer = pairs.pop(sock, None)
    for s in (sock, peer):
        if s is None:
            continue
        pairs.pop(s, None)
        if hard:
            reset(s)
        else:
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", listen_port))
lsock.listen(64)
sel.register(lsock, selectors.EVENT_READ)
with open(pidfile + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(pidfile + ".tmp", pidfile)

while not flags["stop"]:
    if flags["drop"]:
        flags["drop"] = False
        for s in list(pairs):
            if s in pairs:
                close_pair(s, hard=True)
    try:
        events = sel.select(timeout=0.2)
    except InterruptedError:
        continue
    for key, _ in events:
        sock = key.fileobj
        if sock is lsock:
            try:
                client, _ = lsock.accept()
            except OSError:
                continue
            if flags["silent"]:
                reset(client)
                continue
            up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            up.settimeout(5)
            try:
                up.connect(("127.0.0.1", target_port))
            except OSError:
                reset(client)
                up.close()
                continue
            up.setblocking(True)
            pairs[client], pairs[up] = up, client
            sel.register(client, selectors.EVENT_READ)
            sel.register(up, selectors.EVENT_READ)
            continue
        if sock not in pairs:
            continue
        try:
            data = sock.recv(4096 if rate else 65536)
        except OSError:
            data = b""
        if not data:
            close_pair(sock)
            continue
        if flags["silent"]:
            continue
        if rate:
            time.sleep(len(data) / rate)
        try:
            pairs[sock].sendall(data)
        except OSError:
            close_pair(sock)
for s in list(pairs):
    if s in pairs:
        close_pair(s)
lsock.close()

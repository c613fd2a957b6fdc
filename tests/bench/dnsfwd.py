#!/usr/bin/env python3
"""A DNS forwarder on port 53 of a loopback address, for make bench:

    dnsfwd.py LISTEN_ADDR TARGET_PORT READYFILE

posttls-finger has no resolver option: it asks what /etc/resolv.conf names,
and resolv.conf cannot name a port.  The bench runs it in a private mount
namespace whose resolv.conf says "nameserver LISTEN_ADDR", and this relays
every UDP and TCP query on LISTEN_ADDR:53 to the bed's Unbound on
127.0.0.1:TARGET_PORT, so the machine's own resolver is never asked.
Writes READYFILE once listening; exits on SIGTERM."""
import signal
import socket
import sys
import threading

listen, target, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def udp_loop(sock):
    while True:
        query, peer = sock.recvfrom(65535)
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(5)
        try:
            up.sendto(query, ("127.0.0.1", target))
            sock.sendto(up.recv(65535), peer)
        except OSError:
            pass
        finally:
            up.close()


def relay(src, dst):
    try:
        while True:
            data = src.recv(65535)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def tcp_loop(sock):
    while True:
        client, _ = sock.accept()
        try:
            up = socket.create_connection(("127.0.0.1", target), timeout=5)
        except OSError:
            client.close()
            continue
        threading.Thread(target=relay, args=(client, up), daemon=True).start()
        threading.Thread(target=relay, args=(up, client), daemon=True).start()


# Block the signals in every thread so that sigwait below receives them.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((listen, 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((listen, 53))
t.listen(16)
threading.Thread(target=udp_loop, args=(u,), daemon=True).start()
threading.Thread(target=tcp_loop, args=(t,), daemon=True).start()
with open(ready, "w") as f:
    f.write("ready\n")
signal.sigwait([signal.SIGTERM, signal.SIGINT])

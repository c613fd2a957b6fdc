#!/usr/bin/env python3
"""Minimal SMTP listeners for mxprobe's integration tests.

    smtpd.py --ready FILE LISTENER...

LISTENER is ADDR,PORT,BANNER_NAME,CERT,KEY: CERT is a PEM file with the
chain the server sends (leaf first); CERT "-" means STARTTLS is not
offered.  Each listener answers the greeting, EHLO/HELO, STARTTLS, NOOP,
RSET and QUIT, and refuses everything else (no mail is accepted).  FILE is
written once every listener is bound.  Runs until killed."""
import socketserver
import ssl
import sys
import threading


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def send(self, f, line):
        f.write(line.encode() + b"\r\n")
        f.flush()

    def handle(self):
        cfg = self.server.cfg
        sock = self.request
        rf, wf = sock.makefile("rb"), sock.makefile("wb")
        tls = False
        self.send(wf, "220 %s ESMTP mxprobe test listener" % cfg["name"])
        while True:
            line = rf.readline(1024)
            if not line:
                return
            verb = line.decode("latin-1").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                ext = ["PIPELINING", "SIZE 10240000", "8BITMIME"]
                if cfg["ctx"] is not None and not tls:
                    ext.append("STARTTLS")
                lines = [cfg["name"]] + ext
                for i, x in enumerate(lines):
                    sep = " " if i == len(lines) - 1 else "-"
                    self.send(wf, "250%s%s" % (sep, x))
            elif verb == "STARTTLS" and cfg["ctx"] is not None and not tls:
                self.send(wf, "220 2.0.0 Ready to start TLS")
                try:
                    sock = cfg["ctx"].wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                rf, wf = sock.makefile("rb"), sock.makefile("wb")
                tls = True
            elif verb in ("NOOP", "RSET"):
                self.send(wf, "250 2.0.0 OK")
            elif verb == "QUIT":
                self.send(wf, "221 2.0.0 Bye")
                return
            else:
                self.send(wf, "502 5.5.1 not implemented here")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[0] != "--ready":
        sys.exit(__doc__)
    ready, specs = args[1], args[2:]
    servers = []
    for spec in specs:
        addr, port, name, cert, key = spec.split(",")
        ctx = None
        if cert != "-":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
        srv = Server((addr, int(port)), Handler)
        srv.cfg = {"name": name, "ctx": ctx}
        servers.append(srv)
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(ready, "w") as f:
        f.write("ready\n")
    threading.Event().wait()


if __name__ == "__main__":
    main()

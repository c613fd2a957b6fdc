#!/usr/bin/env python3
"""HTTPS server for mxprobe's MTA-STS tests.

    httpsd.py --ready FILE ADDR PORT CERT KEY DOCROOT

Serves DOCROOT (e.g. DOCROOT/.well-known/mta-sts.txt) over TLS with the
given certificate chain; .txt files go out as text/plain.  The policy host
name is chosen by the client through SNI and the Host header; one server
answers for every mta-sts.<domain> of the test.  Runs until killed."""
import functools
import http.server
import ssl
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("httpsd: " + fmt % args + "\n")


def main():
    a = sys.argv[1:]
    if len(a) != 7 or a[0] != "--ready":
        sys.exit(__doc__)
    ready, addr, port, cert, key, root = a[1:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    handler = functools.partial(Handler, directory=root)
    srv = http.server.ThreadingHTTPServer((addr, int(port)), handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(ready, "w") as f:
        f.write("ready\n")
    srv.serve_forever()


if __name__ == "__main__":
    main()

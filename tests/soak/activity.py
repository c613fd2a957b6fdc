#!/usr/bin/env python3
"""Mail activity for the --idle soak test, straight to the private Dovecot
(tests/soak/server.sh env): delivers, flags and expunges at random.

  activity.py populate PREFIX NFOLDERS NMSGS   folders PREFIXA.. with mail
  activity.py run PREFIX NFOLDERS SECONDS SEED one action every 0.2-1.5 s

Survives server restarts (reconnects quietly).  Prints a summary line."""
import imaplib, os, random, ssl, sys, time

def conn():
    ctx = ssl.create_default_context(cafile=os.environ["SOAK_CA"])
    c = imaplib.IMAP4_SSL("localhost", int(os.environ["SOAK_IMAPS_PORT"]),
                          ssl_context=ctx, timeout=20)
    c.login(os.environ["SOAK_USER"], os.environ["SOAK_PASS"])
    return c

def message(rnd, n):
    size = rnd.choice([150, 600, 2500, 9000, 9000, 120000])
    body = "".join(rnd.choice("abcdefgh ijklmnop\n") for _ in range(size))
    return ("From: soak%d@example.test\r\nTo: soak@example.test\r\n"
            "Subject: soak %d\r\nMessage-ID: <soak.%d.%d@example.test>\r\n\r\n%s\r\n"
            % (n, n, n, rnd.randrange(1 << 40), body.replace("\n", "\r\n"))).encode()

def folders(prefix, n):
    return ["%s%c" % (prefix, ord("A") + i) for i in range(n)]

def uids(c, f):
    typ, _ = c.select(f)
    typ, data = c.uid("SEARCH", None, "ALL")
    return data[0].split() if data and data[0] else []

def act(c, rnd, f, counts, n):
    u = uids(c, f)
    r = rnd.random()
    if r < 0.45 or len(u) < 5:
        c.append(f, rnd.choice(["", "(\\Seen)"]), None, message(rnd, n))
        counts["delivered"] += 1
    elif r < 0.8 or len(u) < 20:
        flag = rnd.choice(["\\Seen", "\\Flagged", "\\Answered"])
        c.uid("STORE", rnd.choice(u), rnd.choice(["+FLAGS", "-FLAGS"]), "(%s)" % flag)
        counts["flagged"] += 1
    else:
        x = rnd.choice(u)
        c.uid("STORE", x, "+FLAGS", "(\\Deleted)")
        c.uid("EXPUNGE", x)
        counts["expunged"] += 1

def main():
    cmd, prefix, nf = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rnd = random.Random(int(sys.argv[5]) if cmd == "run" else 1)
    if cmd == "populate":
        c = conn()
        for f in folders(prefix, nf):
            c.create(f)
            for i in range(int(sys.argv[4])):
                c.append(f, "", None, message(rnd, i))
        c.logout()
        return
    end = time.time() + float(sys.argv[4])
    counts = {"delivered": 0, "flagged": 0, "expunged": 0, "reconnects": 0}
    c, n = None, 0
    while time.time() < end:
        try:
            if c is None:
                c = conn()
            n += 1
            act(c, rnd, rnd.choice(folders(prefix, nf)), counts, n)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError):
            c = None
            counts["reconnects"] += 1
            time.sleep(1)
            continue
        time.sleep(rnd.uniform(0.2, 1.5))
    print("activity: %(delivered)d delivered, %(flagged)d flag changes, "
          "%(expunged)d expunged, %(reconnects)d reconnects" % counts)

main()

#!/usr/bin/env python3
"""Helper of the imap-sync integration tests (50-imap-sync*.sh): fills the
bed's Dovecot over IMAPS and compares server folders with Maildir trees.

  populate PREFIX N              folders PREFIX, PREFIX.sub, PREFIX.sub.deep,
                                 PREFIX.Entwürfe, PREFIX.مسودات; N messages
  compare ROOT LAYOUT PREFIX     Maildir == server (content and flags)
  mbsync-compare ROOT MBROOT PREFIX   same messages as mbsync's Maildir++
                                 (X-TUID removed, its skipped messages listed)
  flags FOLDER                   "UID LETTERS" per message
  store FOLDER UID +FLAGS|-FLAGS FLAGLIST
  expunge FOLDER UID
  append FOLDER N [big]          N new messages (big: 1-3 MB each)
  recreate FOLDER                same messages, new UIDVALIDITY and UIDs
  append-file FOLDER FILE        append FILE as it is
  count PREFIX                   messages under PREFIX
  delete PREFIX                  remove PREFIX and its children
"""
import hashlib, imaplib, os, random, re, ssl, sys, glob, base64

def conn():
    ctx = ssl.create_default_context(cafile=os.environ["MF_CA"])
    c = imaplib.IMAP4_SSL("localhost", int(os.environ["MF_IMAPS_PORT"]), ssl_context=ctx)
    c.login(os.environ.get("IT_USER", os.environ["MF_USER"]), os.environ.get("IT_PASS", os.environ["MF_PASS"]))
    return c

def utf7(name):
    out, run = [], []
    def flush():
        if run:
            b = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)

def q(name):
    return '"' + utf7(name).replace("\\", "\\\\").replace('"', '\\"') + '"'

def norm(data):
    data = data.replace(b"\r\n", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    return data

def gen_message(i, rnd):
    size = rnd.choice([200, 800, 3000, 12000])
    body = "".join(rnd.choice("abcdefghij klmnop\n") for _ in range(size))
    msg = ("From: gen%d@example.test\nTo: alice@example.test\nSubject: generated %d\n"
           "Message-ID: <gen%d.%d@example.test>\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n\n%s\n"
           % (i, i, i, rnd.randrange(1 << 30), body))
    if i % 400 == 7:   # a few large attachments
        blob = base64.encodebytes(os.urandom(rnd.choice([1, 2, 3]) * 1000000)).decode()
        msg = ("From: big%d@example.test\nTo: alice@example.test\nSubject: attachment %d\n"
               "Message-ID: <big%d@example.test>\nMIME-Version: 1.0\n"
               "Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nsee attached\n"
               "--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n%s--XX--\n"
               % (i, i, i, blob))
    return msg.encode()

def cmd_populate(prefix, total):
    """Folders PREFIX, PREFIX.sub, PREFIX.sub.deep, PREFIX.Entwürfe,
    PREFIX.مسودات; the real-world corpus + generated messages; some flags."""
    rnd = random.Random(42)
    c = conn()
    folders = [prefix, prefix + ".sub", prefix + ".sub.deep", prefix + ".Entwürfe", prefix + ".مسودات"]
    for f in folders:
        c.create(q(f))
    real = sorted(glob.glob("/usr/lib/python3.11/test/test_email/data/msg_*.txt"))
    msgs = [open(p, "rb").read() for p in real]
    i = 0
    while len(msgs) < total:
        msgs.append(gen_message(i, rnd)); i += 1
    flagsets = ["", "", "(\\Seen)", "(\\Seen \\Flagged)", "(\\Answered \\Seen)", "(\\Draft)", "(\\Deleted \\Seen)"]
    for n, m in enumerate(msgs):
        f = folders[0] if n < len(real) else folders[n % len(folders)]
        fl = flagsets[n % len(flagsets)]
        data = m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        typ, _ = c.append(q(f), fl or None, None, data)
        assert typ == "OK", typ
    c.logout()

def server_view(prefix):
    """{folder: sorted list of (sha256(normalised), flags letters)}"""
    c = conn()
    typ, lst = c.list('""', '"' + utf7(prefix) + '*"')
    view = {}
    for line in lst:
        m = re.match(rb'\((.*?)\) "(.)" (.*)$', line)
        name = m.group(3).decode()
        if name.startswith('"'):
            name = name[1:-1]
        typ, _ = c.select('"' + name + '"', readonly=True)
        typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        items = []
        for part in data:
            if not isinstance(part, tuple):
                continue
            meta, body = part
            fl = re.search(rb"FLAGS \((.*?)\)", meta)
            letters = ""
            if fl:
                for k, v in ((b"\\Draft", "D"), (b"\\Flagged", "F"), (b"\\Answered", "R"), (b"\\Seen", "S"), (b"\\Deleted", "T")):
                    if k in fl.group(1).split():
                        letters += v
            items.append((hashlib.sha256(norm(body)).hexdigest(), letters))
        view[name] = sorted(items)
    c.logout()
    return view

BODIES = {}

def local_view(root, layout, prefix, strip_tuid=False, flags=True, raw_names=False):
    """Same shape, from a Maildir tree (folder names as modified UTF-7)."""
    view = {}
    dirs = []
    for d, subdirs, files in os.walk(root):
        if os.path.basename(d) in ("cur", "new"):
            dirs.append(os.path.dirname(d))
    for d in sorted(set(dirs)):
        rel = os.path.relpath(d, root)
        if layout == "maildir++":
            name = "INBOX" if rel == "." else rel[1:]
        else:
            name = "INBOX" if rel == "." else rel.replace("/", ".")
        if not name.startswith(prefix):
            continue
        items = []
        for sub in ("cur", "new"):
            for fn in os.listdir(os.path.join(d, sub)):
                data = open(os.path.join(d, sub, fn), "rb").read()
                if strip_tuid:
                    data = re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", data, count=1)
                letters = fn.split(":2,")[1] if ":2," in fn else ""
                letters = "".join(ch for ch in letters if ch in "DFRST")
                items.append((hashlib.sha256(norm(data)).hexdigest(), letters if flags else ""))
                BODIES[items[-1][0]] = data
        view[name if raw_names else utf7(name)] = sorted(items)
    return view

def header_ok(data):
    """False for what mbsync skips: no blank line ending a valid header."""
    text = norm(data)
    if b"\n\n" not in text:
        return False
    for line in text.split(b"\n\n", 1)[0].split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        if not re.match(rb"^[!-9;-~]+:", line):
            return False
    return True

def select(c, folder, ro=False):
    typ, _ = c.select(q(folder), readonly=ro)
    assert typ == "OK", (folder, typ)

def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "populate":
        cmd_populate(a[0], int(a[1]))
    elif cmd == "compare":
        s = server_view(a[2]); l = local_view(a[0], a[1], a[2])
        bad = 0
        for f in sorted(set(s) | set(l)):
            if s.get(f) != l.get(f):
                bad += 1
                print("DIFF %s: server %d local %d" % (f, len(s.get(f, [])), len(l.get(f, []))))
                ss, ll = set(s.get(f, [])), set(l.get(f, []))
                for x in sorted(ss - ll)[:3]: print("  only server", x)
                for x in sorted(ll - ss)[:3]: print("  only local", x)
        print("folders %d messages %d" % (len(s), sum(len(v) for v in s.values())))
        sys.exit(1 if bad else 0)
    elif cmd == "mbsync-compare":
        ours = local_view(a[0], "maildir++", a[2], flags=False)
        theirs = local_view(a[1], "maildir++", a[2], strip_tuid=True, flags=False, raw_names=True)
        bad = skipped = 0
        for f in sorted(set(ours) | set(theirs)):
            o, t = ours.get(f, []), theirs.get(f, [])
            only_t = set(t) - set(o)
            only_o = [x for x in o if x not in set(t)]
            for x in only_o:
                if header_ok(BODIES[x[0]]):
                    bad += 1
                    print("only imap-sync has", f, x)
                else:
                    skipped += 1
            for x in only_t:
                bad += 1
                print("only mbsync has", f, x)
        print("folders %d, messages %d, mbsync skipped %d" % (len(ours), sum(len(v) for v in ours.values()), skipped))
        sys.exit(1 if bad or skipped < 1 else 0)
    elif cmd == "flags":
        c = conn(); select(c, a[0], True)
        typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
        for line in data:
            if line:
                m = re.search(rb"UID (\d+) FLAGS \((.*?)\)", line) or re.search(rb"FLAGS \((.*?)\) UID (\d+)", line)
                print(line.decode())
        c.logout()
    elif cmd == "store":
        c = conn(); select(c, a[0])
        typ, _ = c.uid("STORE", a[1], a[2], a[3]); assert typ == "OK"
        c.logout()
    elif cmd == "expunge":
        c = conn(); select(c, a[0])
        typ, _ = c.uid("STORE", a[1], "+FLAGS", "(\\Deleted)"); assert typ == "OK"
        typ, _ = c.uid("EXPUNGE", a[1]); assert typ == "OK"
        c.logout()
    elif cmd == "append":
        c = conn(); rnd = random.Random()
        for i in range(int(a[1])):
            # "big": messages with an attachment of 1-3 MB
            n = rnd.randrange(10**6) * 400 + 7 if len(a) > 2 else rnd.randrange(10**6)
            typ, _ = c.append(q(a[0]), None, None, gen_message(n, rnd).replace(b"\n", b"\r\n"))
            assert typ == "OK"
        c.logout()
    elif cmd == "recreate":
        # delete FOLDER and append its messages again, in reverse order:
        # a new UIDVALIDITY and different UIDs for the same messages
        c = conn(); select(c, a[0], True)
        typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        msgs = []
        for part in data:
            if isinstance(part, tuple):
                fl = re.search(rb"FLAGS \((.*?)\)", part[0]).group(1).decode()
                fl = " ".join(x for x in fl.split() if x != "\\Recent")
                msgs.append((fl, part[1]))
        c.close()
        assert c.delete(q(a[0]))[0] == "OK"
        assert c.create(q(a[0]))[0] == "OK"
        for fl, body in reversed(msgs):
            assert c.append(q(a[0]), "(" + fl + ")" if fl else None, None, body)[0] == "OK"
        c.logout()
        print(len(msgs))
    elif cmd == "append-file":
        c = conn()
        data = open(a[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        assert c.append(q(a[0]), None, None, data)[0] == "OK"
        c.logout()
    elif cmd == "count":
        print(sum(len(v) for v in server_view(a[0]).values()))
    elif cmd == "delete":
        c = conn()
        typ, lst = c.list('""', '"' + utf7(a[0]) + '*"')
        names = []
        for line in lst or []:
            if line:
                m = re.match(rb'\((.*?)\) "(.)" (.*)$', line)
                names.append(m.group(3).decode().strip('"'))
        for n in sorted(names, key=len, reverse=True):
            c.delete('"' + n + '"')
        c.logout()
    else:
        sys.exit("unknown command " + cmd)

if __name__ == "__main__":
    main()

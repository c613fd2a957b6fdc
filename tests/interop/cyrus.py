#!/usr/bin/env python3
"""What the interop tests ask Cyrus directly, over IMAPS (MF_CYRUS_IMAPS_PORT,
MF_CA) as MF_USER/MF_PASS unless IT_USER/IT_PASS say otherwise:

  count FOLDER TOKEN       messages in FOLDER whose text holds TOKEN
  total FOLDER             messages in FOLDER
  empty FOLDER             delete every message of FOLDER
  keywords PREFIX          "FOLDER<TAB>SHA256<TAB>FLAGS" per message under
                           PREFIX (flags and keywords sorted, \\Recent left out)
  store FOLDER N +FLAGS|-FLAGS LIST   STORE on the N-th message (1-based)
  caps [starttls]          the capabilities after TLS, one per line
  populate PREFIX N        as 50-imap-sync-helper.py's populate, but the
                           corpus messages Cyrus refuses ("Message contains
                           invalid header": msg_19, msg_35) are left out
  mbsyncrc MBROOT PREFIX   an mbsync configuration pulling PREFIX* into
                           MBROOT (Maildir++), on stdout
  mbsync-compare ROOT MBROOT PREFIX   imap-sync's Maildir++ and mbsync's
                           hold the same messages (X-TUID removed) with the
                           same flags, P included

Folder names are UTF-8 here and modified UTF-7 on the wire (RFC 3501 §5.1.3).
"""
import hashlib, imaplib, os, re, ssl, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
helper = __import__("50-imap-sync-helper")


def ctx():
    return ssl.create_default_context(cafile=os.environ["MF_CA"])


def conn():
    c = imaplib.IMAP4_SSL("localhost", int(os.environ["MF_CYRUS_IMAPS_PORT"]), ssl_context=ctx())
    c.login(os.environ.get("IT_USER", os.environ["MF_USER"]),
            os.environ.get("IT_PASS", os.environ["MF_PASS"]))
    return c


def select(c, folder, ro=True, wire=False):
    """SELECT a UTF-8 name, or with wire a name as LIST gave it."""
    typ, data = c.select('"' + folder + '"' if wire else helper.q(folder), readonly=ro)
    assert typ == "OK", (folder, data)


def messages(c, folder, wire=False):
    """[(uid, flags list, body)] of FOLDER."""
    select(c, folder, wire=wire)
    typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    out = []
    for part in data:
        if not isinstance(part, tuple):
            continue
        uid = int(re.search(rb"UID (\d+)", part[0]).group(1))
        fl = re.search(rb"FLAGS \((.*?)\)", part[0]).group(1).decode().split()
        out.append((uid, sorted(f for f in fl if f != "\\Recent"), part[1]))
    return sorted(out)


def folders(c, prefix):
    typ, lst = c.list('""', '"' + helper.utf7(prefix) + '*"')
    names = []
    for line in lst or []:
        if line:
            m = re.match(rb'\((.*?)\) "(.)" (.*)$', line)
            names.append(m.group(3).decode().strip('"'))
    return sorted(names)


def populate(c, prefix, total):
    rnd = helper.random.Random(42)
    folders = [prefix, prefix + ".sub", prefix + ".sub.deep", prefix + ".Entwürfe", prefix + ".مسودات"]
    for f in folders:
        typ, data = c.create(helper.q(f))
        assert typ == "OK", (f, data)
    real = sorted(helper.glob.glob("/usr/lib/python3.11/test/test_email/data/msg_*.txt"))
    msgs = [(True, open(p, "rb").read()) for p in real]
    i = 0
    while len(msgs) < total:
        msgs.append((False, helper.gen_message(i, rnd)))
        i += 1
    flagsets = ["", "", "(\\Seen)", "(\\Seen \\Flagged)", "(\\Answered \\Seen)", "(\\Draft)", "(\\Deleted \\Seen)"]
    refused = 0
    for n, (corpus, m) in enumerate(msgs):
        f = folders[0] if corpus else folders[n % len(folders)]
        data = m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        typ, resp = c.append(helper.q(f), flagsets[n % len(flagsets)] or None, None, data)
        if typ != "OK" and corpus and b"invalid header" in resp[0]:
            refused += 1
            continue
        assert typ == "OK", (n, resp)
    print("%d messages, %d corpus messages refused by Cyrus" % (len(msgs) - refused, refused))


def maildir_flags(root, prefix, tuid):
    """{(folder, sha256): flag letters DFPRST} of a Maildir++ tree."""
    out = {}
    for d, _, files in os.walk(root):
        if os.path.basename(d) not in ("cur", "new"):
            continue
        rel = os.path.relpath(os.path.dirname(d), root)
        if not rel.startswith("." + prefix):
            continue
        for n in files:
            data = open(os.path.join(d, n), "rb").read()
            if tuid:
                data = re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", data, count=1)
            letters = n.split(":2,")[1] if ":2," in n else ""
            key = (rel, hashlib.sha256(helper.norm(data)).hexdigest())
            out[key] = "".join(sorted(ch for ch in letters if ch in "DFPRST"))
    return out


MBSYNCRC = """IMAPAccount t
Host localhost
Port %(port)s
User %(user)s
Pass %(pw)s
SSLType IMAPS
CertificateFile %(ca)s

IMAPStore t-remote
Account t

MaildirStore t-local
Inbox %(root)s
SubFolders Maildir++

Channel t
Far :t-remote:
Near :t-local:
Patterns %(prefix)s*
Create Near
Sync Pull
SyncState *
"""


def mbsync_compare(root, mbroot, prefix):
    ours = maildir_flags(root, prefix, False)
    # mbsync names folders in modified UTF-7, imap-sync in UTF-8 by default
    theirs = {}
    for (f, sha), fl in maildir_flags(mbroot, helper.utf7(prefix), True).items():
        theirs[(f, sha)] = fl
    ours = {("." + helper.utf7(f[1:]), sha): fl for (f, sha), fl in ours.items()}
    bad = 0
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            bad += 1
            if bad <= 5:
                print("differs", key[0], key[1][:12], "imap-sync", ours.get(key), "mbsync", theirs.get(key))
    print("%d folders, %d messages, %d differ" % (len({f for f, _ in ours}), len(ours), bad))
    return 1 if bad or not ours else 0


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "caps":
        if a and a[0] == "starttls":
            c = imaplib.IMAP4("localhost", int(os.environ["MF_CYRUS_IMAP_PORT"]))
            c.starttls(ctx())
        else:
            c = imaplib.IMAP4_SSL("localhost", int(os.environ["MF_CYRUS_IMAPS_PORT"]), ssl_context=ctx())
        typ, data = c.capability()
        print("\n".join(data[0].decode().split()))
        c.logout()
        return
    if cmd == "mbsync-compare":
        sys.exit(mbsync_compare(*a))
    if cmd == "mbsyncrc":
        print(MBSYNCRC % dict(port=os.environ["MF_CYRUS_IMAPS_PORT"], user=os.environ["MF_USER"],
                              pw=os.environ["MF_PASS"], ca=os.environ["MF_CA"], root=a[0], prefix=a[1]))
        return
    c = conn()
    if cmd == "populate":
        populate(c, a[0], int(a[1]))
    elif cmd == "count":
        print(sum(1 for _, _, b in messages(c, a[0]) if a[1].encode() in b))
    elif cmd == "total":
        print(len(messages(c, a[0])))
    elif cmd == "empty":
        select(c, a[0], ro=False)
        c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
        c.expunge()
    elif cmd == "keywords":
        for f in folders(c, a[0]):
            for uid, fl, body in messages(c, f, wire=True):
                print("%s\t%s\t%s" % (f, hashlib.sha256(helper.norm(body)).hexdigest(), " ".join(fl)))
    elif cmd == "store":
        msgs = messages(c, a[0])
        select(c, a[0], ro=False)
        typ, data = c.uid("STORE", str(msgs[int(a[1]) - 1][0]), a[2], a[3])
        assert typ == "OK", data
    else:
        sys.exit("unknown command " + cmd)
    c.logout()


if __name__ == "__main__":
    main()

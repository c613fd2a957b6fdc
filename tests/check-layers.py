#!/usr/bin/python3
"""check-layers.py - lib/'s dependencies point one way (make check's
"layers" layer).

Reads the #include "..." lines of lib/*.c and lib/*.h, makes a graph of
modules (a module is a file name without .c/.h; a private header X_int.h
belongs to module X) and runs three checks:

  cycles     no circle among modules (a -> b -> ... -> a);
  upward     no module includes one of a higher layer (LAYERS below);
  protocol   no IMAP, POP3 or SMTP command spelled as a C string literal
             outside the module that owns the protocol (lib/ and cmd/);
  calls      no circle among the object files of lib/ (who calls whom,
             from nm(1) on $MF_BUILD/lib/*.o or build/lib/*.o): a helper
             in a top file that its own parts call is a circle the include
             graph cannot see.  Skipped (and said so) before a build.
  store      of the imap-sync engine's objects only imapsync_store.o
             calls into imap.o: the other parts work on the store
             (STORE_SPEAKERS below; from the same nm(1) data);
  length     no function in lib/ or cmd/ over 80 lines, and
  contract   every lib/*.h says what its module must not do
             (both in tests/check-shape.py).

The layers, lowest first (same-layer includes are allowed, cycles are not):
  1 base        err buf config cred durable esc json base64 tlsmode
                maillog crypto idn
  2 transport   transport sock tls
  3 line I/O    lineio transcript tlsport certfmt session
  4 building    sasl mime mimepart maildir dkim smime pgp utf7 folders
    blocks      aliases jsonread queue popstate syncstate mdwatch autoconfig
                kwtable smimeenc settings
  5 protocols   smtp pop3 imap dns dane mtasts imapidle https
  6 engines     imapsync (+ its parts imapsync_*) popfetch sendjob
                jsonl_send mx mxfind shard diag diagrules seal imapflags
                cfgimport (+ cfgimport_*) discover
A part X_Y.c of a module X in the table is on X's layer.
  7 tool        cli diagfmt mxfmt progress discoverfmt
    support
A module missing from the table is reported (add it) but only checked for
cycles and command strings.  Usage: tests/check-layers.py [TOP]
Prints one line per finding, then "layers: N passed, N failed".
"""
import glob
import importlib.util
import os
import re
import subprocess
import sys

LAYERS = {
    # 1 base: depend on nothing above
    "err": 1, "buf": 1, "config": 1, "cred": 1, "durable": 1, "esc": 1,
    "json": 1, "base64": 1, "tlsmode": 1, "maillog": 1, "crypto": 1,
    "idn": 1, "lazy": 1,
    # 2 transport
    "transport": 2, "sock": 2, "tls": 2,
    # 3 line I/O
    "lineio": 3, "transcript": 3, "tlsport": 3, "certfmt": 3, "session": 3,
    # 4 building blocks: SASL, MIME, Maildir and the crash-safe state files
    "sasl": 4, "mime": 4, "mimepart": 4, "maildir": 4, "dkim": 4,
    "smime": 4, "pgp": 4, "utf7": 4, "folders": 4, "aliases": 4,
    "jsonread": 4, "queue": 4, "popstate": 4, "syncstate": 4, "mdwatch": 4,
    "autoconfig": 4, "kwtable": 4, "smimeenc": 4, "settings": 4,
    # 5 protocols
    "smtp": 5, "pop3": 5, "imap": 5, "dns": 5, "dane": 5, "mtasts": 5,
    "imapidle": 5, "https": 5,
    # 6 engines
    "imapsync": 6, "popfetch": 6, "sendjob": 6, "jsonl_send": 6, "mx": 6,
    "mxfind": 6, "shard": 6, "diag": 6, "diagrules": 6, "seal": 6,
    "imapflags": 6, "cfgimport": 6, "discover": 6,
    # 7 tool support: what the tools share (options, output)
    "cli": 7, "diagfmt": 7, "mxfmt": 7, "progress": 7, "discoverfmt": 7,
}

# Upward includes that are known and not fixed yet.  Each entry names what
# must change for it to go; remove the entry with the fix.
UPWARD_ALLOWED = {
    # Empty: the last one (sendjob -> cli) went when struct mf_settings and
    # what engines read from it moved down into settings.c; keep it empty.
}

# Protocol commands as they start a command line, and who may spell them.
# A command is its word followed by an argument (a space) or nothing; a
# word that is also a response or capability name (EXPUNGE, IDLE,
# CAPABILITY) is left out, and so are messages that merely begin with a
# command word (" refused", " lists").
COMMANDS = [
    (("imap",), r"UID (FETCH|STORE|EXPUNGE|SEARCH|COPY|MOVE) "),
    (("imap",), r"(SELECT|EXAMINE|LSUB|APPEND|STATUS|CREATE|SUBSCRIBE"
                r"|AUTHENTICATE|ENABLE) %"),
    (("imap",), r'LIST \\"'),
    (("imap",), r"LOGOUT$"),
    (("imap",), r"NOTIFY SET "),
    (("pop3",), r"LIST %"),  # a bare "LIST" is also IMAP's response name
    (("pop3",), r"(UIDL|RETR|DELE|TOP|USER|PASS|APOP)( %|$)"),
    (("pop3",), r"(STAT|CAPA|STLS)$"),
    (("smtp",), r"(MAIL FROM:|RCPT TO:|BDAT %)"),
    (("smtp",), r"(EHLO|HELO|LHLO)( %|$)"),
    (("smtp",), r"(DATA|RSET)$"),
]

# Files that spell another module's commands.  Empty: the typed calls of
# issue 16 (uid_fetch, uid_store, ... in imap.c; pipelined uidl/list/retr/
# dele in pop3.c; mail/rcpt/rset and the envelope formatters in smtp.c)
# took imapsync_*, popfetch, diag and sendjob off this list; the check
# fails on any file not named here, so keep it empty.
PROTOCOL_ALLOWED = {
}

# Call circles that are known and not fixed yet (sets of object names).
# Empty: the last one (cfgimport <-> cfgimport_mbsync) went when the shared
# helpers moved below both into cfgimport_common.c; keep it empty.
CALL_ALLOWED = []

TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                   re.S)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(fname):
    name = os.path.basename(fname).rsplit(".", 1)[0]
    return name[:-4] if name.endswith("_int") else name


def layer_of(mod):
    if mod in LAYERS:
        return LAYERS[mod]
    if "_" in mod:                      # a part: imapsync_fetch ...
        return LAYERS.get(mod.split("_", 1)[0])
    return None


def graph(top):
    g, where = {}, {}
    libdir = os.path.join(top, "lib")
    for f in sorted(os.listdir(libdir)):
        if not f.endswith((".c", ".h")):
            continue
        m = module_of(f)
        g.setdefault(m, set())
        with open(os.path.join(libdir, f), encoding="utf-8",
                  errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            t = module_of(inc)
            if t != m and os.path.exists(os.path.join(libdir, inc)):
                g[m].add(t)
                where.setdefault((m, t), "lib/%s" % f)
    return g, where


def cycles(g):
    """Every strongly connected component with more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def command_strings(path):
    """(line, literal) for each string literal that starts a command."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    hits = []
    for m in TOKEN.finditer(text):
        tok = m.group(0)
        if not tok.startswith('"'):
            continue
        body = tok[1:-1]
        for owners, pat in COMMANDS:
            if re.match(pat, body):
                line = text.count("\n", 0, m.start()) + 1
                hits.append((owners, line, tok))
                break
    return hits


def call_graph(objdir):
    """Module -> modules whose global symbols it uses, from nm(1)."""
    defs, uses = {}, {}
    for o in sorted(glob.glob(os.path.join(objdir, "*.o"))):
        m = os.path.basename(o)[:-2]
        out = subprocess.run(["nm", o], capture_output=True, text=True,
                             check=True).stdout
        uses[m] = set()
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBRC":
                defs[f[2]] = m
            elif len(f) == 2 and f[0] == "U":
                uses[m].add(f[1])
    return {m: {defs[u] for u in us if u in defs and defs[u] != m}
            for m, us in uses.items()}


# The parts of the imap-sync engine that may call imap.o's functions.
STORE_SPEAKERS = {"imapsync_store"}
# Known exceptions, reported on every run until they are gone.
STORE_ALLOWED = {}


def store_check(cg):
    """Parts of imapsync that call imap.o without being the store."""
    bad = 0
    for m in sorted(cg):
        if not m.startswith("imapsync") or m in STORE_SPEAKERS or \
                "imap" not in cg[m]:
            continue
        if m in STORE_ALLOWED:
            print("layers: known: %s.o calls imap.o directly (%s), allowed "
                  "for now" % (m, STORE_ALLOWED[m]))
            continue
        print("layers: FAIL %s.o calls imap.o: the engine's parts go "
              "through imapsync_store.c" % m)
        bad += 1
    return bad


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    g, where = graph(top)
    failed = passed = 0

    # 1. cycles
    cyc = cycles(g)
    for comp in cyc:
        print("layers: FAIL cycle among %s" % " ".join(comp))
    failed, passed = (failed + 1, passed) if cyc else (failed, passed + 1)

    # 2. upward includes
    bad = 0
    for m in sorted(g):
        if layer_of(m) is None:
            print("layers: note: module %s is not in the layer table of "
                  "tests/check-layers.py (add it)" % m)
            continue
        for t in sorted(g[m]):
            lt = layer_of(t)
            if lt is None or lt <= layer_of(m):
                continue
            if (m, t) in UPWARD_ALLOWED:
                print("layers: known upward include %s -> %s (%s), "
                      "allowed for now" % (m, t, where[(m, t)]))
                continue
            print("layers: FAIL upward include: %s includes %s.h "
                  "(layer %d above %d)" % (where[(m, t)], t, lt,
                                             layer_of(m)))
            bad += 1
    failed, passed = (failed + 1, passed) if bad else (failed, passed + 1)

    # 3. protocol command strings outside their module
    bad = 0
    seen = set()
    for d in ("lib", "cmd"):
        for f in sorted(os.listdir(os.path.join(top, d))):
            if not f.endswith((".c", ".h")):
                continue
            rel = "%s/%s" % (d, f)
            mod = module_of(f) if d == "lib" else None
            for owners, line, lit in command_strings(os.path.join(top, rel)):
                if mod in owners:
                    continue
                if rel in PROTOCOL_ALLOWED:
                    seen.add(rel)
                    continue
                print("layers: FAIL %s:%d: command %s outside %s" %
                      (rel, line, lit,
                       " / ".join("lib/%s.c" % o for o in owners)))
                bad += 1
    for rel in sorted(set(PROTOCOL_ALLOWED) - seen):
        print("layers: note: %s no longer spells another module's commands;"
              " remove it from PROTOCOL_ALLOWED" % rel)
    failed, passed = (failed + 1, passed) if bad else (failed, passed + 1)

    # 4. call circles among the objects of the last build
    objdir = os.path.join(os.environ.get("MF_BUILD",
                                         os.path.join(top, "build")), "lib")
    if glob.glob(os.path.join(objdir, "*.o")):
        cyc = []
        for comp in cycles(call_graph(objdir)):
            if set(comp) in CALL_ALLOWED:
                print("layers: known call circle among %s.o, allowed for "
                      "now" % ".o ".join(comp))
                continue
            print("layers: FAIL call circle among %s.o" % ".o ".join(comp))
            cyc.append(comp)
        failed, passed = (failed + 1, passed) if cyc else (failed, passed + 1)
        bad = store_check(call_graph(objdir))
        failed, passed = (failed + 1, passed) if bad else (failed, passed + 1)
    else:
        print("layers: note: no objects in %s; call check not run" % objdir)

    # 5., 6. function length and header contracts (tests/check-shape.py)
    spec = importlib.util.spec_from_file_location(
        "check_shape", os.path.join(os.path.dirname(os.path.abspath(
            __file__)), "check-shape.py"))
    shape = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shape)
    for check in (shape.check_length, shape.check_contracts):
        bad = check(top, lambda line: print("layers: " + line))
        failed, passed = (failed + 1, passed) if bad else (failed, passed + 1)

    print("layers: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

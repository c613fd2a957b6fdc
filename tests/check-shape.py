#!/usr/bin/python3
"""check-shape.py - two rules of issue 16 (STYLE.md) that a reader cannot
check at a glance, run by check-layers.py (make check's layers layer):

  length     no function in lib/ or cmd/ is longer than 80 lines;
  contract   every lib/*.h opens with a comment that says what the module
             owns and what it must not do (a "Must not:" sentence).

A function's length is the number of lines from its opening brace to its
closing brace, both included.  A function is a top-level brace block whose
head ends in ")" (style(9) heads over several lines and one-line heads
alike); struct, enum and initialiser blocks are not functions.  Comments,
strings, character constants and preprocessor lines are skipped.

Functions known to be too long are listed in LENGTH_ALLOWED with the
length they had when listed: the check fails on any other function over
the limit, and on a listed one that grew, so the list can only shrink.
A listed function that is no longer too long is reported (remove it).

Standalone: tests/check-shape.py [TOP] prints one line per finding and
"shape: N passed, N failed".
"""
import os
import re
import sys

LIMIT = 80

# "file:function": its length when listed (empty: nothing is too long).  Split the function, then
# remove its line (or lower the number when it shrank but is still long).
# These live in files other engineers were changing when the check came
# (issue 16); split them when those files are quiet.
LENGTH_ALLOWED = {
}

TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"'
                   r"|'(?:\\.|[^'\\\n])*'|^[ \t]*#(?:[^\n]*\\\n)*[^\n]*"
                   r"|[{}()=;]|[A-Za-z_][A-Za-z0-9_]*", re.S | re.M)


def functions(path):
    """(name, first line, length) of each function defined in path."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    out = []
    depth = 0
    last = None          # the last token at depth 0
    ident = None         # the name before the head's first "("
    prev = None
    paren = 0
    start = None
    for m in TOKEN.finditer(text):
        tok = m.group(0)
        if tok.startswith(("//", "/*", '"', "'")) or \
                tok.lstrip().startswith("#"):
            continue
        if depth > 0:
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
            if depth == 0:
                if start is not None:
                    end = text.count("\n", 0, m.start()) + 1
                    out.append((start[0], start[1], end - start[1] + 1))
                start = ident = None
                last = tok
            continue
        if tok == "(":
            if paren == 0 and ident is None:
                ident = prev
            paren += 1
        elif tok == ")":
            paren -= 1
        elif tok == "{" and paren == 0:
            depth = 1
            line = text.count("\n", 0, m.start()) + 1
            start = (ident, line) if last == ")" and ident else None
            continue
        elif tok in ";=" and paren == 0:
            ident = None
        prev = tok
        last = tok
    return out


def long_functions(top):
    """{"dir/file.c:name": (line, length)} of every function over LIMIT."""
    found = {}
    for d in ("lib", "cmd"):
        for f in sorted(os.listdir(os.path.join(top, d))):
            if not f.endswith(".c"):
                continue
            rel = "%s/%s" % (d, f)
            for name, line, n in functions(os.path.join(top, rel)):
                if n > LIMIT:
                    found["%s:%s" % (rel, name)] = (line, n)
    return found


def check_length(top, say=print):
    """Print the findings; return the number of failures."""
    found = long_functions(top)
    bad = 0
    for key in sorted(found):
        line, n = found[key]
        rel, name = key.split(":")
        if key in LENGTH_ALLOWED and n <= LENGTH_ALLOWED[key]:
            say("length: known long function %s:%d %s() is %d lines, "
                "allowed for now" % (rel, line, name, n))
            continue
        if key in LENGTH_ALLOWED:
            say("length: FAIL %s:%d %s() grew to %d lines (listed at %d; "
                "limit %d)" % (rel, line, name, n, LENGTH_ALLOWED[key],
                               LIMIT))
        else:
            say("length: FAIL %s:%d %s() is %d lines (limit %d): split it"
                % (rel, line, name, n, LIMIT))
        bad += 1
    for key in sorted(set(LENGTH_ALLOWED) - set(found)):
        say("length: note: %s() is no longer over %d lines; remove it from "
            "LENGTH_ALLOWED in tests/check-shape.py" % (key, LIMIT))
    return bad


def check_contracts(top, say=print):
    """Headers whose opening comment has no "must not"; their number."""
    bad = 0
    libdir = os.path.join(top, "lib")
    for f in sorted(os.listdir(libdir)):
        if not f.endswith(".h"):
            continue
        with open(os.path.join(libdir, f), encoding="utf-8",
                  errors="replace") as fh:
            text = fh.read()
        m = re.match(r"\s*/\*(.*?)\*/", text, re.S)
        if m is None:
            say("contract: FAIL lib/%s does not open with a comment saying "
                "what the module owns and must not do" % f)
            bad += 1
        elif not re.search(r"must\s+not", m.group(1), re.I):
            say("contract: FAIL lib/%s: its opening comment does not say "
                "what the module must not do (add a \"Must not:\" "
                "sentence)" % f)
            bad += 1
    return bad


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    failed = sum(1 for n in (check_length(top), check_contracts(top)) if n)
    print("shape: %d passed, %d failed" % (2 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

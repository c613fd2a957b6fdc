#!/usr/bin/env python3
"""jget.py FILE TYPE DOMAIN PATH: print values from mxprobe --json output.

Every line of FILE must be a JSON object (else exit 1).  Records with
"type" TYPE and "domain" DOMAIN are selected; PATH is dot-separated keys,
"key[]" flattens a list: "findings[].code", "mx[].name", "dane.status".
Strings print as is, other values as JSON, one per line."""
import json
import signal
import sys


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, typ, dom, keys = sys.argv[1:]
    for n, line in enumerate(open(path), 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            sys.exit("%s:%d: not JSON: %s" % (path, n, e))
        if rec.get("type") != typ or rec.get("domain") != dom:
            continue
        vals = [rec]
        for k in keys.split("."):
            nxt = []
            for v in vals:
                if not isinstance(v, dict):
                    continue
                if k.endswith("[]"):
                    nxt.extend(v.get(k[:-2]) or [])
                else:
                    nxt.append(v.get(k))
            vals = nxt
        for v in vals:
            print(v if isinstance(v, str) else json.dumps(v))


if __name__ == "__main__":
    main()

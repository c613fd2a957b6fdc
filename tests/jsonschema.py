#!/usr/bin/env python3
"""jsonschema.py SCHEMA FILE TOOL: check a mailflow tool's --json output.
jsonschema.py SCHEMA FILE --def NAME: every line of FILE is valid against
$defs/NAME (input shapes, such as mailsend_jsonl_input); no summary asked.

Every line of FILE must be one JSON object valid against SCHEMA (the
subset of JSON Schema 2020-12 that man/mailflow.schema.json uses: $ref to
#/$defs, oneOf, allOf, type, const, enum, required, properties,
additionalProperties, items, pattern, minimum, maximum), and the last line
must be TOOL's summary.  Python standard library only.  Exit 0 when valid,
1 with the reasons otherwise."""
import json
import re
import sys

TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool,
    "null": type(None),
}


def is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])


def resolve(root, ref):
    if not ref.startswith("#/"):
        raise ValueError("only local $ref: " + ref)
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors(root, s, v, path):
    """The list of reasons v does not match schema s (empty: valid)."""
    out = []
    if "$ref" in s:
        out += errors(root, resolve(root, s["$ref"]), v, path)
    for sub in s.get("allOf", []):
        out += errors(root, sub, v, path)
    if "oneOf" in s:
        res = [errors(root, sub, v, path) for sub in s["oneOf"]]
        ok = sum(1 for r in res if not r)
        if ok != 1:
            best = min(res, key=len) if ok == 0 else []
            out.append("%s: matches %d of oneOf, want 1%s" % (
                path, ok, ("; closest: " + "; ".join(best[:3])) if best else ""))
    if "type" in s and not is_type(v, s["type"]):
        return out + ["%s: %r is not %s" % (path, v, s["type"])]
    if "const" in s and v != s["const"]:
        out.append("%s: %r is not %r" % (path, v, s["const"]))
    if "enum" in s and v not in s["enum"]:
        out.append("%s: %r not in %r" % (path, v, s["enum"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            out.append("%s: %r < %r" % (path, v, s["minimum"]))
        if "maximum" in s and v > s["maximum"]:
            out.append("%s: %r > %r" % (path, v, s["maximum"]))
    if isinstance(v, str) and "pattern" in s and not re.search(s["pattern"], v):
        out.append("%s: %r does not match %s" % (path, v, s["pattern"]))
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                out.append("%s: missing %s" % (path, k))
        props = s.get("properties", {})
        for k, sub in props.items():
            if k in v:
                out += errors(root, sub, v[k], path + "." + k)
        extra = s.get("additionalProperties", True)
        for k in v:
            if k in props:
                continue
            if extra is False:
                out.append("%s: unexpected key %s" % (path, k))
            elif isinstance(extra, dict):
                out += errors(root, extra, v[k], path + "." + k)
    if isinstance(v, list) and "items" in s:
        for i, item in enumerate(v):
            out += errors(root, s["items"], item, "%s[%d]" % (path, i))
    return out


def check(schema, sub, path, tool):
    """Every line of path against sub; with tool, the last line must be
    tool's summary and no summary may come earlier."""
    lines = [l for l in open(path, encoding="utf-8").read().split("\n") if l]
    bad = [] if lines else ["no output"]
    for n, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            bad.append("line %d: not JSON: %s" % (n, e))
            continue
        bad += ["line %d: %s" % (n, r) for r in errors(schema, sub, rec, "$")]
        if tool is None:
            continue
        if n == len(lines) and (not isinstance(rec, dict) or
                                rec.get("type") != "summary" or
                                rec.get("tool") != tool):
            bad.append("line %d: the last line is not %s's summary" % (n, tool))
        if n < len(lines) and isinstance(rec, dict) and rec.get("type") == "summary":
            bad.append("line %d: a summary before the last line" % n)
    for b in bad:
        print("schema: " + b)
    if not bad:
        print("schema ok: %d line(s), %s" % (len(lines), tool or "lines"))
    return 1 if bad else 0


def main():
    if len(sys.argv) == 5 and sys.argv[3] == "--def":
        schema = json.load(open(sys.argv[1]))
        sys.exit(check(schema, schema["$defs"][sys.argv[4]], sys.argv[2], None))
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    schema = json.load(open(sys.argv[1]))
    sys.exit(check(schema, schema, sys.argv[2], sys.argv[3]))


if __name__ == "__main__":
    main()

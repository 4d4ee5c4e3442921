"""A small JSON Schema validator, used when python3-jsonschema is missing.

It implements exactly the keywords formats/report.schema.json uses -- type
(a name or a list of names, including "null"), required, properties, items
(one schema), additionalProperties (true/false or a schema), enum, const,
minimum -- with JSON Schema semantics (an integer-valued float is an
"integer"; true/false are never numbers).  Annotations ($schema, $id, title,
description, $comment) are ignored.  check_schema() rejects any other
keyword, so the schema cannot silently start using one this validator
would ignore.

    python3 schema_check.py SCHEMA.json INSTANCE.json   -> exit 0/1, errors on stdout
"""

import json
import sys

ANNOTATIONS = {"$schema", "$id", "title", "description", "$comment"}
KEYWORDS = {"type", "required", "properties", "items", "additionalProperties",
            "enum", "const", "minimum"}
TYPES = {"null", "boolean", "object", "array", "number", "integer", "string"}


class SchemaError(Exception):
    pass


def check_schema(schema, where="#"):
    """Raise SchemaError if `schema` uses anything this validator lacks."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaError("%s: a schema must be an object or a boolean" % where)
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise SchemaError("%s: unsupported keyword(s) %s" % (where, ", ".join(sorted(unknown))))
    if "type" in schema:
        t = schema["type"]
        names = t if isinstance(t, list) else [t]
        if not names or any(n not in TYPES for n in names):
            raise SchemaError("%s/type: bad type %r" % (where, t))
    if "required" in schema:
        r = schema["required"]
        if not isinstance(r, list) or not all(isinstance(x, str) for x in r):
            raise SchemaError("%s/required: must be a list of strings" % where)
    if "properties" in schema:
        if not isinstance(schema["properties"], dict):
            raise SchemaError("%s/properties: must be an object" % where)
        for k, sub in schema["properties"].items():
            check_schema(sub, "%s/properties/%s" % (where, k))
    for k in ("items", "additionalProperties"):
        if k in schema:
            check_schema(schema[k], "%s/%s" % (where, k))
    if "enum" in schema and not isinstance(schema["enum"], list):
        raise SchemaError("%s/enum: must be a list" % where)
    if "minimum" in schema and not _is_number(schema["minimum"]):
        raise SchemaError("%s/minimum: must be a number" % where)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _has_type(v, name):
    if name == "null":
        return v is None
    if name == "boolean":
        return isinstance(v, bool)
    if name == "object":
        return isinstance(v, dict)
    if name == "array":
        return isinstance(v, list)
    if name == "string":
        return isinstance(v, str)
    if name == "number":
        return _is_number(v)
    if name == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or (
            isinstance(v, float) and v.is_integer())
    return False


def _json_equal(a, b):
    """Equality as JSON means it: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _path(parts):
    return "/".join(str(p) for p in parts) or "(root)"


def _validate(v, schema, path, errors):
    if schema is True:
        return
    if schema is False:
        errors.append("%s: not allowed here" % _path(path))
        return
    if "type" in schema:
        t = schema["type"]
        names = t if isinstance(t, list) else [t]
        if not any(_has_type(v, n) for n in names):
            errors.append("%s: %s is not of type %s" % (_path(path), _short(v), " or ".join(names)))
            return
    if "const" in schema and not _json_equal(v, schema["const"]):
        errors.append("%s: %s is not %s" % (_path(path), _short(v), _short(schema["const"])))
    if "enum" in schema and not any(_json_equal(v, e) for e in schema["enum"]):
        errors.append("%s: %s is not one of %s" % (_path(path), _short(v), _short(schema["enum"])))
    if "minimum" in schema and _is_number(v) and v < schema["minimum"]:
        errors.append("%s: %s is less than the minimum of %s" % (_path(path), v, schema["minimum"]))
    if isinstance(v, dict):
        for k in schema.get("required", ()):
            if k not in v:
                errors.append("%s: %r is a required property" % (_path(path), k))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, sub in v.items():
            if k in props:
                _validate(sub, props[k], path + [k], errors)
            else:
                _validate(sub, extra, path + [k], errors)
    if isinstance(v, list) and "items" in schema:
        for i, item in enumerate(v):
            _validate(item, schema["items"], path + [i], errors)


def _short(v):
    s = json.dumps(v)
    return s if len(s) <= 60 else s[:57] + "..."


def validate(instance, schema):
    """Return the list of error messages (empty when valid)."""
    errors = []
    _validate(instance, schema, [], errors)
    return errors


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip())
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    check_schema(schema)
    with open(argv[2]) as f:
        instance = json.load(f)
    errors = validate(instance, schema)
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

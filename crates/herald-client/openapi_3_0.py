"""Rewrites Herald's OpenAPI 3.1 document as the OpenAPI 3.0 document progenitor reads.

Usage: openapi_3_0.py SOURCE TARGET. The same input gives the same bytes. Only what 3.0 spells
differently changes:

- `type: [T, "null"]` becomes `type: T` with `nullable: true`;
- `oneOf: [S, {type: "null"}]` becomes `S` (inlined, or `allOf: [S]` for a reference) with
  `nullable: true`;
- `propertyNames` (a 3.1 constraint on map keys, always strings here) is dropped;
- the license's SPDX `identifier` (3.1 only) is dropped, and the version becomes 3.0.3.
"""

import json
import sys


def is_null(schema) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def convert(node):
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: convert(value) for key, value in node.items() if key != "propertyNames"}
    kinds = node.get("type")
    if isinstance(kinds, list):
        rest = [kind for kind in kinds if kind != "null"]
        if len(rest) != 1:
            sys.exit(f"cannot express the type {kinds} in OpenAPI 3.0")
        node["type"] = rest[0]
        if len(rest) < len(kinds):
            node["nullable"] = True
    one_of = node.get("oneOf")
    if isinstance(one_of, list) and any(is_null(s) for s in one_of):
        rest = [s for s in one_of if not is_null(s)]
        del node["oneOf"]
        if len(rest) == 1 and "$ref" in rest[0]:
            node["allOf"] = rest
        elif len(rest) == 1:
            node = {**rest[0], **node}
        else:
            node["oneOf"] = rest
        node["nullable"] = True
    return node


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as f:
        document = json.load(f)
    document = convert(document)
    document["openapi"] = "3.0.3"
    document.get("info", {}).get("license", {}).pop("identifier", None)
    with open(target, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

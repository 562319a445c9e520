"""Reduce Telegram's Bot API specification to what the local emulator needs.

Reads the full machine-readable Bot API reference (``api.json``: every method
and type with fields, types, required flags and prose descriptions) and writes
``bot/emulator/botapi.json``, which the emulator loads at run time:

    {"version": ..., "release_date": ...,
     "methods": {name: {"fields": [{"name", "types", "required"}], "returns": [...]}},
     "types":   {name: {"fields": [...], "subtypes"?: [...], "subtype_of"?: [...]}}}

Descriptions are dropped. The one piece of data kept from them is the fixed
value of a union member's discriminator field (``type``, ``status`` or
``source``: "Scope type, must be chat", 'always "kicked"'), stored as
``"const"`` on that field so the emulator can tell ``BotCommandScopeChat``
from ``BotCommandScopeDefault`` without prose.

Usage: python tools/vendor_botapi.py [path/to/api.json] [--out bot/emulator/botapi.json]
The default input is ../shared/telegram-bot-api/api.json relative to the
repository root. The output is committed, so the project needs no ../shared.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT.parent / "shared" / "telegram-bot-api" / "api.json"
DEFAULT_OUTPUT = ROOT / "bot" / "emulator" / "botapi.json"

DISCRIMINATORS = ("type", "status", "source")
_CONST_PATTERNS = (
    re.compile(r'always ["\u201c]([a-z0-9_]+)["\u201d]'),
    re.compile(r"must be ([a-z0-9_]+)\s*$"),
)


def _const_of(description: str) -> str | None:
    for pattern in _CONST_PATTERNS:
        match = pattern.search(description.strip())
        if match:
            return match.group(1)
    return None


def _reduce_fields(fields: list[dict[str, Any]], *, union_member: bool) -> list[dict[str, Any]]:
    reduced = []
    for field in fields:
        item: dict[str, Any] = {
            "name": field["name"],
            "types": list(field["types"]),
            "required": bool(field["required"]),
        }
        if union_member and field["name"] in DISCRIMINATORS:
            const = _const_of(field.get("description", ""))
            if const is not None:
                item["const"] = const
        reduced.append(item)
    return reduced


def reduce_spec(full: dict[str, Any]) -> dict[str, Any]:
    methods: dict[str, Any] = {}
    for name, method in sorted(full["methods"].items()):
        methods[name] = {
            "fields": _reduce_fields(method.get("fields", []), union_member=False),
            "returns": list(method.get("returns", [])),
        }
    types: dict[str, Any] = {}
    for name, type_ in sorted(full["types"].items()):
        entry: dict[str, Any] = {
            "fields": _reduce_fields(type_.get("fields", []), union_member=bool(type_.get("subtype_of")))
        }
        if type_.get("subtypes"):
            entry["subtypes"] = list(type_["subtypes"])
        if type_.get("subtype_of"):
            entry["subtype_of"] = list(type_["subtype_of"])
        types[name] = entry
    return {
        "version": full.get("version"),
        "release_date": full.get("release_date"),
        "methods": methods,
        "types": types,
    }


def dump(reduced: dict[str, Any]) -> str:
    """JSON with one method or type per line: small, and diffs stay readable."""

    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    lines = ["{"]
    lines.append(f' "version": {compact(reduced["version"])},')
    lines.append(f' "release_date": {compact(reduced["release_date"])},')
    for section in ("methods", "types"):
        entries = list(reduced[section].items())
        lines.append(f' "{section}": {{')
        for index, (name, entry) in enumerate(entries):
            comma = "," if index < len(entries) - 1 else ""
            lines.append(f"  {compact(name)}: {compact(entry)}{comma}")
        lines.append(" }," if section == "methods" else " }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(DEFAULT_INPUT))
    parser.add_argument("--out", default=str(DEFAULT_OUTPUT))
    args = parser.parse_args(argv)
    full = json.loads(Path(args.source).read_text(encoding="utf-8"))
    reduced = reduce_spec(full)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump(reduced), encoding="utf-8")
    print(
        f"{out}: {reduced['version']}, {len(reduced['methods'])} methods, {len(reduced['types'])} types",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

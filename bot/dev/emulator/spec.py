"""The Bot API specification and the validation of a call's parameters.

``BotApiSpec.load()`` reads ``botapi.json`` (reduced from Telegram's reference by
``tools/vendor_botapi.py``). ``BotApiSpec.decode_call()`` turns the raw
parameters of one HTTP call into typed Python values, strictly:

- an unknown parameter, a missing required one or a value of the wrong type
  is ``ApiError(400)`` naming the parameter, also inside nested objects
  (``reply_markup.inline_keyboard[0][1].callback_data``);
- form and query values are strings (python-telegram-bot JSON-encodes every
  non-string value): they are decoded by the declared type (Integer from
  digits, Boolean from ``true``/``false``, objects and arrays with
  ``json.loads``); a JSON body is already typed and is taken as it is;
- ``InputFile`` is an uploaded multipart part, named like the parameter or
  referenced as ``attach://<part>``; it decodes to an ``Upload``;
- unions (``BotCommandScope``, ``MenuButton``, ``InputMedia``...) are resolved
  by their discriminator (``type``/``status``/``source``), members without one
  by trying each.

Value rules that the type system cannot express (text lengths, keyboards,
parse modes) live in ``formatting.py``, ``markup.py`` and the ``methods`` package.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import ApiError, bad_request

PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
DISCRIMINATORS = ("type", "status", "source")
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_ARRAY = "Array of "


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    const: str | None = None


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: dict[str, FieldSpec]
    subtypes: tuple[str, ...] = ()
    subtype_of: tuple[str, ...] = ()


@dataclass
class Upload:
    """A file part of a multipart/form-data call."""

    part: str
    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:  # keep call records readable
        return f"<Upload {self.filename!r} {len(self.data)} bytes>"


class _Mismatch(Exception):
    """The value is not even of the JSON kind of this type (try the next type)."""


@dataclass
class _Context:
    uploads: dict[str, Upload]
    used_uploads: set[str] = field(default_factory=set)


def _fields(raw: list[dict[str, Any]]) -> dict[str, FieldSpec]:
    return {
        item["name"]: FieldSpec(
            name=item["name"],
            types=tuple(item["types"]),
            required=bool(item["required"]),
            const=item.get("const"),
        )
        for item in raw
    }


def _type_list(types: tuple[str, ...]) -> str:
    return " or ".join(types)


class BotApiSpec:
    """Methods and types of one Bot API version, with call validation."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version") or "unknown"
        self.methods: dict[str, MethodSpec] = {
            name: MethodSpec(name, _fields(m.get("fields", [])), tuple(m.get("returns", [])))
            for name, m in data["methods"].items()
        }
        self.types: dict[str, TypeSpec] = {
            name: TypeSpec(
                name,
                _fields(t.get("fields", [])),
                tuple(t.get("subtypes", ())),
                tuple(t.get("subtype_of", ())),
            )
            for name, t in data["types"].items()
        }
        self._by_lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls) -> BotApiSpec:
        return _load_default()

    def method(self, name: str) -> MethodSpec | None:
        """Look a method up as Telegram does: method names are case-insensitive."""
        canonical = self._by_lower.get(name.lower())
        return self.methods[canonical] if canonical else None

    # ------------------------------------------------------------------ calls

    def decode_call(
        self,
        method: MethodSpec,
        raw: dict[str, Any],
        uploads: dict[str, Upload] | None = None,
        *,
        from_form: bool,
    ) -> dict[str, Any]:
        """Validate and type the parameters of one call (raises ``ApiError``)."""
        ctx = _Context(uploads=dict(uploads or {}))
        for name in raw:
            if name not in method.fields:
                raise bad_request(f"unknown parameter '{name}'")
        params: dict[str, Any] = {}
        for name, spec in method.fields.items():
            if name in raw and raw[name] is not None:
                value = raw[name]
                if from_form:
                    value = self._from_form(value, spec.types, name, ctx)
                params[name] = self._check(value, spec.types, name, ctx)
            elif name in ctx.uploads and "InputFile" in spec.types:
                ctx.used_uploads.add(name)
                params[name] = ctx.uploads[name]
            elif spec.required:
                raise bad_request(f"parameter '{name}' is required")
        for part in ctx.uploads:
            if part not in ctx.used_uploads:
                raise bad_request(f"unknown parameter '{part}'")
        return params

    def _from_form(self, raw: Any, types: tuple[str, ...], path: str, ctx: _Context) -> Any:
        """Decode one form or query string by the parameter's declared types."""
        if not isinstance(raw, str):
            return raw
        if "InputFile" in types and raw.startswith("attach://"):
            return raw  # resolved by _check
        if "Integer" in types and _INT_RE.fullmatch(raw):
            return int(raw)
        if "Float" in types and _FLOAT_RE.fullmatch(raw):
            return float(raw)
        if "Boolean" in types and raw in ("true", "false"):
            return raw == "true"
        structured = [t for t in types if t not in PRIMITIVES]
        if structured and raw.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(raw)
            except ValueError:
                raise bad_request(f"can't parse JSON in parameter '{path}'") from None
        if "String" in types:
            return raw
        raise bad_request(f"parameter '{path}' must be {_type_list(types)}")

    # ------------------------------------------------------------- type check

    def _check(self, value: Any, types: tuple[str, ...], path: str, ctx: _Context) -> Any:
        deep_errors: list[tuple[int, ApiError]] = []
        for type_name in types:
            try:
                return self._check_one(value, type_name, path, ctx)
            except _Mismatch:
                continue
            except ApiError as error:
                deep_errors.append((self._affinity(value, type_name), error))
        if deep_errors:
            deep_errors.sort(key=lambda item: -item[0])
            raise deep_errors[0][1]
        raise bad_request(f"parameter '{path}' must be {_type_list(types)}")

    def _affinity(self, value: Any, type_name: str) -> int:
        """How well a dict matches an object type: keys it knows (for error choice)."""
        spec = self.types.get(type_name)
        if not isinstance(value, dict) or spec is None:
            return 0
        if spec.subtypes:
            return max((self._affinity(value, sub) for sub in spec.subtypes), default=0)
        return sum(1 for key in value if key in spec.fields)

    def _check_one(self, value: Any, type_name: str, path: str, ctx: _Context) -> Any:
        if type_name == "Integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise _Mismatch
        if type_name == "Float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            raise _Mismatch
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            raise _Mismatch
        if type_name == "String":
            if isinstance(value, str):
                return value
            raise _Mismatch
        if type_name == "InputFile":
            return self._input_file(value, path, ctx)
        if type_name.startswith(_ARRAY):
            if not isinstance(value, list):
                raise _Mismatch
            inner = (type_name[len(_ARRAY) :],)
            return [self._check(item, inner, f"{path}[{i}]", ctx) for i, item in enumerate(value)]
        spec = self.types.get(type_name)
        if spec is None:  # pragma: no cover - the vendored file is consistent
            raise bad_request(f"parameter '{path}' has an unknown type {type_name}")
        if spec.subtypes:
            return self._check_union(value, spec, path, ctx)
        return self._check_object(value, spec, path, ctx)

    def _input_file(self, value: Any, path: str, ctx: _Context) -> Upload:
        if isinstance(value, Upload):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            part = value[len("attach://") :]
            upload = ctx.uploads.get(part)
            if upload is None:
                raise bad_request(f"parameter '{path}': file part '{part}' not found")
            ctx.used_uploads.add(part)
            return upload
        raise _Mismatch

    def _check_union(self, value: Any, spec: TypeSpec, path: str, ctx: _Context) -> Any:
        members = [self.types[name] for name in spec.subtypes if name in self.types]
        structural = [name for name in spec.subtypes if name not in self.types]
        if isinstance(value, dict):
            for key in DISCRIMINATORS:
                tagged = [m for m in members if m.fields.get(key) and m.fields[key].const]
                if not tagged:
                    continue
                if key not in value:
                    raise bad_request(f"parameter '{path}.{key}' is required")
                chosen = [m for m in tagged if m.fields[key].const == value[key]]
                if not chosen:
                    raise bad_request(f"parameter '{path}.{key}' has unsupported value {value[key]!r}")
                return self._check(value, tuple(m.name for m in chosen), path, ctx)
        candidates = tuple(m.name for m in members) + tuple(structural)
        try:
            return self._check(value, candidates, path, ctx)
        except ApiError:
            if not isinstance(value, dict) or len(candidates) > 1:
                raise bad_request(f"parameter '{path}' must be {spec.name}") from None
            raise

    def _check_object(self, value: Any, spec: TypeSpec, path: str, ctx: _Context) -> Any:
        if not isinstance(value, dict):
            raise _Mismatch
        for key in value:
            if key not in spec.fields:
                raise bad_request(f"unknown parameter '{path}.{key}'")
        checked: dict[str, Any] = {}
        for name, fspec in spec.fields.items():
            sub = f"{path}.{name}"
            if name in value and value[name] is not None:
                item = self._check(value[name], fspec.types, sub, ctx)
                if fspec.const is not None and item != fspec.const:
                    raise bad_request(f"parameter '{sub}' must be {fspec.const!r}")
                checked[name] = item
            elif fspec.required:
                raise bad_request(f"parameter '{sub}' is required")
        return checked


@lru_cache(maxsize=1)
def _load_default() -> BotApiSpec:
    text = resources.files(__package__).joinpath("botapi.json").read_text(encoding="utf-8")
    return BotApiSpec(json.loads(text))

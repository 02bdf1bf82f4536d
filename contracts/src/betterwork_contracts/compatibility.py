"""Whether a new JSON Schema of an event type can replace the committed one.

The platform promises full-transitive compatibility (ARCHITECTURE.md, Events): a consumer built
against any version of a type's schema reads events written against any other version, in both
directions, because topics are replayed from the start and services upgrade one at a time. So:

- an existing property stays, with exactly the same schema. Narrowing (max_length 300 -> 100)
  breaks new consumers replaying old events; widening (100 -> 300, a new enum value, a dropped
  `required`) breaks old consumers reading new events. Both are refused: the only way to change
  an existing field is a new type version `.vN+1`, published beside the old one;
- a new property is optional and carries a `default`, so new consumers can read old events (old
  consumers ignore it: every event model has extra="ignore");
- an object that was open to unknown properties stays open (`additionalProperties: false` would
  make every later addition breaking).

Annotations (`title`, `description`, `examples`, `deprecated`, `$comment`) may change freely.
Objects reached through `$ref` (pydantic's `$defs`) are compared with the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_ANNOTATIONS = frozenset({"title", "description", "examples", "deprecated", "$comment"})
_DOCUMENT_KEYWORDS = frozenset({"$schema", "$id", "$defs", "definitions"})
_OBJECT_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})
_ONE_SUBSCHEMA = ("items", "additionalItems", "contains", "not", "if", "then", "else", "propertyNames")
_LIST_OF_SUBSCHEMAS = ("anyOf", "oneOf", "allOf", "prefixItems")
_MAP_OF_SUBSCHEMAS = ("patternProperties", "dependentSchemas")
# Event-level facts the generator adds beside the schema; consumers depend on them as much as on the fields.
_EVENT_EXTENSIONS = ("x-topic", "x-aggregate-id-field")

_ABSENT = object()


def check_compatibility(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[str]:
    """Problems that make `new_schema` unable to replace `old_schema` for the same event type; empty if none."""
    problems = [
        f"`{key}` changed from {_show(old_schema.get(key, _ABSENT))} to {_show(new_schema.get(key, _ABSENT))}"
        for key in _EVENT_EXTENSIONS
        if old_schema.get(key) != new_schema.get(key)
    ]
    problems.extend(_Comparison(old_schema, new_schema).schemas(old_schema, new_schema, ""))
    return problems


class _Comparison:
    """One comparison of two documents; knows which `$ref` pairs it is inside of, so recursive models terminate."""

    def __init__(self, old_document: dict[str, Any], new_document: dict[str, Any]) -> None:
        self.old_document = old_document
        self.new_document = new_document
        self.inside_refs: set[tuple[str, str]] = set()

    def schemas(self, old: Any, new: Any, where: str) -> list[str]:
        old, old_ref = _resolve(old, self.old_document)
        new, new_ref = _resolve(new, self.new_document)
        if old_ref is None or new_ref is None:
            return self.resolved(old, new, where)
        if (old_ref, new_ref) in self.inside_refs:  # a model that contains itself: this pair is being compared
            return []
        self.inside_refs.add((old_ref, new_ref))
        try:
            return self.resolved(old, new, where)
        finally:
            self.inside_refs.discard((old_ref, new_ref))

    def resolved(self, old: Any, new: Any, where: str) -> list[str]:
        if not isinstance(old, dict) or not isinstance(new, dict):  # boolean schemas, malformed input
            return [] if old == new else [_changed(where, "schema", old, new)]

        problems = [
            _changed(where, f"`{keyword}`", old.get(keyword, _ABSENT), new.get(keyword, _ABSENT))
            for keyword in sorted(_plain_keywords(old) | _plain_keywords(new))
            if old.get(keyword, _ABSENT) != new.get(keyword, _ABSENT)
        ]
        if any(keyword in schema for schema in (old, new) for keyword in _OBJECT_KEYWORDS):
            problems.extend(self.objects(old, new, where))
        for keyword in _ONE_SUBSCHEMA:
            problems.extend(self.subschema(old, new, keyword, f"{where}/{keyword}"))
        for keyword in _LIST_OF_SUBSCHEMAS:
            old_list, new_list = old.get(keyword, _ABSENT), new.get(keyword, _ABSENT)
            if old_list is _ABSENT and new_list is _ABSENT:
                continue
            if not isinstance(old_list, list) or not isinstance(new_list, list) or len(old_list) != len(new_list):
                problems.append(_changed(where, f"`{keyword}`", old_list, new_list))
                continue
            for index, (old_item, new_item) in enumerate(zip(old_list, new_list, strict=True)):
                problems.extend(self.schemas(old_item, new_item, f"{where}/{keyword}[{index}]"))
        for keyword in _MAP_OF_SUBSCHEMAS:
            old_map, new_map = old.get(keyword, {}), new.get(keyword, {})
            if not isinstance(old_map, dict) or not isinstance(new_map, dict) or old_map.keys() != new_map.keys():
                problems.append(_changed(where, f"`{keyword}`", old_map, new_map))
                continue
            for name in sorted(old_map):
                problems.extend(self.schemas(old_map[name], new_map[name], f"{where}/{keyword}/{name}"))
        return problems

    def subschema(self, old: dict[str, Any], new: dict[str, Any], keyword: str, where: str) -> list[str]:
        if keyword not in old and keyword not in new:
            return []
        if keyword not in old or keyword not in new:
            return [_changed(where, "schema", old.get(keyword, _ABSENT), new.get(keyword, _ABSENT))]
        return self.schemas(old[keyword], new[keyword], where)

    def objects(self, old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
        old_properties: dict[str, Any] = old.get("properties", {})
        new_properties: dict[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        old_closed = old.get("additionalProperties", True) is False
        problems: list[str] = []

        for name in sorted(old_properties):
            path = _join(where, name)
            if name not in new_properties:
                problems.append(f"property `{path}` was removed")
                continue
            problems.extend(self.schemas(old_properties[name], new_properties[name], path))
            if name in old_required and name not in new_required:
                problems.append(f"property `{path}` is no longer required (events without it break older consumers)")
            if name in new_required and name not in old_required:
                problems.append(f"property `{path}` became required (older events may lack it)")

        for name in sorted(new_properties.keys() - old_properties.keys()):
            path = _join(where, name)
            added, _ = _resolve(new_properties[name], self.new_document)
            if name in new_required:
                problems.append(f"new property `{path}` is required; a new property must be optional")
            if not isinstance(added, dict) or "default" not in added:
                problems.append(
                    f"new property `{path}` has no `default` in the schema "
                    "(give it `default=...`; a default_factory does not appear in the schema)"
                )
            if old_closed:
                problems.append(f"new property `{path}` on an object that declared `additionalProperties: false`")

        for name in sorted(new_required - new_properties.keys() - old_required):
            problems.append(f"`{name}` became required at {_place(where)}")

        old_additional = old.get("additionalProperties", True)
        new_additional = new.get("additionalProperties", True)
        if new_additional is False and old_additional is not False:
            problems.append(f"`additionalProperties: false` introduced at {_place(where)}")
        elif isinstance(old_additional, dict) and isinstance(new_additional, dict):
            problems.extend(self.schemas(old_additional, new_additional, f"{where}/additionalProperties"))
        elif old_additional != new_additional:
            problems.append(_changed(where, "`additionalProperties`", old_additional, new_additional))
        return problems


def _plain_keywords(schema: dict[str, Any]) -> set[str]:
    """Keywords compared by value: everything but annotations, extensions and keywords holding subschemas."""
    structural = {*_ONE_SUBSCHEMA, *_LIST_OF_SUBSCHEMAS, *_MAP_OF_SUBSCHEMAS, *_OBJECT_KEYWORDS}
    return {
        keyword
        for keyword in schema
        if keyword not in _ANNOTATIONS
        and keyword not in _DOCUMENT_KEYWORDS
        and keyword not in structural
        and not keyword.startswith("x-")
    }


def _resolve(schema: Any, document: dict[str, Any]) -> tuple[Any, str | None]:
    """Follow local `$ref`s (`#/$defs/...`); sibling keywords of a `$ref` win over the target's, as in 2020-12."""
    ref: str | None = None
    seen: set[str] = set()
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#"):
        ref = schema["$ref"]
        if ref in seen:
            break
        seen.add(ref)
        target = _pointer(document, ref)
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**target, **siblings} if isinstance(target, dict) else target
    return schema, ref


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for token in _tokens(ref):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise ValueError(f"unresolvable $ref {ref!r}")
    return node


def _tokens(ref: str) -> Iterator[str]:
    # RFC 6901: "#/a~1b/c~0d" -> "a/b", "c~d"
    for raw in ref.removeprefix("#").split("/")[1:]:
        yield raw.replace("~1", "/").replace("~0", "~")


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _place(where: str) -> str:
    return f"property `{where}`" if where else "the event"


def _changed(where: str, what: str, old: Any, new: Any) -> str:
    return f"{_place(where)}: {what} changed from {_show(old)} to {_show(new)}"


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."

"""The one parse for text read from disk or from an upload: JSON or YAML within limits.

Python's parsers recurse once per nesting level and accept values the rest of the app cannot
hold (NaN, 10**400, a 5,000-deep list, `!!binary`). Such a document may even parse and then
take a page down later, when Streamlit, jsonschema, pickle or SQLite meets it with less stack or
range to spare. So every file and upload is parsed here, against limits far beyond any real
document, and every failure is a `ParseError` a person can act on (with line and column where
the parser knows them). What a document must *contain* is checked by its reader afterwards.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from yaml.constructor import SafeConstructor

INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Limits:
    """How large a document may be: bytes of UTF-8, and nesting of lists and mappings."""

    max_bytes: int = 1_000_000
    max_depth: int = 64


class ParseError(ValueError):
    """A document that cannot be read; the message says why, line and column say where."""

    def __init__(self, message: str, line: int | None = None,
                 column: int | None = None) -> None:
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(message + where)
        self.message = message
        self.line = line
        self.column = column


def depth_of(value: Any) -> int:
    """How deeply lists and mappings nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_size(data: str | bytes, limits: Limits) -> None:
    size = len(data)
    if isinstance(data, str) and size * 4 > limits.max_bytes:
        size = len(data.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise ParseError(f"the file is larger than {_amount(limits.max_bytes)}")


def _amount(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"


def _too_deep(limits: Limits, line: int | None = None,
              column: int | None = None) -> ParseError:
    return ParseError(f"lists or mappings are nested deeper than {limits.max_depth} levels",
                      line, column)


def _whole(text: str) -> int:
    digits = text.lstrip("+-").replace("_", "")
    value = int(text) if len(digits) <= 20 else INT64_MAX + 1
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ParseError(f"the number {text[:24]}{'…' if len(text) > 24 else ''} is too large "
                         "(whole numbers must fit in 64 bits)")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ParseError("numbers must be finite (no Infinity, NaN or overflowing exponents)")
    return value


def _refuse_constant(name: str) -> Any:
    raise ParseError(f"{name} is not allowed: numbers must be finite")


def parse_json(data: str | bytes, limits: Limits = Limits()) -> Any:
    """A JSON document within `limits`: finite numbers, whole numbers in 64 bits."""
    _check_size(data, limits)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ParseError("the file is not UTF-8 text") from None
    try:
        value = json.loads(data, parse_int=_whole, parse_constant=_refuse_constant,
                           parse_float=lambda s: _finite(float(s)))
    except json.JSONDecodeError as exc:
        raise ParseError(f"JSON syntax error: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise _too_deep(limits) from None
    if depth_of(value) > limits.max_depth:
        raise _too_deep(limits)
    return value


def _at(mark: Any, message: str) -> ParseError:
    return ParseError(message, mark.line + 1, mark.column + 1)


_JSON_TAGS = frozenset(f"tag:yaml.org,2002:{kind}"
                       for kind in ("str", "int", "float", "bool", "null", "seq", "map"))


class BoundedYamlLoader(yaml.SafeLoader):
    """safe_load narrowed to what JSON can hold, nested at most `max_depth` levels.

    Timestamps stay text (an unquoted 2026-12-01 would become a date JSON cannot carry);
    aliases are refused (a few hundred bytes of them expand into millions of nodes); tags other
    than the plain JSON types are refused (`!!binary`, `!!set`, `!!python/…`, local tags).
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[Any]]] = {  # type: ignore[misc]
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    max_depth = Limits.max_depth
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _at(event.start_mark, "aliases (*name) are not allowed; write the value out")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _JSON_TAGS:
            raise _at(event.start_mark, f"the tag {tag} is not allowed; only plain values, "
                      "lists and mappings are")
        nests = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if nests:
            self._depth += 1
            if self._depth > self.max_depth:
                raise _at(event.start_mark, f"lists or mappings are nested deeper than "
                          f"{self.max_depth} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1

    def construct_yaml_int(self, node: Any) -> int:
        digits = str(node.value).replace("_", "")
        if len(digits) > 24:  # int() of thousands of digits is slow or refused outright
            raise _at(node.start_mark, f"the number {digits[:24]}… is too large (whole numbers "
                      "must fit in 64 bits)")
        value = SafeConstructor.construct_yaml_int(self, node)
        try:
            return _whole(str(value))
        except ParseError as exc:
            raise _at(node.start_mark, exc.message) from None

    def construct_yaml_float(self, node: Any) -> float:
        try:
            return _finite(SafeConstructor.construct_yaml_float(self, node))
        except ParseError as exc:
            raise _at(node.start_mark, exc.message) from None


BoundedYamlLoader.add_constructor("tag:yaml.org,2002:int", BoundedYamlLoader.construct_yaml_int)
BoundedYamlLoader.add_constructor("tag:yaml.org,2002:float",
                                  BoundedYamlLoader.construct_yaml_float)


def parse_yaml(text: str, limits: Limits = Limits()) -> Any:
    """A YAML document within `limits`, holding only what JSON can (see BoundedYamlLoader)."""
    _check_size(text, limits)
    loader = BoundedYamlLoader(text)
    loader.max_depth = limits.max_depth
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
        if mark is None:
            raise ParseError(message) from None
        raise ParseError(message, mark.line + 1, mark.column + 1) from None
    except RecursionError:
        raise _too_deep(limits) from None
    finally:
        loader.dispose()

"""Tool definitions: parse, validate, lint for strict mode, and load the YAML library.

Every check returns `Problem`s with a location a person can act on: line and column for syntax
errors, a JSON pointer for schema errors. Text is read by core.bounded (YAML safely). A library file
that fails to load is reported with its error instead of breaking the library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema
import yaml

from core.bounded import Limits, ParseError, depth_of, parse_json, parse_yaml
from core.types import ToolSpec

NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_TOOLS = 128
EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
Format = Literal["yaml", "json"]
FORMATS: tuple[Format, ...] = ("yaml", "json")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a tool definition, and where."""

    message: str
    pointer: str = ""  # JSON pointer into the tool document ("" is the whole document)
    line: int | None = None
    column: int | None = None
    severity: Literal["error", "warning"] = "error"

    def where(self) -> str:
        if self.line is not None:
            return f"line {self.line}, column {self.column}"
        return self.pointer or "/"

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


class ToolFileError(ValueError):
    """A tool document that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def pointer(path: Any) -> str:
    """A JSON pointer (RFC 6901) from a sequence of keys and indexes."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else ""


# --- Parsing -----------------------------------------------------------------------------------

# The import box takes up to 1 MB of tools; a library file is capped at 256 kB before reading.
TOOL_LIMITS = Limits(max_bytes=1_000_000, max_depth=64)


def parse_text(text: str, fmt: Format) -> tuple[Any, list[Problem]]:
    """The document in `text`, or the problem with line and column (1-based) where known.

    Parsed by core.bounded: YAML as safe_load minus timestamps, aliases and non-JSON tags,
    and nothing nested past TOOL_LIMITS, which every check and page downstream can walk.
    """
    try:
        return (parse_json if fmt == "json" else parse_yaml)(text, TOOL_LIMITS), []
    except ParseError as exc:
        return None, [Problem(exc.message, line=exc.line, column=exc.column)]


def dump_text(document: dict[str, Any], fmt: Format) -> str:
    """A document as YAML or JSON text; key order kept so switching formats loses nothing."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


# --- Validation --------------------------------------------------------------------------------

def structure_problems(data: Any) -> list[Problem]:
    """What keeps a document from being a tool definition every provider accepts.

    The document is user input of any shape: a check that trips over a shape it did not
    foresee reports that as a problem of the document, so one odd file never breaks a page.
    """
    try:
        return _structure_problems(data)
    except Exception as exc:
        return [Problem(f"this definition could not be checked ({type(exc).__name__}: "
                        f"{str(exc)[:160]}); check its shape against a plain example")]


def _structure_problems(data: Any) -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem("the document must be a mapping with name, description and parameters")]
    if depth_of(data) > TOOL_LIMITS.max_depth:  # built by a form or a paste, not parsed
        return [Problem(f"lists or mappings are nested deeper than {TOOL_LIMITS.max_depth} "
                        "levels")]
    problems = []
    name = data.get("name")
    if not isinstance(name, str) or not NAME_RULE.match(name):
        problems.append(Problem(f"name must be 1-64 letters, digits, '_' or '-' (got {name!r})",
                                "/name"))
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(Problem("description is missing; models choose tools by it",
                                "/description"))
    params = data.get("parameters", EMPTY_PARAMETERS)
    if not isinstance(params, dict):
        problems.append(Problem("parameters must be a JSON Schema object", "/parameters"))
    else:
        if params.get("type") != "object":
            problems.append(Problem("parameters must have type: object at the top",
                                    "/parameters/type"))
        problems.extend(metaschema_problems(params))
    strict = data.get("strict")
    if strict is not None and not isinstance(strict, bool):
        problems.append(Problem("strict must be true or false", "/strict"))
    results = data.get("results")
    if results is not None and not (
        isinstance(results, dict) and all(isinstance(v, str) for v in results.values())
    ):
        problems.append(Problem("results must map names to result text (e.g. ok: '{...}')",
                                "/results"))
    if "run" in data:
        from core.tools.http_tool import run_problems

        problems.extend(Problem(message, where) for message, where in run_problems(data["run"]))
    if strict is True and isinstance(params, dict):
        problems.extend(strict_problems(params))
    return problems


_VALIDATOR = jsonschema.Draft202012Validator


_META = _VALIDATOR(_VALIDATOR.META_SCHEMA, format_checker=_VALIDATOR.FORMAT_CHECKER)


def metaschema_problems(schema: dict[str, Any], base: str = "/parameters") -> list[Problem]:
    """How `schema` breaks the JSON Schema metaschema (draft 2020-12, formats such as `regex`
    checked): the most relevant error per location, so one slip is reported once."""
    by_place: dict[tuple[Any, ...], list[Any]] = {}
    for error in _META.iter_errors(schema):
        by_place.setdefault(tuple(error.absolute_path), []).append(error)
    problems = []
    for place in sorted(by_place, key=lambda p: [str(x) for x in p]):
        error = jsonschema.exceptions.best_match(by_place[place])
        problems.append(Problem(f"not valid JSON Schema: {error.message}",
                                base + pointer(place)))
    return problems


# --- Strict mode ----------------------------------------------------------------------------

STRICT_KEYWORDS = frozenset({
    "type", "description", "title", "enum", "const", "properties", "required",
    "additionalProperties", "items", "anyOf", "$ref", "$defs", "definitions",
    "pattern", "format", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "minItems", "maxItems",
})


def _walk(schema: Any, path: tuple[Any, ...]) -> Iterator[tuple[dict[str, Any], tuple[Any, ...]]]:
    """Every subschema with its path (properties, items, anyOf, $defs)."""
    if not isinstance(schema, dict):
        return
    yield schema, path
    for key in ("properties", "$defs", "definitions"):
        children = schema.get(key)
        if isinstance(children, dict):
            for name, sub in children.items():
                yield from _walk(sub, (*path, key, name))
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], (*path, "items"))
    if isinstance(schema.get("anyOf"), list):
        for index, sub in enumerate(schema["anyOf"]):
            yield from _walk(sub, (*path, "anyOf", index))


def _is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or \
        "properties" in schema


def _mapping(value: Any) -> dict[str, Any]:
    """`properties` as a mapping; anything else (the metaschema check reports it) as none."""
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[str]:
    """`required` as a list of names; anything else (reported elsewhere) as none."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def strict_problems(parameters: dict[str, Any], base: str = "/parameters") -> list[Problem]:
    """Where a schema breaks the rules of strict mode (structured outputs)."""
    problems = []
    for schema, path in _walk(parameters, ()):
        at = base + pointer(path)
        for keyword in schema:
            if keyword not in STRICT_KEYWORDS:
                problems.append(Problem(f"strict mode does not accept the keyword "
                                        f"'{keyword}'", f"{at}/{pointer([keyword])[1:]}"))
        if _is_object(schema):
            if schema.get("additionalProperties") is not False:
                problems.append(Problem("strict mode needs additionalProperties: false on "
                                        "every object", at))
            props = list(_mapping(schema.get("properties")))
            required = _names(schema.get("required"))
            missing = [p for p in props if p not in required]
            if missing:
                problems.append(Problem(
                    "strict mode needs every property in required (type optional ones as a "
                    f"union with \"null\"); not listed: {', '.join(missing)}", f"{at}/required"))
    return problems


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The same subschema, also accepting null (how strict mode spells "optional")."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str) and kind != "null":
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    elif "anyOf" in out and {"type": "null"} not in out["anyOf"]:
        out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    elif "type" not in out and "anyOf" not in out and "enum" not in out:
        # $ref, const, or an untyped enum: only a union can add null to those.
        description = out.pop("description", None)
        out = {"anyOf": [out, {"type": "null"}]}
        if description:
            out["description"] = description
        return out
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def make_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` rewritten for strict mode: closed objects, everything required,
    optional properties made nullable, unsupported keywords removed (oneOf becomes anyOf,
    which strict mode accepts and which differs only when options overlap)."""
    schema = dict(schema)
    if isinstance(schema.get("oneOf"), list) and "anyOf" not in schema:
        schema["anyOf"] = schema.pop("oneOf")
    out = {k: v for k, v in schema.items() if k in STRICT_KEYWORDS}
    for key in ("properties", "$defs", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {name: make_strict(sub) if isinstance(sub, dict) else sub
                        for name, sub in out[key].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = make_strict(out["items"])
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [make_strict(s) if isinstance(s, dict) else s for s in out["anyOf"]]
    if _is_object(out):
        if not isinstance(out.get("properties"), dict):
            out["properties"] = {}
        props = out["properties"]
        required = set(_names(out.get("required")))
        for name in props:
            if name not in required and isinstance(props[name], dict):
                props[name] = _nullable(props[name])
        out["required"] = list(props)
        out["additionalProperties"] = False
    return out


def dropped_by_make_strict(parameters: dict[str, Any],
                           base: str = "/parameters") -> list[str]:
    """Where make_strict removes a keyword strict mode does not accept (so the preview can
    say what the rewrite loses); oneOf is not listed, it becomes anyOf."""
    return [p.pointer for p in strict_problems(parameters, base)
            if "does not accept the keyword" in p.message
            and not p.pointer.endswith("/oneOf")]


def strict_document(document: dict[str, Any]) -> dict[str, Any]:
    """A tool document with strict: true and its parameters rewritten by make_strict."""
    out = dict(document)
    out["strict"] = True
    out["parameters"] = make_strict(document.get("parameters") or dict(EMPTY_PARAMETERS))
    return out


# --- Arguments against the schema that was sent -----------------------------------------------

@dataclass(frozen=True)
class Violation:
    pointer: str
    message: str
    value: Any


def argument_violations(arguments: Any, parameters: dict[str, Any]) -> list[Violation]:
    """Every way the model's arguments break the parameters schema; [] when they fit."""
    try:
        validator = _VALIDATOR(parameters)
        errors = sorted(validator.iter_errors(arguments),
                        key=lambda e: [str(p) for p in e.absolute_path])
    except Exception as exc:  # the schema is user input: any failure is its fault, not ours
        return [Violation("", "the schema itself could not be used to check the arguments: "
                              f"{type(exc).__name__}: {str(exc)[:200]}", None)]
    return [Violation(pointer(e.absolute_path), e.message, e.instance) for e in errors]


# --- Documents and specs ----------------------------------------------------------------------

def spec_from_document(data: dict[str, Any]) -> ToolSpec:
    return ToolSpec(
        name=data["name"],
        description=data["description"],
        parameters=data.get("parameters") or dict(EMPTY_PARAMETERS),
        strict=data.get("strict"),
        results=dict(data.get("results") or {}),
        run=data["run"] if isinstance(data.get("run"), dict) else None,
    )


def document_from_spec(spec: ToolSpec) -> dict[str, Any]:
    """The YAML/JSON document of a tool, in the library's key order."""
    document: dict[str, Any] = {"name": spec.name, "description": spec.description}
    if spec.strict is not None:
        document["strict"] = spec.strict
    document["parameters"] = spec.parameters
    if spec.results:
        document["results"] = spec.results
    if spec.run:
        document["run"] = spec.run
    return document


def parse_tool(text: str, fmt: Format = "yaml") -> tuple[ToolSpec | None, list[Problem]]:
    """A ToolSpec from text, with every problem found (warnings do not block the spec)."""
    return tool_from_data(*parse_text(text, fmt))


def tool_from_data(data: Any, parse_problems: list[Problem] | None = None,
                   ) -> tuple[ToolSpec | None, list[Problem]]:
    """parse_tool for a document already parsed (with the problems parsing found), so a page
    that also needs the raw document parses the text once."""
    if parse_problems:
        return None, parse_problems
    problems = structure_problems(data)
    if any(p.severity == "error" for p in problems):
        return None, problems
    return spec_from_document(data), problems


def parse_tool_yaml(text: str) -> ToolSpec:
    """A ToolSpec from YAML text; ToolFileError lists what is wrong and where."""
    spec, problems = parse_tool(text, "yaml")
    if spec is None:
        raise ToolFileError(problems)
    return spec


# --- Sets of tools ---------------------------------------------------------------------------

def set_problems(specs: list[ToolSpec]) -> list[Problem]:
    """Rules about the set sent together: unique names, at most 128 tools."""
    problems = []
    if len(specs) > MAX_TOOLS:
        problems.append(Problem(f"{len(specs)} tools are enabled; providers accept at most "
                                f"{MAX_TOOLS}"))
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            problems.append(Problem(f"two enabled tools are named {spec.name!r}; names must be "
                                    "unique", "/name"))
        seen.add(spec.name)
    return problems


def estimate_tokens(spec: ToolSpec) -> int:
    """Tokens a definition adds to every request, estimated as compact-JSON characters / 4.

    A heuristic (real tokenizers differ by model and are not available offline); good enough
    to show what a long description costs.
    """
    body = {"type": "function", "function": {"name": spec.name, "description": spec.description,
                                             "parameters": spec.parameters}}
    return max(1, round(len(json.dumps(body, separators=(",", ":"), ensure_ascii=False)) / 4))

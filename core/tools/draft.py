"""Generate: a tool definition drafted from a description in plain words (and, optionally, an
example call or a function signature), by a separate request to the current model.

The request carries a marker in its system prompt, which the offline demo model recognises
(it drafts from the words with `offline_draft`, deterministic rules, no model), and its exchange
is marked `draft-tool`, so the inspector and the Usage page tell it apart from chat turns.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace
from typing import Any

from core.tools.schemas import dump_text, parse_text
from core.types import ChatSettings, Message

MARKER = "[toolsmith:draft-tool]"
PURPOSE = "draft-tool"
_DESCRIPTION = "Tool description:"
_EXAMPLE = "Example call or function signature:"
_ASK = "Reply with the YAML definition only."
_FENCE = re.compile(r"```[\w-]*\n(.*?)\n?```", re.DOTALL)

SYSTEM = (f"{MARKER} You write tool definitions for LLM function calling. Reply with one YAML "
          "document and nothing else (no commentary, no code fences), with the keys: name "
          "(snake_case; letters, digits, _ or -; at most 64), description (what the tool does "
          "and when the model should use it), parameters (a JSON Schema with type: object, "
          "properties each with a type and a description, and required). Use enum, format, "
          "minimum, maximum, pattern or default where the description implies them.")


def draft_request(description: str, example: str, settings: ChatSettings,
                  ) -> tuple[list[Message], ChatSettings]:
    """The messages and settings of a Generate request (no tools: it answers in text)."""
    parts = [f"{_DESCRIPTION}\n{description.strip()}"]
    if example.strip():
        parts.append(f"{_EXAMPLE}\n{example.strip()}")
    parts.append(_ASK)
    request_settings = replace(settings, system_prompt=SYSTEM, tool_choice=None,
                               parallel_tool_calls=None)
    return [Message(role="user", content="\n\n".join(parts))], request_settings


def is_draft_request(settings: ChatSettings) -> bool:
    return settings.system_prompt.startswith(MARKER)


def parse_draft_request(text: str) -> tuple[str, str]:
    """(description, example) read back from a Generate request's text."""
    body = text.replace(_ASK, "").strip()
    description, _, example = body.partition(_EXAMPLE)
    return description.replace(_DESCRIPTION, "", 1).strip(), example.strip()


def draft_text(reply: str) -> str:
    """The model's reply as YAML for the editor: the fenced block when there is one, a JSON
    answer turned into YAML; anything else as it came (the editor marks what is wrong)."""
    text = reply.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    if text.startswith("{"):
        data, problems = parse_text(text, "json")
        if not problems and isinstance(data, dict):
            document = data.get("function", data) if isinstance(data.get("function"),
                                                               dict) else data
            return dump_text(document, "yaml")
    return text + "\n"


# --- The offline demo model's drafting --------------------------------------------------------

_STOP = {"a", "an", "the", "its", "their", "his", "her", "my", "your", "our", "some", "any",
         "given", "specific", "certain", "this", "that", "each", "every", "one", "it", "them",
         "and", "or", "of", "to", "for", "by", "with", "from", "in", "on", "at", "as", "into",
         "is", "are", "be", "which", "who", "what", "when", "where", "how", "if", "then",
         "tool", "function", "should", "can", "will", "user", "users", "me", "we", "you",
         "returns", "return", "using", "via", "optionally", "optional", "also", "all",
         "let", "lets", "allow", "allows", "use", "used", "it's"}
_PREPOSITIONS = ("by", "for", "with", "given", "from", "to", "in", "using", "of", "on", "at",
                 "about", "between", "into", "named", "called")
_INTEGER_WORDS = ("count", "limit", "days", "quantity", "age", "year", "minutes", "hours",
                  "size", "page", "max", "top", "number of", "nights", "seats", "guests")
_NUMBER_WORDS = ("price", "amount", "temperature", "latitude", "longitude", "rate", "weight",
                 "budget", "distance", "radius", "percent", "score")
_FORMATS = (("email", "email"), ("url", "uri"), ("link", "uri"), ("website", "uri"),
            ("datetime", "date-time"), ("time", "date-time"), ("date", "date"),
            ("day", "date"), ("when", "date-time"))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z0-9']*", text.lower())


def _snake(words: list[str]) -> str:
    name = "_".join(w.replace("'", "") for w in words if w)
    return re.sub(r"[^a-z0-9_]", "", name)[:64] or "new_tool"


def _tool_name(description: str) -> str:
    content = [w for w in _words(description) if w not in _STOP]
    return _snake(content[:3])


def _property(name: str, context: str) -> dict[str, Any]:
    """A property's schema from its name and the words around it."""
    spaced = name.replace("_", " ")
    schema: dict[str, Any] = {"type": "string"}
    if any(w in spaced for w in _NUMBER_WORDS):
        schema = {"type": "number"}
    elif any(w in spaced for w in _INTEGER_WORDS):
        schema = {"type": "integer", "minimum": 1 if "page" in spaced else 0}
    elif spaced.startswith(("include", "whether", "is ", "has ")):
        schema = {"type": "boolean"}
    else:
        for word, fmt in _FORMATS:
            if word in spaced.split():
                schema["format"] = fmt
                break
    choices = re.search(rf"{re.escape(spaced)}\s*(?:\(|:)\s*(?:one of\s+)?({_CHOICES})",
                        context)
    if choices and schema["type"] == "string":
        schema["enum"] = _choice_values(choices.group(1))
    schema["description"] = f"The {spaced}" + (
        f", e.g. {_EXAMPLES[schema['format']]}" if schema.get("format") in _EXAMPLES else "")
    return schema


_CHOICES = r"[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*,?\s+or\s+[a-z0-9-]+"
_UNITS = {"celsius", "fahrenheit", "kelvin", "metric", "imperial", "km", "miles", "kg", "lb"}
_FILE_FORMATS = {"json", "csv", "xml", "text", "pdf", "markdown", "html", "yaml"}


def _choice_values(text: str) -> list[str]:
    return [c for c in re.split(r"\s*,\s*(?:or\s+)?|\s+or\s+", text.strip()) if c]


def _choice_parameter(text: str) -> tuple[str, dict[str, Any], set[str]] | None:
    """ "in celsius or fahrenheit" -> ("unit", an enum schema, the words it used)."""
    found = re.search(rf"\b(?:in|as|either)\s+({_CHOICES})", text)
    if not found:
        return None
    values = _choice_values(found.group(1))
    name = "unit" if _UNITS & set(values) else "format" if _FILE_FORMATS & set(values) \
        else "mode"
    return name, {"type": "string", "enum": values,
                  "description": f"One of: {', '.join(values)}"}, set(values)


_EXAMPLES = {"email": "ada@example.com", "uri": "https://example.com", "date": "2026-12-01",
             "date-time": "2026-12-01T09:30:00Z"}


def _from_words(description: str) -> tuple[dict[str, Any], list[str]]:
    context = description.lower()
    # "a priority (low, medium or high)": the choices belong to the word before them
    text = re.sub(rf"\s*\((?:one of\s+)?{_CHOICES}\)", "", context)
    text = re.sub(r"\b(?:a |the )?number of (\w+)", r"\1", text)
    properties: dict[str, Any] = {}
    required: list[str] = []
    choice = _choice_parameter(text)
    used = choice[2] if choice else set()
    words = _words(text)
    for index, word in enumerate(words):
        if word not in _PREPOSITIONS and not (word == "and" and index > 0):
            continue
        phrase: list[str] = []
        for follower in words[index + 1:index + 5]:
            if follower in _STOP or follower in _PREPOSITIONS:
                if phrase:
                    break
                continue
            phrase.append(follower)
            if len(phrase) == 2:
                break
        if not phrase or phrase[0] in ("example", "instance") or used & set(phrase):
            continue
        name = _snake(phrase)
        if len(properties) >= 5 or any(name in k.split("_") or name == k for k in properties):
            continue
        for shorter in [k for k in properties if k in name.split("_")]:  # "order" < "order_number"
            del properties[shorter]
            required = [r for r in required if r != shorter]
        properties[name] = _property(name, context)
        if not re.search(rf"optional(?:ly)?\W+(?:\w+\W+){{0,4}}{re.escape(phrase[0])}", text):
            required.append(name)
    if choice:
        properties[choice[0]] = choice[1]
    if not properties:
        properties["query"] = {"type": "string", "description": "What to look up or act on"}
        required.append("query")
    return properties, required


_PY_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
             "list": "array", "dict": "object", "List": "array", "Dict": "object"}


def _annotation(node: ast.expr | None) -> dict[str, Any]:
    if node is None:
        return {"type": "string"}
    if isinstance(node, ast.Name) and node.id in _PY_TYPES:
        return {"type": _PY_TYPES[node.id]}
    if isinstance(node, ast.Subscript):
        base = node.value.id if isinstance(node.value, ast.Name) else ""
        if base == "Literal":
            values = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return {"type": "string", "enum": [v.value for v in values
                                               if isinstance(v, ast.Constant)]}
        if base == "Optional":
            inner = _annotation(node.slice)
            return {**inner, "type": [inner.get("type", "string"), "null"]}
        if base in ("list", "List"):
            return {"type": "array", "items": _annotation(node.slice)}
        return {"type": _PY_TYPES.get(base, "object")}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        if any(isinstance(s, ast.Constant) and s.value is None for s in sides):
            other = next(s for s in sides if not (isinstance(s, ast.Constant)
                                                 and s.value is None))
            inner = _annotation(other)
            return {**inner, "type": [inner.get("type", "string"), "null"]}
    return {"type": "string"}


def _value_schema(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array", "items": _value_schema(value[0]) if value else {}}
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: _value_schema(v) for k, v in value.items()}}
    return {"type": "string"}


def _from_example(example: str) -> tuple[str, dict[str, Any], list[str], str] | None:
    """(name, properties, required, docstring) from a Python signature, a call, or a JSON
    call; None when the example is none of these."""
    text = example.strip()
    tree = None
    for candidate in (text, text.rstrip(":") + ": ..."):  # a signature may come without body
        try:
            tree = ast.parse(candidate)
            break
        except (SyntaxError, ValueError):
            continue
    if tree is not None and tree.body:
        node = tree.body[0]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = [a for a in node.args.args if a.arg not in ("self", "cls")]
            defaults = [None] * (len(args) - len(node.args.defaults)) + list(node.args.defaults)
            properties, required = {}, []
            for arg, default in zip(args, defaults, strict=True):
                schema = _annotation(arg.annotation)
                if isinstance(default, ast.Constant):
                    schema["default"] = default.value
                properties[arg.arg] = schema
                if default is None:
                    required.append(arg.arg)
            return node.name, properties, required, ast.get_docstring(node) or ""
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            name = call.func.id if isinstance(call.func, ast.Name) else \
                call.func.attr if isinstance(call.func, ast.Attribute) else "new_tool"
            properties = {}
            for keyword in call.keywords:
                if keyword.arg is None:
                    continue
                try:
                    value = ast.literal_eval(keyword.value)
                except ValueError:
                    value = ""
                properties[keyword.arg] = _value_schema(value)
            return name, properties, list(properties), ""
    data, problems = parse_text(text, "json")
    if not problems and isinstance(data, dict):
        found: dict[str, Any] = data["function"] if isinstance(data.get("function"), dict) \
            else data
        arguments = found.get("arguments", found.get("input", {}))
        if isinstance(arguments, str):
            arguments, _ = parse_text(arguments, "json")
        if isinstance(arguments, dict):
            properties = {k: _value_schema(v) for k, v in arguments.items()}
            return str(found.get("name") or "new_tool"), properties, list(properties), ""
    return None


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return "Say what the tool does and when the model should use it."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def offline_draft(description: str, example: str = "") -> str:
    """A plausible definition from the words alone (the offline demo model's answer):
    parameters from the example when there is one, else from phrases such as "by its order
    number" or "for a city", typed by their names (days -> integer, email -> format email)."""
    found = _from_example(example) if example.strip() else None
    if found is not None:
        name, properties, required, doc = found
        for key, schema in properties.items():
            schema.setdefault("description", f"The {key.replace('_', ' ')}")
        text = description.strip() or doc
    else:
        name = _tool_name(description)
        properties, required = _from_words(description)
        text = description
    document = {"name": _snake(_words(name.replace("_", " ")) or ["new", "tool"]),
                "description": _sentence(text),
                "parameters": {"type": "object", "properties": properties,
                               **({"required": required} if required else {})}}
    return dump_text(json.loads(json.dumps(document)), "yaml")

"""The offline demo model's planning: which tool to call with which arguments, or what to say.

It plans from the provider-neutral conversation (each wire format reads a sent body back into
it), so the same question gets the same answer in every format; the transport encodes it.
It picks the enabled tool whose name and description best fit the question, fills the
arguments it can read from the question, and answers from tool results.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core.demo import reading
from core.tools.draft import is_draft_request, offline_draft, parse_draft_request
from core.tools.simulate import is_simulation, parse_simulation
from core.types import Message, ToolSpec
from core.wire.base import SentRequest

_STOP = frozenset(
    "a about all also an and any are as at be been but by can could do does for from get give "
    "has have how i in into is it its just let like me more my of on or our out over please "
    "should show so some tell than that the their them then there these they this those to "
    "today use using very want was we were what whats what's when where which who will with "
    "would write you your".split()
)

# A few places, so a city typed alone becomes the "City, ST" form tools usually ask for.
_PLACES = {
    "boston": "Boston, MA", "new york": "New York, NY", "san francisco": "San Francisco, CA",
    "chicago": "Chicago, IL", "seattle": "Seattle, WA", "los angeles": "Los Angeles, CA",
    "austin": "Austin, TX", "miami": "Miami, FL", "denver": "Denver, CO",
    "london": "London, UK", "paris": "Paris, France", "berlin": "Berlin, Germany",
    "tokyo": "Tokyo, Japan", "beijing": "Beijing, China", "shanghai": "Shanghai, China",
    "sydney": "Sydney, Australia", "toronto": "Toronto, Canada",
}
# The same places' IANA time zones, for tools that ask for a timezone (MCP's time server).
_ZONES = {
    "Boston, MA": "America/New_York", "New York, NY": "America/New_York",
    "San Francisco, CA": "America/Los_Angeles", "Chicago, IL": "America/Chicago",
    "Seattle, WA": "America/Los_Angeles", "Los Angeles, CA": "America/Los_Angeles",
    "Austin, TX": "America/Chicago", "Miami, FL": "America/New_York",
    "Denver, CO": "America/Denver", "London, UK": "Europe/London", "Paris, France": "Europe/Paris",
    "Berlin, Germany": "Europe/Berlin", "Tokyo, Japan": "Asia/Tokyo",
    "Beijing, China": "Asia/Shanghai", "Shanghai, China": "Asia/Shanghai",
    "Sydney, Australia": "Australia/Sydney", "Toronto, Canada": "America/Toronto",
}
_US_SUFFIX = re.compile(r",\s*[A-Z]{2}$")
_PLACE_AFTER = re.compile(
    r"\b(?:in|at|for|near|from|to)\s+"
    r"((?:[A-Z][\w.'-]*)(?:\s+[A-Z][\w.'-]*)*(?:,\s*[A-Z]{2}\b)?"
    r"(?:(?:\s*,\s*|\s+and\s+|\s*&\s*)(?:[A-Z][\w.'-]*)(?:\s+[A-Z][\w.'-]*)*(?:,\s*[A-Z]{2}\b)?)*)"
)
_SPLIT_PLACES = re.compile(r"\s*,\s*(?![A-Z]{2}\b)|\s+and\s+|\s*&\s*")
_WORD = re.compile(r"[a-z0-9]+")
_LOCATION_WORDS = ("location", "city", "place", "address", "town", "region")
_QUERY_WORDS = ("query", "q", "search", "text", "question", "prompt", "keywords", "topic")


def _words(text: str) -> set[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).replace("_", " ").lower()
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w
            for w in _WORD.findall(text) if len(w) > 2 and w not in _STOP}


def places_in(question: str) -> list[str]:
    """Places named in the question, in order, expanded from the small gazetteer."""
    found: list[str] = []
    for match in _PLACE_AFTER.finditer(question):
        for part in _SPLIT_PLACES.split(match.group(1)):
            part = part.strip(" .?!")
            if part and part.lower() not in ("today", "tomorrow", "now"):
                found.append(_PLACES.get(part.lower(), part))
    if not found:
        lowered = question.lower()
        found = [full for name, full in _PLACES.items() if re.search(rf"\b{name}\b", lowered)]
    return list(dict.fromkeys(found))


@dataclass
class Plan:
    """What the demo model will say: text, or calls as (name, arguments)."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class _Missing(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def _fill(schema: dict[str, Any], question: str, place: str | None, path: str,
          required: bool = True) -> Any:
    """A value for one schema node, read from the question where possible."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return _fill_object(schema, question, place, path)
    name = path.rsplit("/", 1)[-1].lower()
    described = f"{name} {schema.get('description', '')}".lower()
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        for value in enum:
            if isinstance(value, str) and re.search(rf"\b{re.escape(value.lower())}\b",
                                                    question.lower()):
                return value
        lowered = [str(v).lower() for v in enum]
        if "fahrenheit" in lowered and "celsius" in lowered and place:
            return enum[lowered.index("fahrenheit" if _US_SUFFIX.search(place) else "celsius")]
        raise _Missing(path)
    if kind == "string":
        return _fill_text(schema, question, place, path, name, described)
    if kind in ("integer", "number"):
        # A number the question ties to this field ("for 30 minutes"); else, for a field that
        # must be given, the question's first amount (not a time, date or address).
        near = reading.number_near(question, _words(described) | _words(name))
        nullable = isinstance(schema.get("type"), list) and "null" in schema["type"]
        amounts = reading.amounts_in(question) if required and not nullable else []
        if near is None and not amounts:
            raise _Missing(path)
        value = near if near is not None else amounts[0]
        if "minimum" in schema:
            value = max(value, schema["minimum"])
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        raise _Missing(path)
    if kind == "array":
        found = schema.get("items")
        items: dict[str, Any] = found if isinstance(found, dict) else {}
        inner = items.get("properties")
        fields: dict[str, Any] = inner if isinstance(inner, dict) else {}
        emails = reading.emails_in(question)
        if emails and "email" in fields:  # attendees, recipients, …
            return [{"email": e} for e in emails]
        if emails and "email" in described:
            return emails
        raise _Missing(path)
    raise _Missing(path)


def _fill_text(schema: dict[str, Any], question: str, place: str | None, path: str,
               name: str, described: str) -> str:
    """A string field, by what its name, format or description says it holds."""
    fmt = str(schema.get("format") or "")
    if "timezone" in name.replace("_", "") and place in _ZONES:
        return _ZONES[place]
    if any(w in described.split() or w in name for w in _LOCATION_WORDS) and place:
        return place
    if fmt == "email" or name == "email":
        found = reading.emails_in(question)
        if found:
            return found[0]
        raise _Missing(path)
    if fmt == "date-time" or name in ("start", "start_time", "starts_at", "when", "datetime"):
        when = reading.when_in(question)
        if when:
            return when
        raise _Missing(path)
    if "unit" in described:
        _, source, target = reading.units_in(question)
        wanted = source if re.search(r"from|source|input", name) or "of the value" in \
            described else target if re.search(r"(^|_)to($|_)|target|output", name) else None
        if wanted:
            return wanted
        raise _Missing(path)
    if name == "sql" or "select statement" in described or "sql" in described.split():
        sql = reading.sql_in(question)
        if sql:
            return sql
        raise _Missing(path)
    if name in ("title", "subject", "summary", "name"):
        title = reading.title_in(question)
        if title:
            return title
        raise _Missing(path)
    if name in _QUERY_WORDS or any(w in name for w in ("query", "search")):
        return reading.subject_of(question) if name != "question" else question.strip()
    raise _Missing(path)


_EMPTY = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}


def _fill_object(schema: dict[str, Any], question: str, place: str | None, path: str,
                 forced: bool = False) -> dict:
    """Arguments for an object schema. `forced` (tool_choice required or named): a required
    value the question does not give becomes an empty placeholder instead of a question back,
    because those choices promise a call."""
    required = set(schema.get("required") or [])
    result: dict[str, Any] = {}
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        try:
            result[key] = _fill(sub, question, place, f"{path}/{key}", key in required)
        except _Missing:
            if key not in required:
                continue
            kinds = sub.get("type")
            kind = next((k for k in kinds if k != "null"), None) if isinstance(kinds, list) \
                else kinds
            if "default" in sub:
                result[key] = sub["default"]
            elif isinstance(kinds, list) and "null" in kinds:
                result[key] = None  # required but nullable: "not given" is a valid answer
            elif kind in ("boolean", "array"):
                result[key] = _EMPTY[kind]
            elif kind in ("integer", "number") and "minimum" in sub:
                result[key] = sub["minimum"]
            elif forced:
                enum = sub.get("enum")
                result[key] = enum[0] if isinstance(enum, list) and enum else \
                    _EMPTY.get(kind or "string", "")
            else:
                raise
    return result


def _tool_score(tool: ToolSpec, question_words: set[str]) -> int:
    name_words = _words(tool.name) | _words(tool.description or "")
    params = tool.parameters.get("properties") if isinstance(tool.parameters, dict) else None
    param_words: set[str] = set()
    for key, sub in (params if isinstance(params, dict) else {}).items():
        param_words |= _words(key)
        if isinstance(sub, dict):
            param_words |= _words(str(sub.get("description", "")))
    return 2 * len(question_words & name_words) + len(question_words & (param_words - name_words))


def _topic_score(tool: ToolSpec, question: str) -> int:
    """Two points per topic the question and the tool share (a picture fits an image tool)."""
    params = tool.parameters.get("properties") if isinstance(tool.parameters, dict) else None
    text = f"{tool.name} {tool.description} {' '.join(params or {})}"
    return 2 * len(reading.topics_of(question) & reading.topics_of(text))


def _takes_place(tool: ToolSpec) -> bool:
    """A tool with a parameter a named place can fill (a location, or a time zone)."""
    params = tool.parameters.get("properties") if isinstance(tool.parameters, dict) else None
    return any(w in str(key).lower() for key in (params if isinstance(params, dict) else {})
               for w in (*_LOCATION_WORDS, "timezone"))


def _fillable(tool: ToolSpec, question: str, place: str | None) -> bool:
    schema = tool.parameters if isinstance(tool.parameters, dict) else {}
    try:
        _fill_object(schema, question, place, "")
    except _Missing:
        return False
    return True


def _forced_name(choice: Any) -> str | None:
    """The tool a neutral tool_choice names (`{"type": "function", "function": {"name"}}`)."""
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        return str(name) if name else None
    return None


def _example(schema: Any, arguments: dict[str, Any], key: str = "") -> Any:
    """A plausible value for a schema node: an argument of the same name, an enum's first
    value, a default, else a value of the type (the demo model invents nothing clever)."""
    if not isinstance(schema, dict):
        return None
    if key and key in arguments:
        return arguments[key]
    for word in ("const", "default"):
        if word in schema:
            return schema[word]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        found = schema.get("properties")
        props = found if isinstance(found, dict) else {}
        return {name: _example(sub, arguments, name) for name, sub in props.items()}
    if kind == "array":
        return [_example(schema.get("items"), arguments)]
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}.get(
        str(kind), f"example {key}".strip())


def _simulated_result(text: str) -> str:
    """A simulation request's answer: an example of the output schema, else a plain record
    of the call (sim tool results from the offline model say that they are made up)."""
    name, schema, arguments = parse_simulation(text)
    args = arguments if isinstance(arguments, dict) else {}
    if schema:
        return json.dumps(_example(schema, args), ensure_ascii=False)
    return json.dumps({"status": "ok", "tool": name, "arguments": args,
                       "note": "simulated offline by the demo model"}, ensure_ascii=False)


def plan_reply(request: SentRequest) -> Plan:
    """The reply to the last message of a neutral conversation."""
    if is_simulation(request.settings) and request.messages:
        return Plan(text=_simulated_result(request.messages[-1].content))
    if is_draft_request(request.settings) and request.messages:  # Generate on the Tools page
        return Plan(text=offline_draft(*parse_draft_request(request.messages[-1].content)))
    messages = [m for m in request.messages if m.role != "system"]
    tools = request.tools
    if not messages:
        return Plan(text="(Offline demo model) There is no message to answer.")
    last = messages[-1]
    if last.role == "tool":
        return Plan(text=_answer_from_results(messages))
    question = last.content
    choice = request.settings.tool_choice or "auto"
    if choice == "none" or not tools:
        return Plan(text=_no_tool_text(question, tools, choice == "none"))
    wanted = _forced_name(choice)
    if wanted is not None:
        candidates = [t for t in tools if t.name == wanted]
    else:
        words = _words(question)
        if words & reading.CREATIVE and choice != "required":  # writing: no tool does that
            return Plan(text=_no_tool_text(question, tools, False))
        place = next(iter(places_in(question)), None)
        scored = sorted(((_tool_score(t, words) + _topic_score(t, question)
                          + (place is not None and _takes_place(t)), i, t)
                         for i, t in enumerate(tools)), key=lambda item: (-item[0], item[1]))
        # Of the tools that fit, one whose arguments the question fills beats one it cannot,
        # unless the other fits far better (then the demo model asks for what is missing).
        fitting = sorted((item for item in scored if item[0] >= 2),
                         key=lambda item: (-item[0] + (0 if _fillable(item[2], question, place)
                                                       else 4), item[1]))
        candidates = [t for _, _, t in fitting][:1]
        if not candidates and choice == "required":
            candidates = [scored[0][2]]
    if not candidates:
        return Plan(text=_no_tool_text(question, tools, False))
    tool = candidates[0]
    schema = tool.parameters if isinstance(tool.parameters, dict) and tool.parameters \
        else {"type": "object", "properties": {}}
    places: list[str | None] = [*places_in(question)] or [None]
    if request.settings.parallel_tool_calls is False:
        places = places[:1]
    forced = choice == "required" or wanted is not None
    calls = []
    for place in places:
        try:
            calls.append((tool.name, _fill_object(schema, question, place, "", forced)))
        except _Missing as missing:
            field_name = missing.path.strip("/") or "input"
            return Plan(text=f"(Offline demo model) To use `{tool.name}` I need "
                             f"`{field_name}`, and I could not read it from your message. "
                             "Could you say it explicitly?")
    uses_place = any(place is not None and place in args.values()
                     for place, (_, args) in zip(places, calls, strict=True))
    return Plan(calls=calls if uses_place else calls[:1])


def _no_tool_text(question: str, tools: list[ToolSpec], disabled: bool) -> str:
    names = ", ".join(f"`{t.name}`" for t in tools) or "none"
    why = ("Tool calls are switched off for this request (tool_choice: none)." if disabled
           else f"None of the enabled tools ({names}) fits your question.")
    return ("(Offline demo model) I only demonstrate tool calling, so I can't answer "
            f"“{question.strip()[:200]}” on my own. {why} Try “What's the weather like in "
            "Boston today?” with `get_current_weather` enabled, or configure a real model in the "
            "sidebar.")


def _answer_from_results(messages: list[Message]) -> str:
    results: list[Message] = []
    calls = {}
    for message in reversed(messages):
        if message.role != "tool":
            calls = {c.id: c for c in message.tool_calls}
            break
        results.append(message)
    parts = []
    for message in reversed(results):
        call = calls.get(message.tool_call_id or "")
        args, _ = call.parsed_arguments() if call is not None else ({}, None)
        about = str(next(iter(args.values()))) if isinstance(args, dict) and args else ""
        name = call.name if call is not None and call.name else "the tool"
        parts.append(f"`{name}`{f' for {about}' if about else ''} returned "
                     f"{_describe(message.content)}")
    return "Here is what I found: " + "; ".join(parts) + "."


def _describe(content: str) -> str:
    text = content.strip()
    if not text:
        return "nothing (an empty result)"
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return f"“{text[:400]}”"
    if isinstance(value, dict):
        return ", ".join(f"{k} {json.dumps(v, ensure_ascii=False)}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False)[:400]



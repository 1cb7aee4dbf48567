"""What the demo model can read from a plain question: the topics it touches (so a tool is
chosen by meaning, not by one shared word), units, a SQL statement, a date and time, email
addresses, a title, and the subject of a request ("draw a picture of a sunset" -> "a sunset").

Small, deterministic readers: the demo model shows tool calling, it does not understand text.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# Topic groups: a question and a tool that share a topic fit each other, whatever words each
# uses ("picture" fits a tool that "generates an image").
TOPICS: dict[str, frozenset[str]] = {name: frozenset(words.split()) for name, words in {
    "weather": "weather temperature forecast rain raining sunny snow snowing fog foggy cold hot "
               "humid wind windy",
    "convert": "convert conversion unit km kilometer kilometre mile meter metre feet foot inch "
               "centimeter kg kilogram pound lb gram ounce celsius fahrenheit kelvin liter "
               "litre gallon quantity",
    "time": "time date clock hour utc",
    "search": "search web look news latest won recent google lookup",
    "image": "image picture draw drawing illustration photo render paint sketch",
    "database": "database sql select analytic table row user customer revenue signup order "
                "sale",
    "calendar": "calendar event meeting schedule appointment remind invite",
}.items()}
# Requests no tool serves: the demo model says so instead of reaching for the nearest tool.
CREATIVE = frozenset("haiku poem story joke limerick song essay riddle sonnet lyric".split())

_UNITS: dict[str, str] = {}
for _canonical, _names in {
    "km": "km kms kilometer kilometers kilometre kilometres", "mi": "mi mile miles",
    "m": "m meter meters metre metres", "cm": "cm centimeter centimeters",
    "mm": "mm millimeter millimeters", "ft": "ft foot feet", "in": "inch inches",
    "kg": "kg kgs kilogram kilograms kilo kilos", "g": "g gram grams",
    "lb": "lb lbs pound pounds", "oz": "oz ounce ounces",
    "celsius": "c celsius centigrade", "fahrenheit": "f fahrenheit", "kelvin": "k kelvin",
    "l": "l liter liters litre litres", "ml": "ml milliliter milliliters",
    "gal": "gal gallon gallons",
}.items():
    for _name in _names.split():
        _UNITS[_name] = _canonical
_UNIT_WORD = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)?\s*°?([A-Za-z]+)\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SQL = re.compile(r"\b(SELECT|WITH)\b.*", re.IGNORECASE | re.DOTALL)
_COMMAND = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+)?"
    r"(?:search(?:\s+the\s+web)?(?:\s+for)?|look\s+up|google|find(?:\s+out)?|"
    r"generate|create|make|draw|paint|render|sketch|show\s+me)\s+"
    r"(?:me\s+)?(?:(?:an?|the)\s+)?"
    r"(?:(?:image|picture|photo|drawing|illustration|painting|sketch)\s+)?"
    r"(?:(?:of|for|showing|about)\s+)?", re.IGNORECASE)
_TITLED = re.compile(r"\b(?:called|titled|named)\s+[\"“']?([^\"”'.,?!]+?)[\"”']?"
                     r"(?=\s+(?:on|at|tomorrow|today|next|for|with)\b|[.,?!]|$)", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")
_TIME = re.compile(r"\bat\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b", re.IGNORECASE)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def topics(words: set[str]) -> set[str]:
    return {name for name, group in TOPICS.items() if words & group}


def topics_of(text: str) -> set[str]:
    """The topics of a text, short words ("km", "kg") and plurals included."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).replace("_", " ").lower()
    words: set[str] = set()
    for word in re.findall(r"[a-z]+", spaced):
        words.add(word)
        if len(word) > 3 and word.endswith("s"):
            words.add(word[:-1])
    return topics(words)


def units_in(question: str) -> tuple[float | None, str | None, str | None]:
    """(value, from unit, to unit) of a conversion question: the unit right after the number
    is the one converted from ("10 km to miles", "how many pounds is 5 kg")."""
    value: float | None = None
    source: str | None = None
    others: list[str] = []
    for match in _UNIT_WORD.finditer(question):
        number, word = match.group(1), match.group(2).lower()
        unit = _UNITS.get(word)
        if unit is None or (len(word) == 1 and number is None and word not in "cf"):
            continue
        if number is not None and source is None:
            value, source = float(number), unit
        else:
            others.append(unit)
    target = next((u for u in others if u != source), None)
    return value, source, target


def sql_in(question: str, table_words: frozenset[str] = TOPICS["database"]) -> str | None:
    """A SELECT written in the question, else a plain one for "how many X" / "top N X by Y"."""
    written = _SQL.search(question)
    if written:
        return written.group(0).strip().rstrip("?;. ") or None
    lowered = question.lower()
    many = re.search(r"how many ([a-z_]+)", lowered)
    if many and many.group(1).rstrip("s") in table_words:
        return f"SELECT COUNT(*) FROM {many.group(1)}"
    top = re.search(r"top (\d+) ([a-z_]+) by ([a-z_]+)", lowered)
    if top:
        return f"SELECT * FROM {top.group(2)} ORDER BY {top.group(3)} DESC LIMIT {top.group(1)}"
    return None


def emails_in(question: str) -> list[str]:
    return list(dict.fromkeys(_EMAIL.findall(question)))


def title_in(question: str) -> str | None:
    for pattern in (_TITLED, _QUOTED):
        match = pattern.search(question)
        if match and match.group(1).strip():
            return match.group(1).strip()
    who = re.search(r"\bmeeting with ([\w.@+-]+(?:\s+and\s+[\w.@+-]+)*)", question,
                    re.IGNORECASE)
    return f"Meeting with {who.group(1)}" if who else None


def when_in(question: str, today: date | None = None) -> str | None:
    """An ISO 8601 start from "tomorrow at 10am", "on Friday at 9:30", "2026-12-01 at 14:00";
    None unless both a day and a time are given (guessing either is worse than asking)."""
    today = today or date.today()
    lowered = question.lower()
    day: date | None = None
    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", lowered)
    if iso:
        day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    elif "tomorrow" in lowered:
        day = today + timedelta(days=1)
    elif "today" in lowered:
        day = today
    else:
        for index, name in enumerate(_WEEKDAYS):
            if re.search(rf"\b{name}\b", lowered):
                day = today + timedelta(days=(index - today.weekday() - 1) % 7 + 1)
                break
    clock = _TIME.search(question)
    if day is None or clock is None:
        return None
    hour, minute = int(clock.group(1)), int(clock.group(2) or 0)
    half = (clock.group(3) or "").lower()
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return datetime(day.year, day.month, day.day, hour, minute).isoformat()


def subject_of(question: str) -> str:
    """The question without a leading command: "Search the web for X" -> "X"."""
    stripped = _COMMAND.sub("", question.strip(), count=1).strip()
    if stripped == question.strip():
        return stripped  # no command to drop: the question is the query, as asked
    return stripped.rstrip("?.! ") or question.strip()


_NOT_AMOUNTS = re.compile(
    r"[\w.+-]+@[\w.-]+|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|"
    r"\bat\s+\d{1,2}(?::\d{2})?\b|\b\d{1,2}:\d{2}\b", re.IGNORECASE)


def amounts_in(question: str) -> list[float]:
    """The numbers of a question that are amounts, not parts of a time, date or address."""
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", _NOT_AMOUNTS.sub(" ", question))]


def number_near(question: str, words: set[str]) -> float | None:
    """A number written next to one of `words` ("for 30 minutes", "top 5 results")."""
    text = _NOT_AMOUNTS.sub(" ", question.lower())
    for match in re.finditer(r"(\d+(?:\.\d+)?)[\s-]*([a-z]+)|([a-z]+)\s+(\d+(?:\.\d+)?)",
                             text):
        number = match.group(1) or match.group(4)
        word = (match.group(2) or match.group(3) or "").rstrip("s")
        if word in words:
            return float(number)
    return None

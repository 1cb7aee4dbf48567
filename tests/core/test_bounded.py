"""core.bounded: the one parse every file and upload goes through.

Each limit is tested at its edge (just inside parses, just outside is a ParseError naming the
place), and every hostile document seen in the security review is refused with a message, never
a RecursionError, OverflowError or a value the app cannot hold.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.bounded import Limits, ParseError, depth_of, parse_json, parse_yaml
from tests.support.stack import run_with_small_stack


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
def test_depth_at_the_limit_parses_and_one_more_is_refused(parse: Any) -> None:
    limits = Limits(max_depth=20)
    assert depth_of(parse(nested(20), limits)) == 20
    with pytest.raises(ParseError, match="nested deeper than 20 levels"):
        parse(nested(21), limits)


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
@pytest.mark.parametrize("depth", [320, 1_000, 5_000, 100_000])
def test_deep_nesting_is_a_parse_error_even_with_little_stack_left(parse: Any,
                                                                  depth: int) -> None:
    with pytest.raises(ParseError, match="nested deeper than"):
        run_with_small_stack(lambda: parse(nested(depth)))


def test_deep_yaml_block_nesting_names_the_line() -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(80)) + f"{'  ' * 80}leaf: 1\n"
    with pytest.raises(ParseError) as caught:
        parse_yaml(text, Limits(max_depth=64))
    assert caught.value.line == 65 and "nested deeper than 64" in str(caught.value)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "[1e400]", "{\"a\": -1e999}"])
def test_json_numbers_must_be_finite(text: str) -> None:
    with pytest.raises(ParseError, match="finite"):
        parse_json(text)


@pytest.mark.parametrize("text", [".inf", "-.Inf", "[.nan]", "a: 1.0e+400"])
def test_yaml_numbers_must_be_finite(text: str) -> None:
    with pytest.raises(ParseError, match="finite"):
        parse_yaml(text)


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
@pytest.mark.parametrize("number", [str(2**63), str(-(2**63) - 1), "1" + "0" * 30,
                                    "9" * 5_000])
def test_whole_numbers_beyond_64_bits_are_refused(parse: Any, number: str) -> None:
    with pytest.raises(ParseError, match="too large"):
        parse(f"[{number}]")


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
def test_64_bit_whole_numbers_parse(parse: Any) -> None:
    assert parse(f"[{2**63 - 1}, {-(2**63)}]") == [2**63 - 1, -(2**63)]


@pytest.mark.parametrize("text", [
    "a: !!binary aGVsbG8=", "a: !!set {x, y}", "a: !!timestamp 2026-01-01",
    "a: !!python/object:os.system {}", "a: !!python/name:os.system ''", "a: !custom x",
    "a: !!omap [{x: 1}]",
])
def test_yaml_tags_beyond_plain_json_values_are_refused(text: str) -> None:
    with pytest.raises(ParseError, match="tag"):
        parse_yaml(text)


def test_yaml_standard_tags_of_json_values_are_fine() -> None:
    assert parse_yaml("a: !!str 12\nb: !!int '3'\nc: !!float 1\nd: [!!null '', !!bool yes]") == \
        {"a": "12", "b": 3, "c": 1.0, "d": [None, True]}


def test_yaml_aliases_are_refused() -> None:
    with pytest.raises(ParseError, match="aliases"):
        parse_yaml("a: &x [1, 2]\nb: *x\n")


def test_yaml_dates_stay_text() -> None:
    assert parse_yaml("day: 2026-12-01") == {"day": "2026-12-01"}


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
def test_size_limit_is_exact(parse: Any) -> None:
    text = '"' + "x" * 98 + '"'
    assert parse(text, Limits(max_bytes=100)) == "x" * 98
    with pytest.raises(ParseError, match="larger than"):
        parse(text + " ", Limits(max_bytes=100))


def test_json_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        parse_json('{\n  "a": [1,\n}')
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_yaml_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        parse_yaml("a: [1,\nb: 2\n")
    assert caught.value.line is not None and "YAML" in str(caught.value)


def test_json_bytes_must_be_utf8() -> None:
    with pytest.raises(ParseError, match="UTF-8"):
        parse_json(b'"\xff"')
    assert parse_json('"Zürich"'.encode()) == "Zürich"


def test_a_wide_document_is_fine() -> None:
    document = {"items": [{"n": i, "s": "x" * 10} for i in range(20_000)]}
    assert parse_json(json.dumps(document), Limits(max_bytes=10_000_000)) == document


def test_depth_of_counts_containers_without_recursion() -> None:
    value: Any = []
    for _ in range(50_000):
        value = [value]
    assert depth_of(value) == 50_001
    assert depth_of({"a": [1, {"b": 2}]}) == 3 and depth_of(5) == 0

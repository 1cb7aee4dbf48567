"""SSEDecoder against the WHATWG event-stream rules and every fixture transcript.

Network reads split a stream anywhere: inside a line, between CR and LF, inside a UTF-8
sequence. So each transcript is decoded whole, split at every byte boundary, and fed one
byte at a time, and must always give the same events as an independent line-by-line parser.
"""

from __future__ import annotations

import re

import pytest

from core.wire.sse import SSEDecoder, SSEEvent, iter_events
from tests.support.sse_fixtures import FIXTURES, load_fixture


def decode(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.close()


def reference_parse(raw: bytes) -> list[SSEEvent]:
    """A deliberately naive WHATWG parser over the whole body, used as the oracle.

    Same deliberate difference from browsers as core: an unterminated last event is
    dispatched at end of stream.
    """
    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    events: list[SSEEvent] = []
    data: list[str] = []
    event_type = ""
    last_id: str | None = None
    retry: int | None = None

    def dispatch() -> None:
        nonlocal data, event_type
        if data:
            events.append(SSEEvent("\n".join(data), event_type or "message", last_id, retry))
        data, event_type = [], ""

    for line in lines:
        if line == "":
            dispatch()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and re.fullmatch(r"[0-9]+", value):
            retry = int(value)
    dispatch()
    return events


# --- WHATWG rules, one at a time -------------------------------------------------------------


def test_comment_lines_are_ignored_and_counted() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b": keep-alive\n\n:\ndata: x\n: between fields\n\n")
    assert events == [SSEEvent("x")]
    assert decoder.comments == 3


def test_event_id_and_retry_fields() -> None:
    events = decode(b"event: delta\nid: 42\nretry: 3000\ndata: {}\n\n")
    assert events == [SSEEvent("{}", event="delta", id="42", retry=3000)]


def test_data_with_and_without_space_and_only_one_space_removed() -> None:
    assert decode(b"data:x\n\ndata: x\n\ndata:  x\n\n") == [
        SSEEvent("x"), SSEEvent("x"), SSEEvent(" x")]


def test_multi_line_data_is_joined_with_lf() -> None:
    assert decode(b"data: first\ndata:second\ndata\ndata: \n\n") == [
        SSEEvent("first\nsecond\n\n")]


def test_empty_data_field_still_dispatches_an_event() -> None:
    """`data:` followed by a blank line is an event whose data is the empty string."""
    assert decode(b"data:\n\n") == [SSEEvent("")]


def test_event_without_data_is_not_dispatched_and_its_type_does_not_leak() -> None:
    assert decode(b"event: ping\n\ndata: x\n\n") == [SSEEvent("x", event="message")]


def test_event_type_resets_after_each_dispatch() -> None:
    assert decode(b"event: a\ndata: 1\n\ndata: 2\n\n") == [
        SSEEvent("1", event="a"), SSEEvent("2", event="message")]


def test_empty_event_field_means_message() -> None:
    assert decode(b"event\ndata: x\n\n") == [SSEEvent("x", event="message")]


def test_unknown_fields_and_a_line_without_colon_are_ignored() -> None:
    assert decode(b"foo: bar\nbogus\ndata: x\n\n") == [SSEEvent("x")]


def test_last_event_id_persists_and_can_be_cleared() -> None:
    events = decode(b"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
    assert [e.id for e in events] == ["7", "7", ""]


def test_id_containing_nul_is_ignored() -> None:
    assert decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")[1].id == "1"


@pytest.mark.parametrize("value", [b"", b"12a", b"-5", b"  1", b"1.5"])
def test_retry_that_is_not_ascii_digits_is_ignored(value: bytes) -> None:
    """`retry:  1` keeps a space: only the one space after the colon is removed."""
    assert decode(b"retry:" + value + b"\ndata: x\n\n")[0].retry is None


@pytest.mark.parametrize("value", ["²", "١٢"])
def test_retry_with_non_ascii_digits_is_ignored(value: str) -> None:
    """Regression (fixed in c886463): `isdigit()` let '²' crash int() and '١٢' through."""
    events = decode(f"retry: {value}\ndata: x\n\n".encode())
    assert events == [SSEEvent("x", retry=None)]


@pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
def test_every_line_ending(newline: bytes) -> None:
    raw = newline.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert decode(raw) == [SSEEvent("a\nb", event="e"), SSEEvent("c")]


def test_mixed_line_endings_in_one_stream() -> None:
    assert decode(b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r") == [
        SSEEvent("a\nb\nc"), SSEEvent("d")]


def test_cr_at_end_of_one_chunk_and_lf_at_start_of_next_is_one_line_break() -> None:
    """Were CR and LF counted twice, the blank line would dispatch 'a' alone."""
    assert decode(b"data: a\r", b"\ndata: b\r\n\r\n") == [SSEEvent("a\nb")]


def test_cr_then_an_empty_chunk_then_lf() -> None:
    assert decode(b"data: a\r", b"", b"\ndata: b\r", b"\n", b"\r\n") == [SSEEvent("a\nb")]


def test_cr_at_chunk_end_followed_by_cr_is_a_blank_line() -> None:
    assert decode(b"data: a\r", b"\rdata: b\n\n") == [SSEEvent("a"), SSEEvent("b")]


def test_cr_at_chunk_end_then_a_chunk_that_decodes_to_nothing() -> None:
    """Half a UTF-8 sequence decodes to no text; the pending CR must survive it intact."""
    assert decode(b"data: a\r", b"data: \xc3", b"\xa9\n\n") == [SSEEvent("a\n\u00e9")]


def test_leading_bom_is_stripped_once() -> None:
    assert decode(b"\xef\xbb\xbfdata: x\n\n") == [SSEEvent("x")]
    # A second BOM is part of the field name, so that line is an unknown field.
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n") == [SSEEvent("y")]


def test_bom_split_across_chunks() -> None:
    assert decode(b"\xef", b"\xbb", b"\xbfdata: x\n\n") == [SSEEvent("x")]


def test_bom_inside_the_stream_is_kept() -> None:
    assert decode("data: a\ufeffb\n\n".encode()) == [SSEEvent("a\ufeffb")]


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c"])
def test_unicode_line_separators_inside_data_do_not_split_lines(char: str) -> None:
    """JSON may carry U+2028 unescaped; str.splitlines() would break the event in two."""
    payload = f'{{"content":"a{char}b"}}'
    assert decode(f"data: {payload}\n\n".encode()) == [SSEEvent(payload)]


def test_utf8_multibyte_split_at_every_byte() -> None:
    raw = "data: 東京 ☀️ Zürich 🌧\n\n".encode()
    for cut in range(len(raw) + 1):
        assert decode(raw[:cut], raw[cut:]) == [SSEEvent("東京 ☀️ Zürich 🌧")], cut


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert decode(b"data: a\xffb\n\n") == [SSEEvent("a\ufffdb")]


def test_truncated_utf8_at_close_becomes_a_replacement_character() -> None:
    assert decode(b"data: a\xe6\x9d") == [SSEEvent("a\ufffd")]


def test_unterminated_last_event_is_dispatched_at_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: [DONE]") == [SSEEvent("a")]
    assert decoder.close() == [SSEEvent("[DONE]")]


def test_last_event_with_one_newline_but_no_blank_line_is_dispatched_at_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.close() == [SSEEvent("a")]


def test_close_with_nothing_pending_dispatches_nothing() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n: bye\n")
    assert decoder.close() == []


def test_iter_events_is_the_same_as_feeding() -> None:
    raw = load_fixture("comments_and_event_lines")
    assert list(iter_events([raw[:100], raw[100:]])) == decode(raw)


def test_many_events_through_one_decoder() -> None:
    """20,000 events decode to 20,000 events in order (no quadratic re-scan is asserted here;
    speed lives in the benchmarks)."""
    raw = b"".join(b"data: %d\n\n" % i for i in range(20_000))
    events = decode(*(raw[i:i + 4096] for i in range(0, len(raw), 4096)))
    assert [e.data for e in events] == [str(i) for i in range(20_000)]


def test_one_long_line_fed_in_small_pieces() -> None:
    payload = "x" * 200_000
    raw = f"data: {payload}\n\n".encode()
    events = decode(*(raw[i:i + 7] for i in range(0, len(raw), 7)))
    assert events == [SSEEvent(payload)]


# --- every fixture, whole and split ----------------------------------------------------------

NAMES = sorted(FIXTURES)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_decodes_like_the_reference_parser(name: str) -> None:
    raw = load_fixture(name)
    events = decode(raw)
    assert events == reference_parse(raw)
    assert events, "a transcript with no events tests nothing"


@pytest.mark.parametrize("name", NAMES)
def test_fixture_split_at_every_byte_boundary(name: str) -> None:
    raw = load_fixture(name)
    whole = decode(raw)
    for cut in range(1, len(raw)):
        decoder = SSEDecoder()
        got = decoder.feed(raw[:cut]) + decoder.feed(raw[cut:]) + decoder.close()
        if got != whole:
            pytest.fail(f"{name}: split at byte {cut} ({raw[max(0, cut - 20):cut + 20]!r}) "
                        f"gave {len(got)} events, whole gave {len(whole)}")


@pytest.mark.parametrize("name", NAMES)
def test_fixture_fed_one_byte_at_a_time(name: str) -> None:
    raw = load_fixture(name)
    assert decode(*(raw[i:i + 1] for i in range(len(raw)))) == decode(raw)


def test_crlf_fixture_really_has_crlf_and_no_bare_lf() -> None:
    """Guards the fixture itself against an editor or git normalising line endings."""
    raw = load_fixture("crlf_line_endings")
    assert b"\r\n" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_no_trailing_blank_line_fixture_really_ends_without_a_newline() -> None:
    assert load_fixture("no_trailing_blank_line").endswith(b"data: [DONE]")


def test_comment_fixture_has_comments_and_event_lines() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(load_fixture("comments_and_event_lines")) + decoder.close()
    assert decoder.comments >= 3
    assert {e.event for e in events} == {"message"}
    assert events[-2].retry == 3000

"""components.untrusted: identifiers and server text become Markdown that renders as the same
text and does nothing; the model's images become placeholders. The rendering itself is checked
in the browser (tests/e2e/test_untrusted_text.py); here, the Markdown produced."""

from __future__ import annotations

import re

import pytest

from components.untrusted import (
    Image,
    assistant_markdown,
    code,
    images,
    text,
    visible,
)

HOSTILE = [
    "get_weather` **[URGENT: Login again](http://evil.test/login)** `",
    "![track](http://evil.test/pixel.png)",
    ":red[URGENT] :material/warning: $x^2$ &nbsp; <b>bold</b>",
    "# heading\n- item\n> quote",
    "www.evil.test and https://evil.test/x and mail@evil.test",
    "`` double ` ticks ``",
]


def unescaped(markdown: str, char: str) -> bool:
    """`char` appears in `markdown` without a backslash before it."""
    return bool(re.search(r"(?<!\\)" + re.escape(char), markdown))


@pytest.mark.parametrize("value", HOSTILE)
def test_text_escapes_every_markdown_character(value: str) -> None:
    out = text(value)
    # Outside its code spans (addresses, which GFM would otherwise autolink), nothing active.
    prose = re.sub(r"(?<!\\)(`+)(?!`).*?(?<!`)\1(?!`)", " ", out)
    for char in "[]`*$<>~|":
        assert not unescaped(prose, char), (char, out)
    assert not re.search(r"(?<!\\):[A-Za-z/]", prose), out  # no :red[, :smile:, https://
    assert not re.search(r"(?<!\\)&[A-Za-z#]", prose), out
    assert not re.search(r"(?m)^\s*[#>+-]", prose), out
    assert not re.search(r"www\.|\w@\w", prose), out
    shown = re.sub(r"\\(.)", r"\1", out).replace("`", "")
    assert shown == value.replace("`", "")  # it reads the same


@pytest.mark.parametrize("value", [
    "The server answered 401: the API key was rejected. Check OPENAI_API_KEY (after 3 "
    "attempts).", "get_current_weather", "call_4yKljCtGceYj1heJY8G9h3te", "What's up?"])
def test_plain_prose_and_identifiers_are_left_as_they_are(value: str) -> None:
    assert text(value) == value


def test_list_markers_at_the_start_of_a_line() -> None:
    assert text("10. x\n- y\n# z") == "10\\. x\n\\- y\n\\# z"


@pytest.mark.parametrize("value", HOSTILE)
def test_code_cannot_be_closed_from_inside(value: str) -> None:
    out = code(value)
    fence = re.match(r"`+", out)
    assert fence is not None
    inner = out[len(fence[0]):-len(fence[0])]
    assert not re.search(r"(?<!`)" + fence[0] + r"(?!`)", inner), out
    assert out.endswith(fence[0])


def test_hidden_characters_are_shown_and_long_values_cut() -> None:
    assert visible("invoice\u202egnp.exe") == "invoice\ufffdgnp.exe"
    assert visible("a\x00b\x1bc") == "a\ufffdb\ufffdc"
    assert visible("line\nnext\ttab") == "line\nnext\ttab"
    assert len(code("x" * 1000)) < 210


@pytest.mark.parametrize(("markdown", "urls"), [
    ("See ![chart](http://evil.test/a.png) here", ["http://evil.test/a.png"]),
    ('![a](<http://evil.test/b c.png> "title")', ["http://evil.test/b c.png"]),
    ("![never closed](http://evil.test/c.png", []),  # not an image: escaped all the same
    ("![x][logo]\n\n[logo]: https://evil.test/logo.png", ["https://evil.test/logo.png"]),
    ("![logo]\n\n[logo]: https://evil.test/l2.png \"t\"", ["https://evil.test/l2.png"]),
    ('<img src="http://evil.test/h.png">', ["http://evil.test/h.png"]),
    ("![d](data:image/png;base64,iVBORw0KGgo=)", ["data:image/png;base64,iVBORw0KGgo="]),
])
def test_assistant_images_become_placeholders(markdown: str, urls: list[str]) -> None:
    out = assistant_markdown(markdown)
    assert "![" not in out and "<img" not in out.lower()
    for url in urls:
        assert url in [i.url for i in images(markdown)]
        assert url in out  # the placeholder names the address


def test_assistant_markdown_keeps_everything_else() -> None:
    answer = "**Bold**, a [link](https://example.org), `code` and a list:\n- one\n- two"
    assert assistant_markdown(answer) == answer
    assert images(answer) == []
    assert images("![a](http://x.test/1.png) and ![b](http://y.test/2.png)") == [
        Image("a", "http://x.test/1.png"), Image("b", "http://y.test/2.png")]

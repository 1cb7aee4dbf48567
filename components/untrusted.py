"""Text that is not ours, shown as text: the one way components put identifiers and server
text into Markdown.

Streamlit renders captions, alerts and markdown as Markdown (links, images, `:red[…]` colours,
`$math$`, emoji codes). A tool name, call id, finish reason, request id, model id, session title,
result caption or error text comes from a model, a server, a file or another user: put into an
f-string it could load a remote image for everyone who opens the page, inject a link or colour
("URGENT … Login again"), or break out of its code span and pass for another tool's name.

- `code(value)`: an identifier as an inline code span that nothing inside can close;
- `text(value)`: prose with every Markdown character escaped (it reads the same, does nothing);
- `assistant_markdown(value)`: the model's own Markdown (kept by design), with remote images
  replaced by a placeholder naming the address; `images(value)` lists them, and
  `render_assistant` offers "Load image" so nothing is fetched until the user asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

from components import state

# C0/C1 controls (but newline and tab) and bidirectional overrides/isolates: they hide or
# reorder what is shown ("invoice\u202egnp.exe").
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_IDENT = 200


def visible(value: object, limit: int | None = None) -> str:
    """`value` as a string without hidden characters (shown as �), cut at `limit`."""
    out = _HIDDEN.sub("\ufffd", "" if value is None else str(value))
    if limit is not None and len(out) > limit:
        out = out[: limit - 1] + "…"
    return out


# What makes Markdown do something, as Streamlit renders it (CommonMark + GFM + its own
# `:colour[…]` directives, emoji codes and `$math$`). Escaped wherever it appears, so plain prose
# ("The server answered 401: check OPENAI_API_KEY (after 3 attempts).") stays as it reads:
_ALWAYS = r"[\\`*~\[\]<>$|]"  # code, emphasis, strike, links/images, autolinks/HTML, math,
#                                  tables
_UNDERSCORE = r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # inside a word it emphasises nothing
_COLON = r":(?=[A-Za-z0-9/])"  # `:red[`, `:smile:`, `https://`
_ENTITY = r"&(?=[#A-Za-z])"
_ESCAPE = re.compile("|".join((_ALWAYS, _UNDERSCORE, _COLON, _ENTITY)))
# At the start of a line: headings, quotes, lists, thematic breaks and setext underlines.
_LINE_START = re.compile(r"(?m)^([ \t]*)([#>+=-]|\d+)([.)]?)")


# GFM turns bare URLs, www. names and e-mail addresses into links after parsing, whatever is
# escaped: they are shown as code spans instead (which nothing links, and which copy cleanly).
_LINKY = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>`]*[^\s<>`.,:;!?)\]'\"]"
                    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def text(value: object, limit: int | None = None) -> str:
    """Prose for a Markdown sink: every character that would make Markdown do something is
    escaped (the page shows the same text), addresses become code spans, hidden characters
    are shown as �."""
    shown = visible(value, limit)
    pieces, last = [], 0
    for match in _LINKY.finditer(shown):
        pieces.append(_escape(shown[last:match.start()]))
        pieces.append(code(match[0], limit=2_000))
        last = match.end()
    pieces.append(_escape(shown[last:]))
    return _LINE_START.sub(_line_start, "".join(pieces))


def _escape(prose: str) -> str:
    return _ESCAPE.sub(lambda m: "\\" + m[0], prose)


def _line_start(match: re.Match[str]) -> str:
    indent, mark, after = match[1], match[2], match[3]
    if mark.isdigit():  # `10.` starts a list, `10\.` does not (digits cannot be escaped)
        return indent + mark + ("\\" + after if after else "")
    return indent + "\\" + mark + after


def code(value: object, limit: int = MAX_IDENT) -> str:
    """An identifier as an inline code span, fenced by more backticks than it contains."""
    raw = visible(value, limit).replace("\n", " ").replace("\r", " ") or " "
    longest = max((len(run) for run in re.findall(r"`+", raw)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if raw[0] in "` " or raw[-1] in "` " else ""
    return f"{fence}{pad}{raw}{pad}{fence}"


# --- Images in the model's Markdown -------------------------------------------------------------

_INLINE_IMAGE = re.compile(
    r"!\[([^\]\n]*)\]\(\s*(?:<([^>\n]*)>|([^)\s]*))"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_REF_IMAGE = re.compile(r"!\[([^\]\n]*)\]\[([^\]\n]*)\]")
_REF_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Image:
    alt: str
    url: str


def _placeholder(image: Image) -> str:
    return f":material/image: image not loaded: {code(image.url, 300)}"


def _split(markdown: str) -> tuple[str, list[Image]]:
    found: list[Image] = []
    definitions = {label.strip().lower(): url for label, url in
                   _REF_DEFINITION.findall(markdown)}

    def inline(match: re.Match[str]) -> str:
        image = Image(match[1], match[2] if match[2] is not None else match[3])
        found.append(image)
        return _placeholder(image)

    def referenced(match: re.Match[str]) -> str:
        label = (match[2] or match[1]).strip().lower()
        image = Image(match[1], definitions.get(label, f"[{label}]"))
        found.append(image)
        return _placeholder(image)

    def html(match: re.Match[str]) -> str:
        src = re.search(r"""src\s*=\s*["']?([^"'\s>]+)""", match[0], re.IGNORECASE)
        image = Image("", src[1] if src else "?")
        found.append(image)
        return _placeholder(image)

    out = _INLINE_IMAGE.sub(inline, markdown)
    out = _REF_IMAGE.sub(referenced, out)
    out = _HTML_IMAGE.sub(html, out)
    # A shortcut reference image `![label]` with a definition.
    for label, url in definitions.items():
        pattern = re.compile(r"!\[" + re.escape(label) + r"\](?![\[(])", re.IGNORECASE)
        if pattern.search(out):
            image = Image(label, url)
            out = pattern.sub(lambda _m, image=image: _placeholder(image), out)
            found.append(image)
    # Whatever image syntax was not recognised above cannot render as one either.
    return out.replace("![", "!\\["), found


def assistant_markdown(markdown: str) -> str:
    """The model's Markdown with every image replaced by a placeholder (nothing is fetched)."""
    return _split(visible(markdown))[0]


def images(markdown: str) -> list[Image]:
    return _split(visible(markdown))[1]


def render_assistant(where: st.delta_generator.DeltaGenerator, markdown: str, key: str) -> None:
    """Draw the model's Markdown; its images stay placeholders until "Load image" is pressed
    (the click is remembered for this message in this browser session)."""
    where.markdown(assistant_markdown(markdown))
    found = images(markdown)
    if not found:
        return
    if state.images_allowed(key):
        for image in found:
            if image.url.startswith(("http://", "https://", "data:image/")):
                where.image(image.url, caption=visible(image.alt, 200) or None)
        return
    hosts = sorted({re.sub(r"^[a-z]+://([^/]+).*$", r"\1", i.url) for i in found})
    where.button(f"Load {len(found)} image{'s' if len(found) != 1 else ''} "
                 f"(from {text(', '.join(hosts), 200)})", key=f"untrusted.images.{key}",
                 icon=":material/image:", on_click=state.allow_images, args=(key,),
                 help="The images come from addresses the model chose; loading one tells that "
                      "server you opened this page.")

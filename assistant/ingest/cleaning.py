"""News-aware cleaning: strip boilerplate and pull out title, date, outlet, URL and language.

    article = clean(raw_document)

What is stripped was found on real articles: photo captions between pipes, "Related" lists whose
items repeat, social follow prompts ("Mời quý độc giả theo dõi VOV.VN trên"), comment counters
("Reactie (0)"), a trailing "Bron: URL" line (kept as the article's URL), bylines such as
"VOV.VN - " and sign-offs such as "— VNS" (kept as the outlet).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlparse

from assistant.documents import Article, RawDocument, section_name
from assistant.languages import alternatives
from assistant.text import detect_language

DATE_MARKER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Each language's words for page furniture are in its file (assistant/languages): every file's are read,
# as a page's furniture need not be in the article's language.
# "Bron: https://...", "Source: ...", "Nguồn: ..." alone on a line.
SOURCE_LINE = re.compile(rf"^\s*\(?(?:{alternatives('page_source_labels')})\s*:\s*(https?://\S+?)\)?\s*$",
                         re.IGNORECASE)
# Lines that are page furniture, not article text: "Comments (12)", "Share this:".
BOILERPLATE_LINE = re.compile(
    rf"^\s*(?:{alternatives('page_comment_words')})\s*\(\d+\)\s*$"
    rf"|^\s*(?:{alternatives('page_share_words')})\s*(?:{alternatives('page_share_objects')})?\s*:?\s*$",
    re.IGNORECASE,
)
# From here to the end the page lists other articles or asks to be followed.
TAIL_MARKER = re.compile(rf"^\s*(?:{alternatives('page_tail_markers')})\s*:?\s*$", re.IGNORECASE)
BYLINE = re.compile(r"^(?P<outlet>[A-Z][A-Za-z0-9]*(?:\.[A-Za-z]{2,})+|[A-Z]{2,10})\s+[-–—]\s+")
SIGN_OFF = re.compile(r"[\s.]*[-–—]?\s*\b(?P<outlet>VNS|AFP|Reuters|AP|ANP|TTXVN|VNA)\s*$")
CAPTION_FRAGMENT = re.compile(r"\|[^|\n]{0,400}\|")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def clean(raw: RawDocument) -> Article:
    """Turn a raw document into a clean Article with its metadata."""
    text = unicodedata.normalize("NFC", raw.text).replace("\r\n", "\n").replace("\r", "\n")
    date = _iso_date(raw.date)
    url = raw.url or ""
    outlet = raw.outlet or ""

    marker = DATE_MARKER.match(text)
    if marker:
        date = date or marker.group(1)
        text = text[marker.end():]

    lines = _drop_tail(text.split("\n"))
    kept: list[str] = []
    seen: set[str] = set()
    for line in lines:
        stripped = line.strip()
        source = SOURCE_LINE.match(stripped)
        if source:
            url = url or source.group(1)
            continue
        if _is_caption(stripped) or BOILERPLATE_LINE.match(stripped):
            continue
        stripped = CAPTION_FRAGMENT.sub(" ", stripped).strip()
        key = re.sub(r"\s+", " ", stripped.lower())
        if len(key) > 20 and key in seen:  # repeated teaser, heading or list item
            continue
        seen.add(key)
        kept.append(re.sub(r"[ \t]+", " ", stripped))

    while kept and not kept[-1]:
        kept.pop()
    while kept and not kept[0]:
        kept.pop(0)
    title = raw.title or ""
    if raw.fmt != "jsonl" and not title:
        title, kept = _take_title(kept)
    while kept and not kept[0]:
        kept.pop(0)
    body = "\n".join(kept)

    byline = BYLINE.match(body)
    if byline:
        outlet = outlet or byline.group("outlet")
        body = body[byline.end():]
    sign_off = SIGN_OFF.search(body[-40:])
    if sign_off:
        outlet = outlet or sign_off.group("outlet")
        body = body[: len(body) - len(body[-40:]) + sign_off.start()].rstrip() + "."
        body = body.rstrip(".") + "."
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    if not outlet and url:
        outlet = urlparse(url).netloc.removeprefix("www.")
    if not title:
        title = _title_from_text(body)

    return Article(
        doc_id=raw.doc_id,
        text=body,
        content_hash=raw.content_hash,
        title=title.strip(),
        url=url,
        lang=(raw.lang or detect_language(body)).lower(),
        outlet=outlet,
        date=date,
        section=section_name(raw.section),
        supersedes=raw.supersedes or "",
        revision=(raw.revision or "correction") if raw.supersedes else "",
    )


def _drop_tail(lines: list[str]) -> list[str]:
    """Cut "Related" lists and follow prompts found in the last part of an article."""
    for number, line in enumerate(lines):
        if number > len(lines) // 3 and TAIL_MARKER.match(line):
            return lines[:number]
    return lines


def _is_caption(line: str) -> bool:
    """A photo caption between pipes: '| Caption (Photo: X) |', sometimes with one pipe only."""
    return len(line) < 600 and (line.startswith("|") or line.endswith("|"))


def _take_title(lines: list[str]) -> tuple[str, list[str]]:
    """The first line is the title when it reads like a headline (short, no final full stop)."""
    for number, line in enumerate(lines):
        if not line:
            continue
        words = len(line.split())
        if words <= 25 and not line.rstrip().endswith((".", "?", "!", ":", ";", ",")):
            return line.lstrip("# ").strip(), lines[number + 1:]
        return "", lines
    return "", lines


def _title_from_text(body: str, limit: int = 90) -> str:
    first = SENTENCE_END.split(body.strip(), maxsplit=1)[0] if body.strip() else ""
    first = first.split("\n", 1)[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def _iso_date(value: str | None) -> str:
    if not value:
        return ""
    match = ISO_DATE.search(value)
    return match.group(0) if match else ""



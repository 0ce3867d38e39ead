"""Render answers, sources, statistics and exports for the chat UI; untrusted text is always escaped.

Everything that comes from documents or the model is text, never markup: it goes through
``html.escape`` before any tag of ours is put around it, and links are kept only when they are
plain http(s) URLs.

    answer_html(answer_dict, turn=0)          # the answer with clickable [n] citation links
    short_title("A long headline …", 80)      # cut at a word boundary, never right after "J.R."
    sources_html(turns)                       # the sources panel: one card per cited passage
    writing_html(evidence_dict, text, turn)   # while the model writes: the articles quoted, its text so far
    related_html(answer_dict)                 # a refusal's closest articles ("Closest coverage …")
    announcement(answer_dict)                 # what a screen reader is told once the answer is complete
    conversation_markdown(turns) / conversation_json(turns)
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

CITATION = re.compile(r"\[(\d{1,3})\]")
# A word a title must not end on when it is cut: an initial ("A.", "J.R.", "U.S.") or a short
# abbreviation ("Mr.", "Dr.", "Gen."), which would read as the end of a sentence.
INITIAL = re.compile(r"^(?:[^\W\d_]\.)+$|^[^\W\d_][^\W\d_]{0,2}\.$")
TITLE_LIMIT = 80  # characters of a title in a source's one-line summary
DANGLING = ",;:–—-·|/"

# Example questions made from a document's title, in the document's language.
EXAMPLE_TEMPLATES = {
    "en": "What does the article “{title}” report?",
    "nl": "Wat meldt het artikel “{title}”?",
    "de": "Was berichtet der Artikel „{title}“?",
    "fr": "Que rapporte l’article « {title} » ?",
    "vi": "Bài báo “{title}” đưa tin gì?",
}

SOURCES_HEADING = '<h3 class="nwa-sources-title">Sources</h3>'
EMPTY_SOURCES = (
    f'<div class="nwa-sources">{SOURCES_HEADING}<p class="nwa-hint">Sources appear here. '
    "Click a citation such as [1] in an answer to see its passage.</p></div>"
)
RELATED_HEADING = "Closest coverage (not an answer)"


def esc(value: object) -> str:
    """Text as HTML text: <, >, &, quotes escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) link, else None (javascript:, data: ... are refused)."""
    if not isinstance(url, str) or not url.strip():
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme.lower() in ("http", "https") and parsed.netloc:
        return url.strip()
    return None


def is_initial(word: str) -> bool:
    """Whether ``word`` is an initial or a short abbreviation ("A.", "J.R.", "Dr."), not a sentence end."""
    return bool(INITIAL.match(word)) and not word[:-1].islower()


def short_title(title: object, limit: int = TITLE_LIMIT) -> str:
    """The title in at most ``limit`` characters (plus "…"), cut only between words.

    A title that was already cut upstream (it ends in "…") is treated the same way. The cut never
    leaves an initial or abbreviation ("A.", "J.R.", "Dr.") or a dangling dash or comma at the end,
    so "Talks with J.R. Smith on trade" never shows as "Talks with J.R.…". A title with no space
    before ``limit`` (one very long word) is cut inside that word.
    """
    text = " ".join(str(title or "").split())
    was_cut = text.endswith("…")
    text = text.rstrip("…").rstrip()
    if len(text) <= limit and not was_cut:
        return text
    words = text[:limit + 1].split(" ")
    if len(text) > limit:
        words.pop()  # a part-word, or "" when the cut fell on a space
    while words:
        words[-1] = words[-1].rstrip(DANGLING)
        if words[-1] and not is_initial(words[-1]):
            break
        words.pop()
    return (" ".join(words) or text[:limit]) + "…"


def source_anchor(turn: int, number: int) -> str:
    """The element id of the card of source ``number`` of turn ``turn``."""
    return f"nwa-src-{turn}-{number}"


def _lines(escaped: str) -> str:
    return escaped.replace("\n", "<br>")


def answer_html(answer: Mapping[str, Any], turn: int | None) -> str:
    """An answer as HTML: its text escaped, each [n] of a cited source a link to that source's card.

    ``turn`` is the turn's position in the conversation; None while the answer is still streaming
    (then citations stay plain text).
    """
    sources = {int(s["number"]): s for s in answer.get("sources") or []}

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        source = sources.get(number)
        if turn is None or source is None:
            return match.group(0)
        label = f"Source {number}: {source.get('title') or source.get('doc_id')}"
        return (f'<a class="nwa-cite" href="#{source_anchor(turn, number)}" title="{esc(label)}">'
                f"[{number}]</a>")

    body = _lines(CITATION.sub(link, esc(answer.get("answer", ""))))
    if turn is not None:
        for key in ("revision_label", "as_of_label"):  # "Corrected on …", "As of …"
            if answer.get(key):
                body += f'<br><small class="nwa-as-of">{esc(answer[key])}</small>'
    if answer.get("notice"):
        body += f'<br><small class="nwa-notice">{esc(answer["notice"])}</small>'
    return body + related_html(answer)


def related_html(answer: Mapping[str, Any]) -> str:
    """A refusal's closest articles (``related``; none when the field is missing): coverage of the topic
    that does not answer, under its own heading, never numbered and never a citation."""
    items = []
    for source in answer.get("related") or []:
        title = esc(short_title(source.get("title") or source.get("doc_id")))
        url = safe_url(source.get("url"))
        shown = (f'<a class="nwa-link" href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
                 f"{title}</a>") if url else f'<span class="nwa-related-title">{title}</span>'
        meta = " · ".join(esc(v) for v in (source.get("outlet"), source.get("date")) if v)
        items.append(f"<li>{shown}" + (f' <span class="nwa-meta">{meta}</span>' if meta else "") + "</li>")
    if not items:
        return ""
    return (f'<div class="nwa-related"><p class="nwa-related-label">{esc(RELATED_HEADING)}</p>'
            f'<ul>{"".join(items)}</ul></div>')


def announcement(answer: Mapping[str, Any]) -> str:
    """The finished answer as one sentence for screen readers: its text, and how many sources it has."""
    count = len(answer.get("sources") or [])
    text = " ".join(str(answer.get("answer") or "").split())
    return f"Answer: {text}" + (f" {count} source{'' if count == 1 else 's'}." if count else "")


EVIDENCE_LABEL = "From the articles, while the model writes its answer (not the answer yet):"
EVIDENCE_NONE = ("No sentence of the articles answers this directly; the model is reading the sources "
                 "(not the answer yet).")
WRITING = "Writing the answer…"


def writing_html(evidence: Mapping[str, Any], text: str, turn: int) -> str:
    """A turn whose model is still writing: the articles quoted (``evidence``, a QuotedEvidence as a
    dict, its citations linked to the pending sources of turn ``turn``), marked as not the answer,
    then the model's text so far (or that it is writing)."""
    quote = EVIDENCE_NONE if evidence.get("abstained") else answer_html(evidence, turn)
    label = "" if evidence.get("abstained") else f'<p class="nwa-evidence-label">{esc(EVIDENCE_LABEL)}</p>'
    written = _lines(esc(text)) if text.strip() else esc(WRITING)
    return (f'<div class="nwa-evidence" aria-label="Quoted from the articles; not the answer">{label}'
            f'<div class="nwa-evidence-quote">{quote}</div></div>'
            f'<div class="nwa-writing" aria-busy="true">{written}</div>')


def question_html(question: str) -> str:
    return _lines(esc(question))


def error_html(message: str) -> str:
    return f'<div class="nwa-error" role="alert">{_lines(esc(message))}</div>'


def _sentence_pattern(sentence: str) -> re.Pattern[str] | None:
    words = sentence.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words)) if words else None


def highlight(passage: str, supporting: Sequence[str]) -> str:
    """The passage as escaped HTML with each supporting sentence in <mark> (whitespace-tolerant)."""
    spans: list[tuple[int, int]] = []
    for sentence in supporting:
        pattern = _sentence_pattern(sentence)
        match = pattern.search(passage) if pattern else None
        if match:
            spans.append(match.span())
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(esc(passage[position:start]))
        out.append(f'<mark class="nwa-support">{esc(passage[start:end])}</mark>')
        position = end
    out.append(esc(passage[position:]))
    return _lines("".join(out))


def source_card(source: Mapping[str, Any], turn: int) -> str:
    """One source: number, title, outlet, date, link, and the passage with its supporting sentence(s)."""
    number = int(source["number"])
    meta = " · ".join(esc(v) for v in (source.get("outlet"), source.get("date"), source.get("lang")) if v)
    meta_html = f' <span class="nwa-meta">{meta}</span>' if meta else ""
    url = safe_url(source.get("url"))
    title = str(source.get("title") or source.get("doc_id") or "")
    shown = short_title(title)
    full_title = f"<dt>Title</dt><dd>{esc(title)}</dd>" if shown != title else ""
    if url:
        link = (f'<a class="nwa-link" href="{esc(url)}" target="_blank" '
                f'rel="noopener noreferrer nofollow">{esc(url)}</a>')
    else:
        link = '<span class="nwa-nolink">No link to the original article</span>'
    return (
        f'<details class="nwa-source" id="{source_anchor(turn, number)}">'
        f'<summary><span class="nwa-num">[{number}]</span> '
        f'<span class="nwa-title" title="{esc(title)}">{esc(shown)}</span>'
        f"{meta_html}</summary>"
        f'<div class="nwa-body">'
        f'<dl class="nwa-fields">{full_title}'
        f'<dt>Outlet</dt><dd>{esc(source.get("outlet") or "unknown")}</dd>'
        f'<dt>Date</dt><dd>{esc(source.get("date") or "unknown")}</dd>'
        f'<dt>Document</dt><dd>{esc(source.get("doc_id"))}</dd>'
        f"<dt>Link</dt><dd>{link}</dd></dl>"
        f'<blockquote class="nwa-passage">'
        f'{highlight(str(source.get("passage") or ""), source.get("supporting") or [])}</blockquote>'
        f"</div></details>"
    )


def sources_html(turns: Sequence[Mapping[str, Any]], pending: Mapping[str, Any] | None = None) -> str:
    """The sources panel: the latest turn's sources first and open; earlier turns folded below.

    ``pending``: the evidence of a turn still being written (its retrieved sources), shown on top.
    """
    if not turns and pending is None:
        return EMPTY_SOURCES
    sections = [SOURCES_HEADING]
    if pending is not None:
        cards = "".join(source_card(s, len(turns)) for s in pending.get("sources") or [])
        sections.append(
            f'<details class="nwa-pending" open><summary>Sources found for “{esc(pending.get("question"))}” '
            f"(the answer is being written)</summary>{cards}</details>"
        )
    for turn in range(len(turns) - 1, -1, -1):
        answer = turns[turn]["answer"]
        cards = "".join(source_card(s, turn) for s in answer.get("sources") or [])
        if not cards:
            cards = ('<p class="nwa-hint">No sources: the articles do not answer this question.</p>'
                     + related_html(answer))
        heading = f'Sources for “{esc(turns[turn]["question"])}”'
        latest = turn == len(turns) - 1 and pending is None
        sections.append(
            f'<details class="nwa-turn" data-turn="{turn}"{" open" if latest else ""}>'
            f"<summary>{heading}</summary>{cards}</details>"
        )
    return f'<div class="nwa-sources">{"".join(sections)}</div>'


def stats_html(stats: Mapping[str, Any] | None, feedback: Mapping[str, int] | None,
               problem: str = "", feeds: Sequence[Mapping[str, Any]] = ()) -> str:
    """Index statistics (and feedback counts, and each feed's last sync) as a small escaped table."""
    if problem or stats is None:
        return error_html(problem or "The index statistics are not available.")
    date_range = stats.get("date_range")
    rows = [
        ("Documents", stats.get("documents")),
        ("Passages (chunks)", stats.get("chunks")),
        ("Languages", ", ".join(f"{k} ({v})" for k, v in (stats.get("languages") or {}).items())),
        ("Outlets", ", ".join(f"{k} ({v})" for k, v in (stats.get("outlets") or {}).items())),
        ("Dates", f"{date_range[0]} – {date_range[1]}" if date_range else "unknown"),
        ("Embedding model", stats.get("embedding_model")),
    ]
    if feedback is not None:
        rows.append(("Feedback", f"{feedback.get('up', 0)} helpful · {feedback.get('down', 0)} not helpful"))
    for feed in feeds:
        status = str(feed.get("status")) + (f": {feed['error']}" if feed.get("error") else "")
        checked = feed.get("checked_at") or "never checked"
        rows.append((f"Feed {feed.get('title') or feed.get('url')}",
                     f"{status} · {checked} · {feed.get('articles_added', 0)} articles added"))
    body = "".join(f"<tr><th scope=row>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="nwa-stats">{body}</table>'


def example_questions(documents: Sequence[Mapping[str, str]], limit: int = 4) -> list[str]:
    """Questions built from real headlines of the corpus, newest first, languages taking turns.

    ``documents`` are {"title", "lang", "date", "doc_id", "opening"} ("opening": the start of the
    text). A title that is only the opening of the text (no headline was found) or is very long
    is used only when the corpus has no proper headline at all.
    """
    def usable(doc: Mapping[str, str]) -> bool:
        title = " ".join((doc.get("title") or "").split()).rstrip("…")
        opening = " ".join((doc.get("opening") or "").split())
        return bool(title) and len(title) <= 100 and not opening.startswith(title)

    ordered = sorted(documents, key=lambda d: (d.get("date") or "", d.get("doc_id") or ""), reverse=True)
    candidates = [d for d in ordered if usable(d)] or [d for d in ordered if d.get("title")]
    by_lang: dict[str, list[Mapping[str, str]]] = {}
    for doc in candidates:
        by_lang.setdefault(doc.get("lang") or "en", []).append(doc)
    questions: list[str] = []
    while len(questions) < limit and any(by_lang.values()):
        for lang in sorted(by_lang):
            if by_lang[lang] and len(questions) < limit:
                doc = by_lang[lang].pop(0)
                template = EXAMPLE_TEMPLATES.get(lang, EXAMPLE_TEMPLATES["en"])
                questions.append(template.format(title=_question_title(doc.get("title") or "")))
    return questions


def _question_title(title: str) -> str:
    """A title to quote in a question: shortened at a word, without a final "…" or full stop
    (but "J.R." keeps its dot)."""
    title = short_title(title, 100)
    if title.endswith("…"):
        return title[:-1].rstrip()
    if title.endswith(".") and not is_initial(title.rsplit(" ", 1)[-1]):
        return title[:-1].rstrip()
    return title


def _markdown_text(text: object) -> str:
    """Text for a Markdown file: HTML-escaped, so a Markdown viewer shows it and runs nothing."""
    return html.escape("" if text is None else str(text), quote=False)


def conversation_markdown(turns: Sequence[Mapping[str, Any]], conversation_id: str = "") -> str:
    """The conversation as Markdown: each question, answer and its numbered sources."""
    lines = ["# Conversation with the news assistant", ""]
    if conversation_id:
        lines += [f"Conversation id: `{conversation_id}`", ""]
    for number, turn in enumerate(turns, start=1):
        answer = turn["answer"]
        lines += [f"## {number}. {_markdown_text(turn['question'])}", "",
                  _markdown_text(answer.get("answer")), ""]
        if answer.get("notice"):
            lines += [f"*{_markdown_text(answer['notice'])}*", ""]
        for source in answer.get("sources") or []:
            details = ", ".join(_markdown_text(v) for v in (source.get("outlet"), source.get("date")) if v)
            url = safe_url(source.get("url"))
            lines.append(f"- [{source['number']}] {_markdown_text(source.get('title'))}"
                         f"{f' ({details})' if details else ''}{f' <{url}>' if url else ''}"
                         f" — `{_markdown_text(source.get('doc_id'))}`")
            for sentence in source.get("supporting") or []:
                lines.append(f"  > {_markdown_text(sentence)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def conversation_json(turns: Sequence[Mapping[str, Any]], conversation_id: str = "") -> str:
    """The conversation as JSON: {"conversation_id", "turns": [{"turn_id", "question", "answer"}]}."""
    payload = {
        "conversation_id": conversation_id,
        "turns": [{"turn_id": t.get("turn_id"), "question": t["question"], "answer": t["answer"]}
                  for t in turns],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)

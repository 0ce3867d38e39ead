"""The UI's Editors page (behind the admin token): what readers asked and could not get, the share of
questions answered and refused each day, readers' feedback each day, and the articles answers cite most,
with links to the articles. Charts are Gradio's own (Vega-Lite, served with the page: nothing is fetched
from elsewhere), each with its figures as a table beside it for those who would rather read.

    tab = editors_tab(settings.security)           # inside gr.Blocks, in a gr.Tab("Editors")
    wire_editors(tab, desk, handlers.admin_refusal, settings.security)  # the Admin tab's one token check
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.config import SecuritySettings
from assistant.desk import Desk, article_fields
from assistant.web.ui_render import error_html, esc, safe_url

DAYS = 30
WRONG_TOKEN = "Wrong admin token."  # what the UI's admin check answers for a wrong token (ui.Handlers)
AdminRefusal = Callable[[str, "gr.Request | None"], "str | None"]  # why a token is refused; None: admin


@dataclass(frozen=True)
class EditorsTab:
    token: gr.Textbox
    show: gr.Button
    summary: gr.HTML
    outcomes: gr.BarPlot
    feedback: gr.BarPlot
    figures: gr.HTML
    queue: gr.HTML
    topics: gr.HTML
    export: gr.DownloadButton


def editors_tab(settings: SecuritySettings) -> EditorsTab:
    enabled = settings.admin_token is not None
    gr.Markdown("### What readers asked\nThe questions readers could not get answered (refused, or given a "
                "thumbs down), grouped with the same question asked other ways and in other languages; "
                "how many questions were answered each day; and what readers come for. Enter the admin token "
                "to see them." if enabled else
                "The Editors page is **disabled**: no admin token is configured. Set `ADMIN_TOKEN` (a long "
                "random secret) in `.env` or the environment and restart the server.")
    with gr.Row():
        token = gr.Textbox(label="Admin token", type="password", interactive=enabled,
                           elem_id="nwa-desk-token", scale=3)
        show = gr.Button("Show the desk", variant="primary", interactive=enabled, elem_id="nwa-desk-show",
                         scale=1, min_width=140)
    summary = gr.HTML("", elem_id="nwa-desk-summary")
    with gr.Row(elem_id="nwa-desk-charts"):
        outcomes = gr.BarPlot(None, x="day", y="questions", color="outcome", title="Questions per day",
                              color_map={"answered": "#1d4ed8", "refused": "#b45309"}, x_label_angle=-45,
                              elem_id="nwa-desk-outcomes", min_width=300, visible=False,
                              caption="Answered and refused questions per day (UTC), the last 30 days.")
        feedback = gr.BarPlot(None, x="day", y="ratings", color="rating", title="Feedback per day",
                              color_map={"thumbs up": "#15803d", "thumbs down": "#b91c1c"}, x_label_angle=-45,
                              elem_id="nwa-desk-feedback", min_width=300, visible=False,
                              caption="Readers' ratings per day (UTC), the last 30 days.")
    figures = gr.HTML("", elem_id="nwa-desk-figures")
    queue = gr.HTML("", elem_id="nwa-desk-queue")
    export = gr.DownloadButton("Download the questions (CSV)", interactive=False, size="sm",
                               elem_id="nwa-desk-export", scale=0, min_width=220)
    topics = gr.HTML("", elem_id="nwa-desk-topics")
    return EditorsTab(token, show, summary, outcomes, feedback, figures, queue, topics, export)


def article_link(source: dict[str, Any]) -> str:
    title = esc(source.get("title") or source.get("doc_id"))
    url = safe_url(source.get("url"))
    return (f'<a class="nwa-link" href="{esc(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
            if url else f'<span title="{esc(source.get("doc_id"))}">{title}</span>')


def queue_html(items: list[dict[str, Any]], answered: dict[str, dict[str, Any]]) -> str:
    """The queue as a table: the question (and how else it was asked), times asked, languages, when, the
    closest articles, and the articles that answer it now."""
    if not items:
        return '<p class="nwa-hint">No question is waiting: every question asked was answered.</p>'
    rows = []
    for item in items:
        variants = [v for v in item["variants"] if v != item["question"]]
        also = f'<div class="nwa-meta">Also asked: {esc(" · ".join(variants[:4]))}</div>' if variants else ""
        closest = "<br>".join(article_link(s) for s in item["closest"][:3]) or "—"
        answers = "<br>".join(article_link(answered.get(doc, {"doc_id": doc}))
                              for doc in item["answered_by"]) or "—"
        rows.append(f"<tr><th scope=row>{esc(item['question'])}{also}</th><td>{item['count']}</td>"
                    f"<td>{esc(', '.join(item['languages']))}</td><td>{esc(item['last_asked'][:10])}</td>"
                    f"<td>{closest}</td><td>{answers}</td></tr>")
    return ('<div class="nwa-desk-wrap" tabindex="0" role="region" aria-label="Questions readers asked">'
            '<table class="nwa-desk"><caption>Questions readers could not get answered, most asked '
            "first</caption><thead><tr><th scope=col>Question</th><th scope=col>Asked</th>"
            "<th scope=col>Languages</th><th scope=col>Last asked</th><th scope=col>Closest articles</th>"
            f"<th scope=col>Answered by</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def figures_html(outcomes: list[dict[str, Any]], feedback: list[dict[str, Any]]) -> str:
    """The charts' figures as a table (days with anything to count)."""
    ratings = {day["day"]: day for day in feedback}
    rows = "".join(
        f"<tr><th scope=row>{esc(day['day'])}</th><td>{day['answered']}</td><td>{day['refused']}</td>"
        f"<td>{ratings[day['day']]['helpful']}</td><td>{ratings[day['day']]['not_helpful']}</td></tr>"
        for day in outcomes if day["answered"] or day["refused"] or ratings[day["day"]]["helpful"]
        or ratings[day["day"]]["not_helpful"])
    return ("<details><summary>The charts' figures as a table</summary><table class=\"nwa-desk\"><thead><tr>"
            "<th scope=col>Day</th><th scope=col>Answered</th><th scope=col>Refused</th>"
            f"<th scope=col>Thumbs up</th><th scope=col>Thumbs down</th></tr></thead><tbody>{rows}</tbody>"
            "</table></details>")


def topics_html(top: list[dict[str, Any]]) -> str:
    if not top:
        return "<h4>Top topics</h4><p class=\"nwa-hint\">No answer has cited an article yet.</p>"
    items = "".join(f"<li>{article_link(a)} <span class=\"nwa-meta\">cited by {a['answers']} "
                    f"answer{'' if a['answers'] == 1 else 's'}</span></li>" for a in top)
    return f"<h4>Top topics: the articles answers cite most</h4><ol>{items}</ol>"


def summary_html(outcomes: list[dict[str, Any]], items: list[dict[str, Any]]) -> str:
    answered = sum(day["answered"] for day in outcomes)
    refused = sum(day["refused"] for day in outcomes)
    asked = answered + refused
    share = f"{100 * answered / asked:.0f}% answered" if asked else "no questions yet"
    return (f'<p class="nwa-desk-summary">Last {DAYS} days: {asked} question{"" if asked == 1 else "s"}, '
            f"{share}; {len(items)} question{'' if len(items) == 1 else 's'} waiting for an article.</p>")


def desk_view(desk: Desk | None, admin_refusal: AdminRefusal, settings: SecuritySettings,
              exports: Path) -> Any:
    """The handler of "Show the desk": everything on the page, for the admin only."""
    hidden = gr.BarPlot(visible=False)

    def show(token: str, request: gr.Request) -> tuple[Any, ...]:
        refusal: str | None = ""
        if settings.admin_token is None or desk is None:
            refusal = "The Editors page needs ADMIN_TOKEN on the server."
        else:
            refusal = admin_refusal(token, request)
            if refusal == WRONG_TOKEN:
                refusal = f"{WRONG_TOKEN} Enter the ADMIN_TOKEN to see the desk."
        if refusal or desk is None:
            return (error_html(refusal), hidden, hidden, "", "", "",
                    gr.DownloadButton(value=None, interactive=False))
        outcomes, feedback = desk.outcomes(DAYS), desk.feedback(DAYS)
        items = desk.queue.items("all")
        waiting = [item for item in items if not item["answered_by"]]
        answered_ids = sorted({doc for item in items for doc in item["answered_by"]})
        answered = {a["doc_id"]: a for a in article_fields(desk.assistant, answered_ids)}
        asked = pd.DataFrame([{"day": d["day"][5:], "questions": d[kind], "outcome": kind}
                              for d in outcomes for kind in ("answered", "refused")])
        rated = pd.DataFrame([{"day": d["day"][5:], "ratings": d[key], "rating": label} for d in feedback
                              for key, label in (("helpful", "thumbs up"), ("not_helpful", "thumbs down"))])
        csv_file = exports / "questions.csv"
        csv_file.write_text(desk.queue.as_csv("all"), encoding="utf-8")
        return (summary_html(outcomes, waiting), gr.BarPlot(value=asked, visible=True),
                gr.BarPlot(value=rated, visible=True), figures_html(outcomes, feedback),
                queue_html(items, answered), topics_html(desk.top_articles(DAYS)),
                gr.DownloadButton(value=str(csv_file), interactive=True))

    return show


def wire_editors(tab: EditorsTab, desk: Desk | None, admin_refusal: AdminRefusal,
                 settings: SecuritySettings) -> None:
    exports = Path(tempfile.mkdtemp(prefix="news-assistant-desk-"))
    show = desk_view(desk, admin_refusal, settings, exports)
    outputs = [tab.summary, tab.outcomes, tab.feedback, tab.figures, tab.queue, tab.topics, tab.export]
    tab.show.click(show, tab.token, outputs, api_visibility="undocumented", concurrency_limit=2,
                   concurrency_id="desk")
    tab.token.submit(show, tab.token, outputs, api_visibility="undocumented", concurrency_limit=2,
                     concurrency_id="desk")

"""The chat UI's look: theme, CSS, the citation-click script, and the page in named pieces.

The reader's page (``chat_tab``): the conversation and the question box, beside them the sources and
the filters, then the action buttons (below the sources on a phone). The Admin tab (``admin_tab``):
upload and the index statistics, both behind the admin token. No events here: ``assistant.ui``
wires these components to its event functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.config import Settings
from assistant.web.ui_render import EMPTY_SOURCES

UPLOAD_TYPES = [".txt", ".md", ".html", ".pdf", ".jsonl"]
ANY = ""

STYLE = """<style>
.nwa-cite{font-weight:600;text-decoration:none;padding:0 .1em;border-radius:3px;
  color:var(--color-accent, #2563eb);cursor:pointer}
.nwa-cite:hover,.nwa-cite:focus{text-decoration:underline;background:var(--color-accent-soft, #dbeafe)}
.nwa-notice{font-size:.85em;opacity:.8;font-style:italic;margin-top:.4em}
.nwa-as-of{font-size:.85em;margin-top:.4em}
.nwa-error{color:var(--error-text-color, #b91c1c)}
.nwa-evidence{opacity:.8;font-size:.92em;border-left:3px solid var(--border-color-accent, #999);
  padding:.1em .7em;margin-bottom:.6em}
.nwa-evidence-label{font-style:italic;margin:0 0 .3em}
.nwa-writing{font-style:normal}
.nwa-pending>summary{font-weight:600;cursor:pointer;margin:.3em 0}
.nwa-sources .nwa-hint{opacity:.75;font-size:.9em}
.nwa-turn>summary{font-weight:600;cursor:pointer;margin:.3em 0}
.nwa-source{border:1px solid var(--border-color-primary, #ddd);border-radius:8px;
  padding:.4em .6em;margin:.4em 0;background:var(--block-background-fill, #fff)}
.nwa-source>summary{cursor:pointer}
.nwa-source.nwa-active{outline:2px solid var(--color-accent, #2563eb);outline-offset:1px}
.nwa-num{font-weight:700}
.nwa-meta{opacity:.7;font-size:.85em}
.nwa-fields{display:grid;grid-template-columns:max-content 1fr;gap:.1em .8em;font-size:.85em;margin:.5em 0}
.nwa-fields dt{font-weight:600}
.nwa-fields dd{margin:0;overflow-wrap:anywhere}
.nwa-passage{margin:.4em 0;padding:.3em .7em;border-left:3px solid var(--border-color-accent, #999);
  font-size:.9em;white-space:normal;max-height:18em;overflow:auto}
.nwa-support{background:#fde68a;color:#1f2937;padding:0 .1em}
.nwa-sources{padding-top:1.4em}
.nwa-stats th{text-align:left;padding-right:1em;font-weight:600}
.nwa-sources,.nwa-sources summary,.nwa-title{overflow-wrap:anywhere}
#nwa-chat .wrapper{display:flex;flex-direction:column}
#nwa-chat .icon-button-wrapper.top-panel{position:static;align-self:flex-end;flex:none}
#nwa-chat .bubble-wrap{flex:1 1 auto;min-height:0}
#nwa-chat .message{min-width:0;overflow-wrap:anywhere}
.nwa-sources-title{font-size:1rem;font-weight:600;margin:0 0 .5em}
.nwa-related{border:1px dashed #8a93a0;border-radius:8px;padding:.4em .7em;margin-top:.7em;font-size:.92em;
  background:var(--background-fill-secondary, #f3f4f6)}
.nwa-related-label{font-weight:600;font-size:.85em;text-transform:uppercase;letter-spacing:.03em;
  margin:0 0 .2em}
.nwa-related ul{margin:0;padding-left:1.1em}
.nwa-link{color:var(--link-text-color, #1d4ed8);text-decoration:underline}
/* focus you can see (3:1 and more against the page), on every control */
.gradio-container :focus-visible,#nwa-question textarea:focus{outline:3px solid #1d4ed8 !important;
  outline-offset:2px !important}
/* tap targets of 24 px at least: the chat's icon buttons, the sources' summaries, the citations */
#nwa-chat button.icon-button{min-width:28px;min-height:28px}
#nwa-chat .message-buttons,#nwa-chat .message-buttons-right,#nwa-chat .message-buttons-left{position:static;
  display:flex;gap:4px;margin:2px 0 4px}
.nwa-source>summary,.nwa-turn>summary,.nwa-pending>summary{min-height:24px;padding:2px 0}
.nwa-cite{display:inline-block;min-width:24px;min-height:24px;text-align:center}
#nwa-export-md,#nwa-export-json,#nwa-new{color:var(--body-text-color, #1f2937) !important}
.nwa-desk-wrap{overflow-x:auto}
.nwa-desk{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}
.nwa-desk th,.nwa-desk td{border-bottom:1px solid var(--border-color-primary, #ddd);padding:.35em .5em;
  text-align:left;vertical-align:top;overflow-wrap:anywhere}
.nwa-desk thead th{overflow-wrap:normal;white-space:nowrap}
.nwa-desk caption{text-align:left;font-weight:600;padding:.3em 0}
.nwa-desk tbody th{font-weight:500}
.nwa-desk-summary{font-size:1.05em;font-weight:600}
#nwa-announce{position:absolute !important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
  white-space:nowrap;border:0;padding:0}
@media (prefers-reduced-motion: reduce){*{scroll-behavior:auto !important;animation:none !important;
  transition:none !important}}
</style>"""

# Runs once per page: a click (or Enter) on a citation [n] opens that source's card; the conversation is
# no live region (Gradio's would read every streamed word): the finished answer is said once, by
# #nwa-announce; example questions are a group of buttons, not a list; a message's own HTML is not read
# out as its label; a new question is scrolled to the top of the chat (and of the screen), its answer
# growing below it.
CITATION_SCRIPT = """
if (!window.__nwaCitations) {
  window.__nwaCitations = true;
  let asked = 0;
  const reduced = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const scroller = el => { for (let n = el.parentElement; n; n = n.parentElement) {
      const style = getComputedStyle(n);
      if (/(auto|scroll)/.test(style.overflowY) && n.scrollHeight > n.clientHeight) return n; }
    return null; };
  const showQuestion = row => {
    const box = scroller(row);
    if (box) box.scrollTop += row.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    const top = row.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120)
      window.scrollBy({top: top - 8, behavior: reduced() ? 'auto' : 'smooth'});
  };
  const tidy = () => {
    for (const log of document.querySelectorAll('#nwa-chat [role=log], #nwa-chat .bubble-wrap')) {
      if (log.getAttribute('role') !== 'region') log.setAttribute('role', 'region');
      if (log.getAttribute('aria-live') !== 'off') log.setAttribute('aria-live', 'off'); }
    for (const list of document.querySelectorAll('#nwa-chat .examples[role=list]')) {
      list.setAttribute('role', 'group'); list.setAttribute('aria-label', 'Example questions'); }
    for (const message of document.querySelectorAll('#nwa-chat [data-testid=bot][aria-label], '
                                                     + '#nwa-chat [data-testid=user][aria-label]'))
      message.removeAttribute('aria-label');
    const announce = document.getElementById('nwa-announce');
    if (announce && announce.getAttribute('role') !== 'status') {
      announce.setAttribute('role', 'status'); announce.setAttribute('aria-live', 'polite');
      announce.setAttribute('aria-atomic', 'true'); }
    const questions = document.querySelectorAll('#nwa-chat [data-testid=user]');
    if (questions.length > asked) {
      const row = questions[questions.length - 1].closest('.message-row') || questions[questions.length - 1];
      requestAnimationFrame(() => showQuestion(row));
    }
    asked = questions.length;
  };
  new MutationObserver(tidy).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                     attributeFilter: ['aria-live', 'role', 'aria-label']});
  tidy();
  document.addEventListener('click', function (event) {
    const link = event.target instanceof Element ? event.target.closest('a.nwa-cite') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const card = document.getElementById((link.getAttribute('href') || '').slice(1));
    if (!card) return;
    for (let d = card.parentElement && card.parentElement.closest('details'); d;
         d = d.parentElement && d.parentElement.closest('details')) { d.open = true; }
    card.open = true;
    document.querySelectorAll('.nwa-source.nwa-active').forEach(function (el) {
      el.classList.remove('nwa-active');
    });
    card.classList.add('nwa-active');
    card.scrollIntoView({block: 'nearest'});
    const summary = card.querySelector('summary');
    if (summary) { summary.setAttribute('tabindex', '-1'); summary.focus({preventScroll: true}); }
  }, true);
}
"""


@dataclass(frozen=True)
class ChatTab:
    """The reader's page: conversation, question, sources and filters, then the action buttons."""

    chatbot: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    sources: gr.HTML
    lang: gr.Dropdown
    outlet: gr.Dropdown
    date_from: gr.Textbox
    date_to: gr.Textbox
    dates_hint: gr.Markdown
    announce: gr.HTML
    new: gr.Button
    export_md: gr.DownloadButton
    export_json: gr.DownloadButton


@dataclass(frozen=True)
class AdminTab:
    """Upload and indexing, and the statistics (both behind the admin token)."""

    token: gr.Textbox
    uploads: gr.File
    upload: gr.Button
    result: gr.HTML
    show_stats: gr.Button
    stats: gr.HTML


def theme() -> gr.themes.Base:
    """Gradio's default theme in neutral greys (no brand orange), in the system's fonts (none fetched)."""
    return gr.themes.Default(
        primary_hue=gr.themes.colors.slate, secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.gray,
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def mount_options() -> dict[str, Any]:
    """What gr.mount_gradio_app needs besides the Blocks: no developer footer, the neutral theme."""
    return {"footer_links": [], "theme": theme()}


def header() -> None:
    gr.Markdown("## News assistant\nAsk about the news in your own language. Answers quote the "
                "articles; click a citation such as **[1]** to see its passage.", elem_id="nwa-intro")


def conversation_column(settings: Settings, examples: list[dict[str, str]]) -> tuple[Any, ...]:
    """The chat and the question box: (chatbot, question, ask)."""
    chatbot = gr.Chatbot(
        label="Conversation", show_label=False, elem_id="nwa-chat", height=480, render_markdown=False,
        autoscroll=False,  # the page's script keeps a new question at the top, its answer below it
        sanitize_html=True, allow_tags=False, latex_delimiters=[],
        feedback_options=("Like", "Dislike"), buttons=["copy", "copy_all"],
        placeholder="Ask a question about the articles, or pick one of these examples.",
        examples=examples,
    )
    with gr.Row(elem_id="nwa-ask-row"):
        question = gr.Textbox(show_label=False, placeholder="Ask about the news…", scale=5, min_width=160,
                              elem_id="nwa-question", max_length=settings.max_question_chars)
        ask = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="nwa-ask")
    return chatbot, question, ask


def sources_column(langs: list[tuple[str, str]], outlets: list[tuple[str, str]],
                   date_hint: str) -> tuple[Any, ...]:
    """The sources panel and the filters: (sources, lang, outlet, date_from, date_to, dates_hint)."""
    sources = gr.HTML(EMPTY_SOURCES, label="Sources", show_label=False, container=True,
                      elem_id="nwa-sources", head=STYLE, js_on_load=CITATION_SCRIPT, max_height=640)
    with gr.Accordion("Filters", open=False, elem_id="nwa-filters"):
        lang = gr.Dropdown(langs, value=ANY, label="Language", elem_id="nwa-lang")
        outlet = gr.Dropdown(outlets, value=ANY, label="Outlet", elem_id="nwa-outlet")
        with gr.Row():
            date_from = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="nwa-from")
            date_to = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="nwa-to")
        dates_hint = gr.Markdown(date_hint)
    return sources, lang, outlet, date_from, date_to, dates_hint


def action_row() -> tuple[Any, ...]:
    """New conversation and the exports, after the sources (so on a phone they come below them)."""
    with gr.Row(elem_id="nwa-actions"):
        new = gr.Button("New conversation", size="sm", scale=0, min_width=140, elem_id="nwa-new")
        export_md = gr.DownloadButton("Export Markdown", interactive=False, size="sm", scale=0, min_width=140,
                                      elem_id="nwa-export-md")
        export_json = gr.DownloadButton("Export JSON", interactive=False, size="sm", scale=0, min_width=140,
                                        elem_id="nwa-export-json")
    return new, export_md, export_json


def chat_tab(settings: Settings, examples: list[dict[str, str]], langs: list[tuple[str, str]],
             outlets: list[tuple[str, str]], date_hint: str) -> ChatTab:
    with gr.Row(elem_id="nwa-main"):
        with gr.Column(scale=3, min_width=320):
            chatbot, question, ask = conversation_column(settings, examples)
        with gr.Column(scale=2, min_width=320):
            sources, lang, outlet, date_from, date_to, dates_hint = sources_column(langs, outlets, date_hint)
    new, export_md, export_json = action_row()
    announce = gr.HTML("", elem_id="nwa-announce", container=False)  # said once per finished answer
    return ChatTab(chatbot, question, ask, sources, lang, outlet, date_from, date_to, dates_hint,
                   announce, new, export_md, export_json)


def admin_tab(settings: Settings) -> AdminTab:
    enabled = settings.admin_token is not None
    if enabled:
        gr.Markdown("Enter the admin token, then upload articles (" + ", ".join(UPLOAD_TYPES) + ") to add "
                    "them to the index, or show the index statistics and the readers' feedback.")
    else:
        gr.Markdown("Uploading is **disabled**: no admin token is configured. Set `ADMIN_TOKEN` "
                    "(a long random secret) in `.env` or the environment and restart the server.")
    token = gr.Textbox(label="Admin token", type="password", interactive=enabled, elem_id="nwa-token")
    uploads = gr.File(label="Documents", file_count="multiple", file_types=UPLOAD_TYPES,
                      type="filepath", interactive=enabled, elem_id="nwa-upload")
    upload = gr.Button("Upload and index", variant="primary", interactive=enabled, elem_id="nwa-ingest")
    result = gr.HTML("", elem_id="nwa-ingest-result", js_on_load=None, min_height=40)
    with gr.Accordion("Index statistics", open=True):
        stats = gr.HTML("", elem_id="nwa-stats", js_on_load=None)  # empty until the token is given
        show_stats = gr.Button("Show statistics", size="sm", interactive=enabled, elem_id="nwa-show-stats")
    return AdminTab(token, uploads, upload, result, show_stats, stats)

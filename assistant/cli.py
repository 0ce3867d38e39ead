"""The `assistant` command: thin wrappers that parse flags, build Settings, call one function, print.

    assistant ingest data/articles
    assistant ingest https://news.example.com/story
    assistant extract page.html --json
    assistant feeds add https://news.example.com/rss
    assistant sync
    assistant ask "Who directs the Russian Center for Science and Culture?"
    assistant chat
    assistant stats --json
    assistant delete 000_9816ccc5144c5afd.txt
    assistant eval --corpus ../shared/eval/corpora/news.jsonl --questions ../shared/eval/dev/nyt.jsonl
    assistant calibrate --questions ../shared/eval/dev/nyt.jsonl --out profile.toml
    assistant serve
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.config import Settings, load_settings
from assistant.documents import Answer, Filters, Turn
from assistant.errors import AssistantError, QuestionError
from assistant.redaction import redact_text, redact_url

app = typer.Typer(help="A news assistant that answers from your articles, with citations.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)
EXIT_SKIPPED = 3  # ingest finished, but some files could not be read


@contextmanager
def rendered_errors(settings: Settings | None = None) -> Iterator[None]:
    """Show AssistantErrors as one clear line (set RAISE_ERRORS=1 to see the traceback)."""
    try:
        yield
    except AssistantError as exc:
        if (settings and settings.raise_errors) or os.environ.get("RAISE_ERRORS"):
            raise
        # soft_wrap: one line that the terminal wraps, not lines broken at Rich's guess of the width
        err.print(f"[red]Error:[/red] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from exc


def settings_or_exit() -> Settings:
    with rendered_errors():
        return load_settings()
    raise AssertionError("unreachable")


def open_assistant(settings: Settings, rebuild: bool = False) -> Any:
    from assistant.service import Assistant

    with rendered_errors(settings):
        return Assistant.open(settings, rebuild=rebuild)


def filters_from(lang: str | None, outlet: str | None, since: str | None, until: str | None,
                 exclude_sections: list[str] | None = None) -> Filters:
    return Filters.of(lang, outlet, since, until, exclude_sections=exclude_sections or [])


LangOpt = Annotated[str | None, typer.Option(help="Only articles in this language (en, vi, nl...).")]
OutletOpt = Annotated[str | None, typer.Option(help="Only articles from this outlet.")]
SinceOpt = Annotated[str | None, typer.Option(help="Only articles dated on/after YYYY-MM-DD.")]
UntilOpt = Annotated[str | None, typer.Option(help="Only articles dated on/before YYYY-MM-DD.")]
ExcludeOpt = Annotated[list[str] | None, typer.Option(
    "--exclude-section",
    help="Leave out this section's articles (repeat for more), besides EXCLUDE_SECTIONS.")]


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(
        help="Files or folders of .txt .md .html .pdf .jsonl, or http(s) URLs of article pages, "
             "RSS/Atom feeds or sitemaps.")],
    prune: Annotated[
        bool, typer.Option(help="Remove indexed documents that are no longer in PATHS.")
    ] = False,
    rebuild: Annotated[
        bool, typer.Option(help="Drop the index first (e.g. after changing the embedding model).")
    ] = False,
) -> None:
    """Add, update (and with --prune remove) documents. Unchanged documents are skipped.

    A URL is fetched and its main text extracted; its document id is the URL. A feed's or sitemap's
    articles are ingested once (up to SYNC_MAX_ENTRIES); to keep following it: `assistant feeds add`.

    Example: assistant ingest data/articles --prune
    """
    from assistant.ingest.sources import is_url

    settings = settings_or_exit()
    with rendered_errors(settings):
        assistant = open_assistant(settings, rebuild=rebuild)
        # Two lines: documents read and chunked (fast), then chunks embedded (the slow part, shown
        # every few chunks so that a first run is seen to move).
        columns = (TextColumn("[bold]{task.description:<5}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), TextColumn("{task.fields[rate]}"))
        with Progress(*columns, console=err, transient=False) as bar:
            reading = bar.add_task("read", total=None, unit="documents", rate="")
            embedding = bar.add_task("embed", total=None, unit="chunks", rate="", start=False)
            embed_started: list[float] = []

            def show(p: Any) -> None:
                bar.update(reading, completed=p.done, total=p.total)
                if p.to_embed and not embed_started:
                    embed_started.append(p.elapsed)
                    bar.start_task(embedding)
                if embed_started:
                    seconds = p.elapsed - embed_started[0]
                    rate = f"{p.embedded / seconds:.1f} chunks/s" if p.embedded and seconds > 0 else ""
                    bar.update(embedding, completed=p.embedded, total=p.to_embed, rate=rate)

            report = assistant.ingest([Path(p) for p in paths if not is_url(p)],
                                      urls=[p for p in paths if is_url(p)], prune=prune, progress=show)
            if not embed_started:  # nothing new to embed
                bar.update(embedding, visible=False)
    for name, reason in report.skipped:
        err.print(f"[yellow]skipped[/yellow] {escape(redact_text(name))}: {escape(redact_text(reason))}",
                  highlight=False)
    out.print(report.summary(), highlight=False)
    report_answered(settings, assistant, [*report.added, *report.updated])
    if report.skipped:
        raise typer.Exit(EXIT_SKIPPED)


def report_answered(settings: Settings, assistant: Any, doc_ids: list[str]) -> None:
    """Check new articles against the readers' unanswered questions; say which they answer now."""
    if not doc_ids:
        return
    from assistant.desk import Desk
    from assistant.storage import Store

    with rendered_errors(settings):
        answered = Desk.open(settings, assistant, Store.open(settings.database_url)).check_new(doc_ids)
    for item in answered:
        out.print(f"answers a reader's question: {item['question']} ({', '.join(item['answered_by'])})",
                  highlight=False, markup=False, soft_wrap=True)


@app.command()
def extract(
    target: Annotated[str, typer.Argument(metavar="PATH_OR_URL", help="An HTML file or an http(s) URL.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the fields as JSON.")] = False,
) -> None:
    """Show what ingest would take from an article page: title, date, outlet, url, lang and body.

    Example: assistant extract https://news.example.com/story --json
    """
    from assistant.ingest.sources import read_page

    settings = settings_or_exit()
    with rendered_errors(settings):
        page = read_page(target, settings.fetch)
    fields = {key: getattr(page, key) for key in ("title", "date", "outlet", "url", "lang", "author", "body")}
    if as_json:
        out.print_json(json.dumps(fields, ensure_ascii=False))
        return
    out.print(page.title or "(no title)", style="bold", highlight=False, markup=False)
    meta = " · ".join(x for x in (page.outlet, page.date, page.lang, page.url) if x)
    if meta:
        out.print(meta, style="dim", highlight=False, markup=False, soft_wrap=True)
    out.print("\n" + page.body, highlight=False, markup=False, soft_wrap=True)


feeds_app = typer.Typer(help="The RSS/Atom feeds and sitemaps that `assistant sync` reads.",
                        no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")


def open_feeds(settings: Settings) -> Any:
    from assistant.feed_store import FeedStore

    with rendered_errors(settings):
        return FeedStore.open(settings.database_url)


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="Address of an RSS/Atom feed or a (news) sitemap.")],
    check: Annotated[bool, typer.Option(help="Fetch it now and refuse what is not a feed (an address that "
                                              "fails, a web page, anything else).")] = True,
) -> None:
    """Follow a feed; `assistant sync` then ingests its articles. The address is fetched first: one that
    answers an error, a web page (its feed links are offered) or anything not a feed is refused.

    Example: assistant feeds add https://news.example.com/rss
    """
    from assistant.ingest.sync import check_feed

    settings = settings_or_exit()
    shown = redact_url(url.strip())
    with rendered_errors(settings):
        feeds = open_feeds(settings)
        if any(feed.url == url.strip() for feed in feeds.all()):
            out.print(f"{shown} is followed already.", highlight=False)
            return
        checked = check and url.strip().lower().startswith(("http://", "https://"))
        found = check_feed(url.strip(), settings.fetch) if checked else None
        feeds.add(url)
    if found is None:
        out.print(f"Following {shown}.", highlight=False)
        return
    what = {"rss": "an RSS feed", "atom": "an Atom feed", "sitemap": "a sitemap",
            "sitemapindex": "a sitemap index"}[found.kind]
    count = (f"{len(found.sitemaps)} sitemaps" if found.kind == "sitemapindex"
             else f"{len(found.entries)} entries")
    title = f" ({found.title})" if found.title else ""
    out.print(f"Following {shown}{title}: {what} of {count}. `assistant sync` ingests its articles.",
              highlight=False, markup=False, soft_wrap=True)


@feeds_app.command("list")
def feeds_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The feeds followed, with the outcome of their last sync."""
    from rich.table import Table

    settings = settings_or_exit()
    with rendered_errors(settings):
        feeds = open_feeds(settings).all()
    if as_json:
        out.print_json(json.dumps([feed.to_dict() for feed in feeds], ensure_ascii=False))
        return
    if not feeds:
        out.print("No feeds yet; add one with `assistant feeds add URL`.", highlight=False, markup=False)
        return
    table = Table("feed", "title", "last checked", "status", "added (last / all)")
    for feed in (feed.to_dict() for feed in feeds):  # addresses and errors redacted
        status = feed["status"] + (f": {feed['error']}" if feed["error"] else "")
        table.add_row(feed["url"], feed["title"], feed["checked_at"] or "never", status,
                      f"{feed['last_added']} / {feed['articles_added']}")
    out.print(table)


@feeds_app.command("remove")
def feeds_remove(
    url: Annotated[str, typer.Argument(help="The feed's address, as added or as `feeds list` shows it.")],
) -> None:
    """Stop following a feed (its articles stay in the index; `assistant delete URL` removes one)."""
    settings = settings_or_exit()
    with rendered_errors(settings):
        open_feeds(settings).remove(url)
    out.print(f"Stopped following {redact_url(url)}.", highlight=False)


@app.command()
def sync(as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
         refresh: Annotated[bool, typer.Option(
             "--refresh", help="Also re-fetch the pages of unchanged entries (conditional GET each); "
             "those whose text changed are updated.")] = False) -> None:
    """Fetch every followed feed and ingest its new or updated articles; report per feed.

    The exit status is 3 when a feed failed or an article could not be ingested.

    Example: assistant sync --refresh
    """
    settings = settings_or_exit()
    feeds = open_feeds(settings)
    assistant = open_assistant(settings)
    with rendered_errors(settings):
        report = assistant.sync(feeds, refresh=refresh)
    if not as_json:
        report_answered(settings, assistant,
                        [doc_id for feed in report.feeds for doc_id in [*feed.added, *feed.updated]])
    if as_json:
        out.print_json(json.dumps({"feeds": [feed.to_dict() for feed in report.feeds],
                                   "seconds": round(report.seconds, 2)}, ensure_ascii=False))
    else:
        if not report.feeds:
            out.print("No feeds to sync; add one with `assistant feeds add URL`.",
                      highlight=False, markup=False)
        for feed in report.feeds:
            line = f"{redact_url(feed.url)}: {feed.summary()}"
            (err if feed.status == "error" else out).print(line, highlight=False, markup=False)
            for name, reason in feed.skipped:
                err.print(f"  skipped {redact_url(name)}: {redact_text(reason)}", highlight=False,
                          markup=False)
    if report.failed:
        raise typer.Exit(EXIT_SKIPPED)


def print_answer(answer: Answer, stream_printed: bool = False) -> None:
    if not stream_printed:
        out.print(answer.text, highlight=False, markup=False)
    if answer.notice:
        err.print(f"[yellow]{answer.notice}[/yellow]", highlight=False)
    if answer.sources:
        out.print("\nSources:", style="bold")
    for s in answer.sources:
        meta = " · ".join(x for x in (s.outlet, s.date, s.url) if x)
        out.print(f"[{s.number}] {s.title}" + (f" — {meta}" if meta else ""), highlight=False, markup=False)
        out.print(f"    id: {s.doc_id}", style="dim", highlight=False, markup=False)
        passage = s.passage if len(s.passage) <= 400 else s.passage[:400] + "…"
        out.print(f"    “{passage}”", style="dim", highlight=False, markup=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in any language.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer and sources as JSON.")] = False,
    lang: LangOpt = None, outlet: OutletOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    exclude_section: ExcludeOpt = None,
) -> None:
    """Answer one question from the articles, with numbered sources.

    Example: assistant ask "Who directs the Russian Center for Science and Culture in Vietnam?"
    """
    settings = settings_or_exit()
    with rendered_errors(settings):
        filters = filters_from(lang, outlet, since, until, exclude_section)
    assistant = open_assistant(settings)
    with rendered_errors(settings):
        if as_json:
            out.print_json(json.dumps(assistant.ask(question, filters=filters).to_dict(), ensure_ascii=False))
            return
        answer = stream_answer(assistant, question, [], filters)
    print_answer(answer, stream_printed=True)


def stream_answer(assistant: Any, question: str, history: list[Turn], filters: Filters) -> Answer:
    """Print tokens as they arrive; return the final answer."""
    answer: Answer | None = None
    for event in assistant.stream(question, history, filters):
        if "token" in event:
            out.print(event["token"], end="", highlight=False, markup=False)
        if "answer" in event:
            answer = event["answer"]
    out.print()
    if answer is None:
        raise AssistantError("The answer stream ended without an answer; try again.")
    return answer


@app.command()
def chat(
    lang: LangOpt = None, outlet: OutletOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    exclude_section: ExcludeOpt = None,
) -> None:
    """A conversation in the terminal; follow-up questions use the earlier turns.

    Type /new to start over, /quit (or Ctrl-D) to leave.
    """
    settings = settings_or_exit()
    with rendered_errors(settings):
        filters = filters_from(lang, outlet, since, until, exclude_section)
    assistant = open_assistant(settings)
    history: list[Turn] = []
    err.print("Ask about the articles. /new starts over, /quit leaves.", style="dim")
    while True:
        try:
            question = input("\n> ")
        except (EOFError, KeyboardInterrupt):
            err.print()
            return
        if question.strip() in {"/quit", "/exit"}:
            return
        if question.strip() == "/new":
            history = []
            err.print("New conversation.", style="dim")
            continue
        try:
            answer = stream_answer(assistant, question, history, filters)
        except QuestionError as exc:
            err.print(f"[red]{exc}[/red]", highlight=False)
            continue
        except AssistantError as exc:
            err.print(f"[red]Error:[/red] {exc}", highlight=False)
            continue
        print_answer(answer, stream_printed=True)
        history += [Turn("user", question), Turn("assistant", answer.text)]


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """How many documents and chunks the index holds, by language and outlet; the embedder's profile."""
    settings = settings_or_exit()
    assistant = open_assistant(settings)
    with rendered_errors(settings):
        figures = assistant.stats()
    profile = assistant.profile
    figures["embedder_profile"] = {"name": profile.name, "calibrated": profile.calibrated,
                                   "uncalibrated": list(profile.uncalibrated), "file": profile.source}
    if as_json:
        out.print_json(json.dumps(figures, ensure_ascii=False))
        return
    for line in stats_lines(figures):
        out.print(line, highlight=False, markup=False, soft_wrap=True)


def stats_lines(figures: dict[str, Any]) -> list[str]:
    """The index's figures as lines a person reads (``--json`` is for programs)."""
    def counted(number: int) -> str:
        return f"{number} document{'' if number == 1 else 's'}"

    embeddings = figures["embedding_model"] + (f" + sparse {figures['sparse_model']}"
                                               if figures.get("sparse_model") else "")
    dates = "{} to {}".format(*figures["date_range"]) if figures["date_range"] else "none known"
    lines = [f"{counted(figures['documents'])}, {figures['chunks']} chunks", f"embeddings: {embeddings}"]
    if "embedder_profile" in figures:
        profile = figures["embedder_profile"]
        state = "calibrated" if profile["calibrated"] else \
            f"{len(profile['uncalibrated'])} thresholds uncalibrated: `assistant calibrate` fits them"
        lines.append(f"embedder profile: {profile['name']} ({state})")
    lines.append(f"dates: {dates}")
    for title, counts in (("languages", figures["languages"]), ("outlets", figures["outlets"])):
        lines.append(f"{title}:" + ("" if counts else " none"))
        width = max((len(name) for name in counts), default=0)
        lines += [f"  {name:<{width}}  {counted(number)}"
                  for name, number in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return lines


@app.command()
def delete(doc_id: Annotated[str, typer.Argument(help="Document id, as `ask` shows it.")]) -> None:
    """Remove one document and all of its chunks from the index."""
    settings = settings_or_exit()
    assistant = open_assistant(settings)
    with rendered_errors(settings):
        removed = assistant.delete(doc_id)
    out.print(f"Deleted {doc_id} ({removed} chunks).", highlight=False)


@app.command(name="eval")
def evaluate(
    questions: Annotated[Path, typer.Option(help="Question set (JSON Lines, ../shared/eval format).")],
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest first (JSONL or a folder).")] = None,
    details: Annotated[Path | None, typer.Option(help="Write per-question details here (JSONL).")] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="Write the summary here.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    leave_gold_out: Annotated[bool, typer.Option(
        "--leave-gold-out", help="Answer each answerable question without its gold documents: a near "
        "miss on its own topic, in its own language (the share abstained is the figure).")] = False,
) -> None:
    """Measure retrieval, answers, citations and abstention on a question set.

    Example: assistant eval --corpus ../shared/eval/corpora/news.jsonl
    --questions ../shared/eval/dev/nyt.jsonl --details nyt.jsonl --json nyt-summary.json

    With --leave-gold-out each answerable question is answered with its gold documents excluded
    from retrieval; the details list excluded_doc_ids beside retrieved_doc_ids.
    """
    from assistant.evaluation import evaluate as run_evaluation

    settings = settings_or_exit()
    assistant = open_assistant(settings)
    with rendered_errors(settings), Progress(console=err, transient=True) as bar:
        task = bar.add_task("questions", total=None)
        summary = run_evaluation(
            assistant, corpus, questions, details, limit=limit, leave_gold_out=leave_gold_out,
            on_ingest=lambda report: err.print(f"ingest: {report.summary()}", highlight=False),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if summary_json:
        summary_json.parent.mkdir(parents=True, exist_ok=True)
        summary_json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    out.print_json(json.dumps(summary, ensure_ascii=False))


@app.command()
def calibrate(
    questions: Annotated[Path, typer.Option(help="Dev questions (JSON Lines, ../shared/eval format), "
                                            "answerable and unanswerable, over the configured index.")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Where to write the profile (default: EMBEDDER.toml here).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    leave_gold_out: Annotated[bool, typer.Option(
        "--leave-gold-out", help="Also read each answerable question with its gold_doc_ids left out of "
        "the search, as an unanswerable near miss on its own topic.")] = False,
) -> None:
    """Fit the configured embedder's profile (abstention model, similarity floors) on dev questions.

    Each question is retrieved and read as the chain does; the floors refuse at most 3% of the
    answerable questions, the abstention model is fitted on the features. Then set EMBEDDER_PROFILE to
    the file written. Never fit on test questions.

    Example: assistant calibrate --questions ../shared/eval/dev/nyt.jsonl --out profile.toml
    """
    from assistant.answering.chain import TurnSteps
    from assistant.calibration import calibrate as fit_profile
    from assistant.calibration import read_questions
    from assistant.index.profile import profile_path, write_profile

    settings = settings_or_exit()
    with rendered_errors(settings):
        asked = read_questions(questions)
    assistant = open_assistant(settings)
    steps = TurnSteps(settings.answers, settings.retrieval, assistant.retriever, profile=assistant.profile)
    with rendered_errors(settings), Progress(console=err, transient=True) as bar:
        task = bar.add_task("questions", total=len(asked))
        result = fit_profile(steps, asked, progress=lambda done, _: bar.update(task, completed=done),
                             leave_gold_out=leave_gold_out)
    target = out_file or Path(profile_path(result.profile.name).name)
    with rendered_errors(settings):
        write_profile(result.profile, target, comment=result.comment(str(questions)))
    if as_json:
        out.print_json(json.dumps({**result.summary(), "profile": str(target)}, ensure_ascii=False))
        return
    for line in calibration_lines(result, target):
        out.print(line, highlight=False, markup=False, soft_wrap=True)


def calibration_lines(result: Any, target: Path) -> list[str]:
    """What `assistant calibrate` fitted and changed, for a person."""
    figures = result.summary()
    answerable, unanswerable = figures["answerable"], figures["unanswerable"]

    def refused(found: dict[str, int]) -> str:
        return (f"{found['answerable']} of {answerable} answerable, "
                f"{found['unanswerable']} of {unanswerable} unanswerable")

    floors = ", ".join(f"{name} {value:g}" for name, value in figures["floors"].items())
    lines = [f"{figures['questions']} questions, embedder {figures['embedder']}",
             f"floors: {floors}",
             "abstention: " + (f"fitted (L2 {figures['l2']:g})" if figures["l2"] is not None else "kept"),
             f"refused before: {refused(figures['refused_before'])}",
             f"refused after:  {refused(figures['refused_after'])}"]
    lines += [f"kept {name}: {why}" for name, why in figures["kept"].items()]
    if figures["uncalibrated"]:
        lines.append("still uncalibrated: " + ", ".join(figures["uncalibrated"]))
    return [*lines, f"Wrote {target}; use it with EMBEDDER_PROFILE={target}"]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (PORT).")] = None,
    ingest_path: Annotated[
        list[Path] | None, typer.Option("--ingest", help="Ingest these first.")
    ] = None,
) -> None:
    """Serve the chat UI at /, the REST API at /api and the widget at /widget.js."""
    from assistant.web.app import run

    settings = settings_or_exit()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    with rendered_errors(settings):
        run(settings, ingest_paths=ingest_path or [])


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    sys.exit(main())

"""Reading files: ids, formats, and bad input reported by name without stopping the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.documents import RawDocument
from assistant.errors import SourceError
from assistant.ingest.sources import content_hash, read_paths

DATA = Path(__file__).parents[1] / "data"


def read(paths: list[Path]) -> tuple[dict[str, RawDocument], dict[str, str]]:
    docs: dict[str, RawDocument] = {}
    errors: dict[str, str] = {}
    for item in read_paths(paths):
        if isinstance(item, SourceError):
            errors[item.path] = item.reason
        else:
            docs[item.doc_id] = item
    return docs, errors


def test_ids_are_paths_relative_to_the_folder(tmp_path: Path) -> None:
    (tmp_path / "world" / "asia").mkdir(parents=True)
    (tmp_path / "world" / "asia" / "hanoi.md").write_text("# Title\n\nSome text about Hanoi.")
    (tmp_path / "top.txt").write_text("Top story.")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.txt").write_text("not an article")
    docs, errors = read([tmp_path])
    assert set(docs) == {"world/asia/hanoi.md", "top.txt"}
    assert not errors
    docs, _ = read([tmp_path / "top.txt"])
    assert set(docs) == {"top.txt"}


def test_jsonl_ids_come_from_records_and_bad_lines_are_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({"id": "a-1", "title": "A", "text": "Alpha text.", "lang": "en", "source": "Wire", "url": None}),
        "{not json",
        json.dumps({"id": "a-2", "text": ""}),
        json.dumps({"id": "a-3", "title": None, "text": "Gamma text.", "lang": "vi", "source": None, "url": None}),
    ]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, errors = read([corpus])
    assert set(docs) == {"a-1", "a-3"}
    assert docs["a-1"].outlet == "Wire" and docs["a-3"].lang == "vi"
    assert "corpus.jsonl:2" in errors and "JSON" in errors["corpus.jsonl:2"]
    assert any(key.startswith("corpus.jsonl:3") for key in errors)


def test_empty_binary_undecodable_and_unknown_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A perfectly good article about trade.")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    docs, errors = read([tmp_path])
    assert set(docs) == {"good.txt"}
    assert errors["empty.txt"] == "is empty"
    assert "binary" in errors["image.txt"]
    assert "UTF-8" in errors["latin1.txt"] and "offset 3" in errors["latin1.txt"]
    assert "PDF" in errors["broken.pdf"]
    assert "unsupported" in errors["sheet.xlsx"]


def test_pdf_text_and_title_are_read() -> None:
    docs, errors = read([DATA / "report.pdf"])
    assert not errors
    assert "Joint Venture Bank" in docs["report.pdf"].text
    assert docs["report.pdf"].title == "Joint venture bank results"


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    try:
        read([tmp_path / "nope"])
    except SourceError as exc:
        assert "does not exist" in str(exc)
    else:
        raise AssertionError("a missing path must raise SourceError")


def test_content_hash_depends_on_bytes_and_chunking_settings() -> None:
    assert content_hash(b"text", "v1") == content_hash(b"text", "v1")
    assert content_hash(b"text", "v1") != content_hash(b"text!", "v1")
    assert content_hash(b"text", "v1") != content_hash(b"text", "v2")


def test_symbolic_link_loops_are_reported_as_loops(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    (folder / "world").mkdir(parents=True)
    (folder / "world" / "story.txt").write_text("Harbour news\n\nThe ferry sails again.\n", encoding="utf-8")
    (folder / "self.txt").symlink_to("self.txt")
    (folder / "ping.txt").symlink_to("pong.txt")
    (folder / "pong.txt").symlink_to("ping.txt")
    (folder / "world" / "up").symlink_to("..")
    items = list(read_paths([folder]))
    documents = [i.doc_id for i in items if not isinstance(i, SourceError)]
    problems = {i.path: i.reason for i in items if isinstance(i, SourceError)}
    assert documents == ["world/story.txt"]
    assert sorted(problems) == ["ping.txt", "pong.txt", "self.txt", "world/up"]
    for name in ("ping.txt", "pong.txt", "self.txt"):
        assert problems[name].startswith("is a symbolic link loop (it leads back to itself)")
    assert problems["world/up"] == ("is a symbolic link loop (it points to news, a folder that contains it); "
                                    "links to folders are not followed")
    with pytest.raises(SourceError, match="symbolic link loop"):
        list(read_paths([folder / "self.txt"]))


def test_a_text_files_front_matter_becomes_its_metadata(tmp_path: Path) -> None:
    (tmp_path / "dated.txt").write_text(
        "---\n# what the text states\ntitle: Tô Lâm receives the ambassador\ndate: 2025-04-02\n"
        "outlet: Việt Nam News\nlang: en\n---\nHÀ NỘI – Party General Secretary Tô Lâm received him.\n")
    (tmp_path / "plain.txt").write_text("---\nNo front matter: a rule, then text.\n")
    (tmp_path / "bad-date.txt").write_text("---\ndate: 2 April 2025\n---\nText.\n")
    (tmp_path / "bad-field.txt").write_text("---\nauthor: Someone\n---\nText.\n")
    (tmp_path / "open.txt").write_text("---\ntitle: Never closed\nText.\n")
    docs, errors = read([tmp_path])
    dated = docs["dated.txt"]
    assert (dated.title, dated.date, dated.outlet, dated.lang, dated.url) == (
        "Tô Lâm receives the ambassador", "2025-04-02", "Việt Nam News", "en", None)
    assert dated.text == "HÀ NỘI – Party General Secretary Tô Lâm received him.\n"
    assert errors == {
        "plain.txt": "opens a front matter block with --- but never closes it; end it with ---",
        "bad-date.txt": "its front matter date '2 April 2025' is not a date; write it as YYYY-MM-DD",
        "bad-field.txt": "line 2 of its front matter is not one of title: …, date: …, outlet: …, lang: …, "
                         "url: …, section: …",
        "open.txt": "opens a front matter block with --- but never closes it; end it with ---",
    }

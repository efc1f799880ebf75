"""The fixed inputs every section reads: dev-set articles (SummEval CNN/DM 100) and the seed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from summarizer.paths import PROJECT_ROOT, shared_data_dir

DEV_SET_NAME = "summeval_cnndm100.jsonl"
SEED_FILE = PROJECT_ROOT / "seeds" / "000_42f52d1283be1841.txt"


@dataclass(frozen=True)
class DevRecord:
    id: str
    article: str
    references: tuple[str, ...]


def dev_set_path(data_dir: Path | None = None) -> Path:
    path = (data_dir or shared_data_dir()) / DEV_SET_NAME
    if not path.is_file():
        raise FileNotFoundError(f"dev set not found: {path} (set SUMMARIZER_DATA_DIR to its folder)")
    return path


def load_dev_records(path: Path, limit: int | None = None) -> list[DevRecord]:
    """The first ``limit`` records of a SummEval-style JSONL file, in file order."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            raw = json.loads(line)
            records.append(DevRecord(raw["id"], raw["article"], tuple(raw.get("references", ()))))
            if limit is not None and len(records) >= limit:
                break
    return records

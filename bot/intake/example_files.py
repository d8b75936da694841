"""The example folders of the learned models (answers, safety, scope): listed, read and
fingerprinted alike."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml


def yaml_files(directory: Path) -> list[Path]:
    """The `*.yml` files of a folder in name order; none when the folder is missing."""
    return sorted(directory.glob("*.yml")) if directory.is_dir() else []


def read_mapping(path: Path) -> dict[str, Any]:
    """A YAML file's top-level mapping (empty for an empty file), or ValueError naming it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: invalid YAML: {exc}") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{path.name}: must be a mapping")
    return document


def fingerprint(directory: Path) -> str:
    """A hash of the folder's files (names and bytes), so `rasa train` retrains on a change."""
    digest = hashlib.sha256()
    for path in yaml_files(directory):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()

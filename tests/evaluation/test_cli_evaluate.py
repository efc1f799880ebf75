"""The eval/compare/meta-eval command line: --parity, help that shows defaults, light imports."""

import argparse
import subprocess
import sys

import pytest

from summarizer.cli.main import build_parser, main
from tests.conftest import shared_data_file

EVALUATION_COMMANDS = ("eval", "compare", "meta-eval")


def subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


@pytest.mark.parametrize("command", EVALUATION_COMMANDS)
def test_every_option_has_help_that_shows_its_default(command):
    parser = subparser(command)
    assert parser.formatter_class is argparse.ArgumentDefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
    assert "(default: " in parser.format_help()


@pytest.mark.parametrize("command", ("eval", "compare"))
def test_text_field_help_states_this_commands_default(command):
    help_text = " ".join(subparser(command).format_help().split())
    assert "default is 'article'" in help_text and "`run` reads 'text'" in help_text


def test_eval_parity_runs_the_rouge155_self_check(tmp_path, capsys):
    subset = tmp_path / "parity.jsonl"
    lines = shared_data_file("rouge155_parity_dev.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["eval", "--parity", str(subset)]) == 0
    printed = capsys.readouterr().out
    assert "ROUGE-1.5.5 parity" in printed and "(40 pairs" in printed and "rouge155" in printed


def test_eval_without_inputs_or_parity_is_a_usage_error(capsys):
    assert main(["eval"]) == 2
    assert "--predictions and --references" in capsys.readouterr().err


def test_parsing_the_evaluation_commands_imports_nothing_heavy():
    code = ("import sys, summarizer.cli.evaluate, summarizer.cli.meta_eval; "
            "print(sorted(m for m in ('numpy', 'torch', 'transformers', 'summarizer.evaluation.harness') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

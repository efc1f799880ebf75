"""The `summarizer` console script: one module per command group (see main.COMMAND_GROUPS).

Every module here imports only the standard library at its top level and imports the library (models,
pipeline, evaluation) inside its handler, so that ``summarizer --help`` and every command start fast.
"""

from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help when it has a real default the help does not state.

    Unlike argparse.ArgumentDefaultsHelpFormatter it skips flags (default False) and options whose
    default is None, whose help should say what leaving them out means.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text.lower()
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or not (action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE))
        ):
            return action.help
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"

"""What the project's management commands share: every bad argument is one sentence, exit status 1.

argparse's own refusals exit with status 2 after a usage dump, and Django handles a CommandError
only once the arguments are parsed (one raised while parsing escapes as a traceback).
"""

import argparse
import sys
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError


class OperatorCommand(BaseCommand):
    """A command whose argument errors end as a CommandError: `CommandError: <sentence>`, status 1."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.called_from_command_line = False  # argparse's refusals raise CommandError instead of exiting
        return parser

    def run_from_argv(self, argv):
        try:
            super().run_from_argv(argv)
        except CommandError as exc:  # raised while parsing, before Django's own handler
            if "--traceback" in argv:
                raise
            self.stderr.write(f"CommandError: {exc}")
            sys.exit(exc.returncode)


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not between {low} and {high}")
        return number

    return parse

"""The command line: parse, call the engine, render, exit code. Nothing else lives here."""

from __future__ import annotations

import click

from orgctl import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orgctl")
def cli() -> None:
    """orgctl: your organisation as reviewed code.

    Units, teams, employees and their roles live in YAML; `plan` shows what would change
    in each connected HR system, `apply` makes exactly those changes.
    """


def main() -> None:
    cli()

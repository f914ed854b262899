"""The documentation is tested: every command and option, every page, every public name."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

from openams.cli import cli
from openams.dlms import MeterReading, Push

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _commands():
    for name, command in cli.commands.items():
        if isinstance(command, click.Group):
            for sub, subcommand in command.commands.items():
                yield f"{name} {sub}", subcommand
        else:
            yield name, command


@pytest.mark.parametrize(("name", "command"), list(_commands()))
def test_every_command_and_option_is_documented(name, command):
    text = (DOCS / "cli.md").read_text()
    assert f"## `ams {name}`" in text
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                assert f"`{opt}" in text, f"{opt} of ams {name} is not in docs/cli.md"
        else:
            assert f"`{param.name.upper()}`" in text


def test_every_page_is_linked_from_the_index():
    index = (DOCS / "index.md").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "index.md":
            assert f"({page.name})" in index, page.name


def test_relative_links_resolve():
    for page in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_every_simulator_csv_column_is_documented():
    from openams.sim.csvio import COLUMNS

    text = (DOCS / "sim-grid.md").read_text()
    for name, columns in COLUMNS.items():
        assert f"## `{name}`" in text
        for column in columns:
            assert f"| `{column}` |" in text, f"{name}: {column} is not documented"


def test_nomenclature_names_every_public_parameter():
    glossary = (DOCS / "nomenclature.md").read_text()
    names = [f.name for f in dataclasses.fields(MeterReading)] + list(Push._fields)
    names = [n for n in names if n not in ("tree", "values", "clock", "phases")]
    missing = [n for n in names if n not in glossary]
    # the three-phase families are documented as l1 ... l3
    missing = [n for n in missing if not re.match(r"(current|voltage)_l[23]_", n)]
    assert not missing, missing


def test_readme_has_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "ams demo" in readme
    assert "bash scripts/test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test" in ci


def test_every_truth_column_is_documented():
    from openams.sim.fleet import TRUTH_COLUMNS

    text = (DOCS / "sim-run.md").read_text()
    for name, columns in TRUTH_COLUMNS.items():
        assert f"### `{name}`" in text
        section = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for column in columns:
            assert f"| `{column}` |" in section, f"{name}: {column}"

"""The Chinese translation ships complete and compiled: every source string in the code and
templates has a Chinese entry, and the committed .mo says what the .po says."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCE_DIRS = ["config", "renovation", "residents", "partycells"]
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
PGETTEXT_NAMES = {"pgettext", "pgettext_lazy"}
TEMPLATE_TAG = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")


def _unquote(chunks: list[str]) -> str:
    return "".join(ast.literal_eval(chunk) for chunk in chunks)


def parse_po(path: Path) -> dict[str, str]:
    """msgid → msgstr (the first form for plurals; empty when fuzzy), skipping the header."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, list[str]] = {}
        fuzzy, current = False, None
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            elif line.startswith('"') and current:
                fields[current].append(line)
            elif line and not line.startswith("#"):
                current, _, rest = line.partition(" ")
                fields[current] = [rest]
        msgid = _unquote(fields.get("msgid", []))
        if msgid:
            msgstr = _unquote(fields.get("msgstr", fields.get("msgstr[0]", [])))
            context = _unquote(fields.get("msgctxt", []))
            entries[f"{context}|{msgid}" if context else msgid] = "" if fuzzy else msgstr
    return entries


def source_strings() -> set[str]:
    found = set()
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_NAMES
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in PGETTEXT_NAMES
                    and len(node.args) == 2
                    and all(isinstance(a, ast.Constant) for a in node.args)
                ):
                    found.add(f"{node.args[0].value}|{node.args[1].value}")
    for path in (ROOT / "templates").rglob("*.html"):
        found.update(match[1] for match in TEMPLATE_TAG.findall(path.read_text("utf-8")))
    return found


CATALOGUE = parse_po(PO)


def test_every_source_string_is_in_the_catalogue():
    missing = sorted(source_strings() - CATALOGUE.keys())
    assert not missing, f"run `make messages` and translate: {missing}"


def test_every_catalogue_entry_is_translated():
    untranslated = sorted(msgid for msgid, msgstr in CATALOGUE.items() if not msgstr)
    assert not untranslated


@pytest.mark.parametrize("msgid", sorted(m for m in CATALOGUE if CATALOGUE[m]))
def test_compiled_catalogue_matches_the_po_file(msgid):
    with translation.override("zh-hans"):
        context, _bar, text = msgid.rpartition("|") if "|" in msgid else ("", "", msgid)
        shown = translation.pgettext(context, text) if context else translation.gettext(msgid)
        assert shown == CATALOGUE[msgid], "run `make messages`"

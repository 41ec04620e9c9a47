"""Text-level XML edits: every byte outside the edit stays."""

from __future__ import annotations

import subprocess
import sys
from xml.sax import saxutils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.core.errors import TemplateError
from xlplan.workbook.package.xmltext import (
    attr,
    escape,
    insert_before_close,
    quoteattr,
    remove_elements,
)


@pytest.mark.parametrize(
    ("tag", "name", "expected"),
    [
        ('<c r="A1" t="s">', "t", "s"),
        ("<c r='A1' t='s'>", "t", "s"),  # single quotes
        ('<c r = "A1"/>', "r", "A1"),  # spaces around =
        ('<x Target="a&amp;b &lt;c&gt;"/>', "Target", "a&b <c>"),  # entities unescaped
        ('<x r:id="rId3"/>', "r:id", "rId3"),  # qualified name, matched literally
        ('<c rt="1"/>', "t", None),  # only a whole attribute name matches
        ("<c/>", "t", None),
    ],
)
def test_attr(tag: str, name: str, expected: str | None) -> None:
    assert attr(tag, name) == expected


def test_remove_elements_drops_only_the_failing_empty_elements_of_any_prefix() -> None:
    text = (
        '<Types><Override PartName="/a"/><ct:Override PartName="/b"/>'
        '<Override PartName="/c"></Override><Default Extension="a"/></Types>'
    )
    kept = remove_elements(text, "Override", lambda tag: attr(tag, "PartName") == "/c")
    # Non-empty elements are never removed (there are none in the parts this edits).
    assert kept == '<Types><Override PartName="/c"></Override><Default Extension="a"/></Types>'


def test_remove_elements_does_not_match_a_longer_name() -> None:
    text = "<Rels><Relationship Id='1'/><RelationshipX Id='2'/></Rels>"
    assert remove_elements(text, "Relationship", lambda tag: False) == (
        "<Rels><RelationshipX Id='2'/></Rels>"
    )


@pytest.mark.parametrize(
    ("text", "name", "prefix", "expected"),
    [
        # The root: before its (last) closing tag, whatever its prefix.
        ("<Types><A/></Types>", "Types", None, "<Types><A/><N/></Types>"),
        ("<ct:Types><A/></ct:Types >", "Types", None, "<ct:Types><A/><N/></ct:Types >"),
        ("<a><a></a></a>", "a", None, "<a><a></a><N/></a>"),
        # An empty root is expanded, its attributes kept.
        (
            '<Relationships xmlns="x"/>',
            "Relationships",
            None,
            '<Relationships xmlns="x"><N/></Relationships>',
        ),
        # With a prefix: the first element of exactly that name.
        (
            "<workbook><sheets><sheet/></sheets></workbook>",
            "sheets",
            "",
            "<workbook><sheets><sheet/><N/></sheets></workbook>",
        ),
        (
            "<x:workbook><x:sheets/></x:workbook>",
            "sheets",
            "x:",
            "<x:workbook><x:sheets><N/></x:sheets></x:workbook>",
        ),
        # A same-named element of another namespace (in an extLst) is not the target.
        (
            "<w><e:sheets></e:sheets><sheets></sheets></w>",
            "sheets",
            "",
            "<w><e:sheets></e:sheets><sheets><N/></sheets></w>",
        ),
    ],
)
def test_insert_before_close(text: str, name: str, prefix: str | None, expected: str) -> None:
    assert insert_before_close(text, name, "<N/>", prefix) == expected


@pytest.mark.parametrize(
    ("text", "prefix"), [("<workbook/>", ""), ("<workbook></workbook>", None), ("", None)]
)
def test_insert_before_close_without_the_element_is_refused(text: str, prefix: str | None) -> None:
    with pytest.raises(TemplateError, match="sheets"):
        insert_before_close(text, "sheets", "<N/>", prefix)


@given(st.text())
def test_escape_and_quoteattr_write_what_saxutils_writes(text: str) -> None:
    # The package's parts are written byte for byte as before xml.sax.saxutils was dropped.
    assert escape(text) == saxutils.escape(text)
    assert quoteattr(text) == saxutils.quoteattr(text)


def test_quoteattr_picks_its_quotes() -> None:
    assert quoteattr("a&b") == '"a&amp;b"'
    assert quoteattr('say "hi"') == "'say \"hi\"'"
    assert quoteattr("""it's "x"\n""") == '"it\'s &quot;x&quot;&#10;"'


def test_writing_a_package_imports_no_network_modules() -> None:
    # xml.sax.saxutils imports urllib.request, http.client and ssl: 12-28 ms on every command.
    code = (
        "import sys, xlplan.app.cli, xlplan.actions, xlplan.workbook.package, xlplan.app.addin; "
        "print(sorted(m for m in ('xml.sax.saxutils', 'ssl', 'http.client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

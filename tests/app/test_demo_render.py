"""The demo's PDF step: the summary comes first, the renders run side by side, and a render
that fails says why (never an old PDF taken for a new one)."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from xlplan.app import cli, demo


def _book(path: Path, text: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = text
    wb.save(path)
    return path


def _fake_soffice(tmp_path: Path, body: str) -> str:
    """A stand-in ``soffice`` (a shell script): the last argument is the workbook, the one
    after ``--outdir`` the folder."""
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_a_failed_render_says_why_and_an_old_pdf_is_not_taken_for_a_new_one(
    tmp_path: Path,
) -> None:
    book = _book(tmp_path / "plan.xlsx", "x")
    (tmp_path / "plan.pdf").write_bytes(b"%PDF- from an earlier run")
    fake = _fake_soffice(tmp_path, 'echo "Error: source file could not be loaded" >&2\nexit 3\n')
    rendered = demo.render_pdfs([book], tmp_path, soffice=fake)
    assert rendered.pdfs == []
    assert not (tmp_path / "plan.pdf").exists()
    [problem] = rendered.problems
    assert "plan.xlsx" in problem and "exit 3" in problem and "退出码 3" in problem
    assert "source file could not be loaded" in problem


def test_renders_start_together_and_each_pdf_is_reported(tmp_path: Path) -> None:
    books = [_book(tmp_path / f"b{i}.xlsx", str(i)) for i in range(2)]
    # Each fake render waits until both have started: run one after the other, the first
    # gives up after ~10 s without its PDF (a problem, and the test fails).
    fake = _fake_soffice(
        tmp_path,
        'for a; do last="$a"; done\n'
        'name=$(basename "$last" .xlsx)\n'
        f'touch "{tmp_path}/started-$name"\n'
        "tries=0\n"
        f'while [ ! -e "{tmp_path}/started-b0" ] || [ ! -e "{tmp_path}/started-b1" ]; do\n'
        "  tries=$((tries + 1)); [ $tries -gt 200 ] && exit 1\n"
        "  sleep 0.05\n"
        "done\n"
        f'echo pdf > "{tmp_path}/$name.pdf"\n',
    )
    rendered = demo.render_pdfs(books, tmp_path, soffice=fake)
    assert rendered.problems == []
    assert rendered.pdfs == [tmp_path / "b0.pdf", tmp_path / "b1.pdf"]


def test_cli_prints_the_summary_before_the_render_and_fails_on_a_failed_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []

    def run_demo(out: Path, today: date, **_: object) -> demo.DemoResult:
        calls.append("run")
        book = _book(out / "demo-plan.xlsx", "x")
        return demo.DemoResult(workbooks=[book], lines=["the summary"])

    def render_pdfs(workbooks: list[Path], out: Path, soffice: str) -> demo.Rendered:
        calls.append("render")
        assert soffice == "/usr/bin/soffice"  # the program found on the path
        assert "the summary" in capsys.readouterr().out  # already printed
        return demo.Rendered([], ["LibreOffice did not render demo-plan.xlsx (exit 1): boom"])

    monkeypatch.setattr(demo, "run_demo", run_demo)
    monkeypatch.setattr(demo, "render_pdfs", render_pdfs)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/soffice")
    assert cli.main(["demo", "--out", str(tmp_path), "--date", "2026-11-21"]) == 1
    assert calls == ["run", "render"]
    assert "boom" in capsys.readouterr().err


@pytest.mark.soffice
def test_real_libreoffice_renders_both_workbooks(tmp_path: Path, soffice: object) -> None:
    books = [_book(tmp_path / "one.xlsx", "一"), _book(tmp_path / "two.xlsx", "two")]
    out = tmp_path / "out"
    out.mkdir()
    rendered = demo.render_pdfs(books, out, soffice=soffice.binary)  # type: ignore[attr-defined]
    assert rendered.problems == []
    assert [p.name for p in rendered.pdfs] == ["one.pdf", "two.pdf"]
    assert all(p.read_bytes().startswith(b"%PDF") for p in rendered.pdfs)

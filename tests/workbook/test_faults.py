"""Fault injection on the write path, the way SQLite tests its I/O layer.

Every call the write path makes to the file system (``mkstemp``, each ``write``, ``fsync``,
``chmod``, ``rename``, ``link``, the backup's read, the folder's ``fsync``) is made to fail in
turn with ENOSPC (disk full), EACCES (permission denied) and EROFS (read-only file system),
for each way XLPlan writes: a new workbook over an earlier output (``--force``), a CSV over
an earlier CSV, and ``--in-place`` (a numbered backup, then the input). After each failure:

- the command ends in one bilingual ``xlplan:`` line naming the path, without a traceback;
- the input is byte-identical, and so is every earlier output and backup;
- no temporary file is left behind.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.workbook import files

ERRNOS = [errno.ENOSPC, errno.EACCES, errno.EROFS]
STEPS = ["mkstemp", "write", "fsync", "close", "chmod", "rename", "link", "read_chunks"]
DEMO_CSV = Path(__file__).resolve().parents[2] / "xlplan" / "reference" / "data" / "demo"
FX = (
    "from_currency,to_currency,rate\nCNY,USD,0.14\nEUR,USD,1.12\nGBP,USD,1.33\nUSD,JPY,150\n"
    "USD,MXN,18.5\nUSD,BRL,5.5\n"
)


@dataclass
class Scenario:
    """A command that writes over something the user already has."""

    name: str
    argv: Callable[[Path], list[str]]
    prepare: Callable[[Path], None]
    target: str  # the file the command writes (named in the message)


def _plan(folder: Path) -> None:
    (folder / "plan.xlsx").write_bytes(templates.template_bytes("en"))


def _plan_and_output(folder: Path) -> None:
    _plan(folder)
    (folder / "out.xlsx").write_bytes(b"an earlier output the user keeps")


def _csv_and_output(folder: Path) -> None:
    shutil.copy(DEMO_CSV / "landed_cost_lines.csv", folder / "lines.csv")
    (folder / "fx.csv").write_text(FX, encoding="utf-8")
    (folder / "out.csv").write_bytes(b"an,earlier\ncsv,output\n")


def _plan_with_backup(folder: Path) -> None:
    _plan(folder)
    (folder / "plan.backup-1.xlsx").write_bytes(b"the backup of an earlier run")


SCENARIOS = [
    Scenario(
        "xlsx-over-output",
        lambda f: ["landed-cost", str(f / "plan.xlsx"), "-o", str(f / "out.xlsx"), "--force"],
        _plan_and_output,
        "out.xlsx",
    ),
    Scenario(
        "csv-over-output",
        lambda f: [
            "landed-cost",
            str(f / "lines.csv"),
            "--fx",
            str(f / "fx.csv"),
            "-o",
            str(f / "out.csv"),
            "--force",
            "--date",
            "2027-01-01",
        ],
        _csv_and_output,
        "out.csv",
    ),
    Scenario(
        "in-place",
        lambda f: ["run", str(f / "plan.xlsx"), "--action", "landed_cost", "--in-place"],
        _plan_with_backup,
        "plan.xlsx",
    ),
]


class Recorder:
    """Wraps :data:`files.FS`: counts the calls of each step; fails the ``fail_at``-th call of
    ``step`` with ``OSError(code)``."""

    def __init__(self, step: str = "", fail_at: int = -1, code: int = 0) -> None:
        self.step, self.fail_at, self.code = step, fail_at, code
        self.calls: dict[str, int] = {}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = files.FileSystem()
        for name in STEPS + ["fsync_dir", "unlink"]:
            monkeypatch.setattr(files.FS, name, self._wrap(name, getattr(real, name)))

    def _wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            n = self.calls.get(name, 0)
            self.calls[name] = n + 1
            if name == self.step and n == self.fail_at:
                if name == "read_chunks":
                    return self._failing_read()
                raise OSError(self.code, errno.errorcode[self.code].lower(), str(args[-1]))
            return func(*args)

        return call

    def _failing_read(self) -> Any:
        yield b"part of the input"
        raise OSError(self.code, "read failed")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def count_calls(
    scenario: Scenario, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, int]:
    rec = Recorder()
    with monkeypatch.context() as m:
        rec.install(m)
        assert main(scenario.argv(folder)) == 0
    return rec.calls


def cases() -> list[Any]:
    out = []
    for scenario in SCENARIOS:
        for step in STEPS:
            for code in ERRNOS:
                out.append(
                    pytest.param(
                        scenario, step, code, id=f"{scenario.name}-{step}-{errno.errorcode[code]}"
                    )
                )
    return out


@pytest.mark.parametrize(("scenario", "step", "code"), cases())
def test_a_failing_step_loses_nothing(
    scenario: Scenario,
    step: str,
    code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    scenario.prepare(probe)
    calls = count_calls(scenario, probe, monkeypatch).get(step, 0)
    capsys.readouterr()
    if not calls:
        pytest.skip(f"{scenario.name} does not {step}")
    for k in range(calls):  # fail the 1st, 2nd, ... call of this step
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        scenario.prepare(folder)
        before = snapshot(folder)
        rec = Recorder(step, k, code)
        with monkeypatch.context() as m:
            rec.install(m)
            result = main(scenario.argv(folder))
        err = capsys.readouterr().err
        after = snapshot(folder)
        left = [n for n in after if n.endswith(".xlplan-tmp")]
        assert not left, f"temporary files left: {left}"
        assert result == 1, f"call {k} of {step}: exit {result}"
        assert err.startswith("xlplan: ") and "Traceback" not in err, err
        named = scenario.target if step != "read_chunks" else "plan.xlsx"
        assert named in err, err
        assert "/" in err and ("cannot" in err or "无法" in err), err
        for name, data in before.items():  # the input, earlier outputs and backups
            assert after.get(name) == data, f"{name} changed (call {k} of {step})"
        new = set(after) - set(before)
        assert not new or new == {"plan.backup-2.xlsx"}, new  # a complete backup may stay
        for name in new:
            assert after[name] == before["plan.xlsx"]


def test_the_write_path_makes_the_calls_the_suite_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite above is only as good as its coverage: each scenario's calls, counted."""
    seen: dict[str, dict[str, int]] = {}
    for scenario in SCENARIOS:
        folder = tmp_path / scenario.name
        folder.mkdir()
        scenario.prepare(folder)
        seen[scenario.name] = count_calls(scenario, folder, monkeypatch)
    for name, calls in seen.items():
        for step in ("mkstemp", "write", "fsync", "close", "chmod", "rename", "fsync_dir"):
            assert calls.get(step, 0) >= 1, (name, step, calls)
    assert seen["in-place"]["link"] == 1 and seen["in-place"]["read_chunks"] == 1


def test_a_read_only_folder_for_in_place_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only folder (simulated: the tests may run as root, whom permissions do not
    stop) ends in one bilingual line with the path and what to do."""
    _plan(tmp_path)
    before = snapshot(tmp_path)
    rec = Recorder("mkstemp", 0, errno.EACCES)
    with monkeypatch.context() as m:
        rec.install(m)
        code = main(["run", str(tmp_path / "plan.xlsx"), "--action", "landed_cost", "--in-place"])
    err = capsys.readouterr().err
    assert code == 1
    assert "permission denied" in err and "没有写入权限" in err and "plan.xlsx" in err
    assert "your file was not changed" in err
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(
    not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
    reason="root writes into read-only folders",
)
def test_a_really_read_only_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _plan(tmp_path)
    before = snapshot(tmp_path)
    tmp_path.chmod(0o555)
    try:
        code = main(["run", str(tmp_path / "plan.xlsx"), "--action", "landed_cost", "--in-place"])
    finally:
        tmp_path.chmod(0o755)
    assert code == 1
    assert "permission denied" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_an_immutable_input_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An immutable file (chattr +i) cannot be replaced: the rename fails with EPERM."""
    _plan(tmp_path)
    before = snapshot(tmp_path)
    real_rename = files.FS.rename

    def rename(src: Path, dst: Path) -> None:
        if dst.name == "plan.xlsx":
            raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(files.FS, "rename", rename)
    code = main(["run", str(tmp_path / "plan.xlsx"), "--action", "landed_cost", "--in-place"])
    err = capsys.readouterr().err
    assert code == 1 and "immutable" in err and "plan.xlsx" in err
    after = snapshot(tmp_path)
    assert not [n for n in after if n.endswith(".xlplan-tmp")]
    assert after["plan.xlsx"] == before["plan.xlsx"]
    assert after["plan.backup-1.xlsx"] == before["plan.xlsx"]  # the backup made first stays

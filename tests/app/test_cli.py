"""The ``xlplan`` command through its real entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlplan import actions
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.landed_cost import sheets as landed_cost_sheets
from xlplan.landed_cost.tables import LANDED_COST_RESULTS

DEMO_CSV = (
    Path(__file__).resolve().parents[2]
    / "xlplan"
    / "reference"
    / "data"
    / "demo"
    / "landed_cost_lines.csv"
)


def test_landed_cost_csv_in_csv_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "lines.csv"
    shutil.copy(DEMO_CSV, src)
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    out = tmp_path / "out.csv"
    # a CSV carries no FX table: without --fx the shipped rates convert the CNY costs, and the
    # run says so, with their date and source
    assert main(["landed-cost", str(src), "-o", str(out), "--date", "2027-01-01"]) == 0
    said = capsys.readouterr().out
    assert "FX: no FX table given; the shipped rates are used (as of 2025-12-31" in said
    assert "Federal Reserve H.10" in said
    shipped = pd.read_csv(out, encoding="utf-8-sig")
    assert shipped["Error"].isna().all()  # every error cell empty
    assert shipped["Landed cost"].notna().all()
    fx = tmp_path / "fx.csv"
    fx.write_text(
        "from_currency,to_currency,rate\nCNY,USD,0.14\nEUR,USD,1.12\nGBP,USD,1.33\n"
        "USD,JPY,150\nUSD,MXN,18.5\nUSD,BRL,5.5\n",
        encoding="utf-8",
    )
    argv = ["landed-cost", str(src), "-o", str(out), "--fx", str(fx), "--date", "2027-01-01"]
    code = main([*argv, "--force"])  # the first run wrote out.csv: replacing it is explicit
    assert code == 0, capsys.readouterr().err
    result = pd.read_csv(out, encoding="utf-8-sig")
    assert len(result) == len(frame)
    assert list(result.columns[:3]) == ["SKU", "Market", "Channel"]
    assert "Landed cost" in result.columns and "Error" in result.columns
    de = result[(result["SKU"] == "PB-10K") & (result["Market"] == "DE")].iloc[0]
    goods = 62 * 0.14 / 1.12  # CNY -> USD -> EUR
    assert de["Customs value"] == pytest.approx(round(goods + 0.80 + 0.02, 2))
    jp = result[(result["SKU"] == "PB-10K") & (result["Market"] == "JP")].iloc[0]
    assert jp["Landed cost"] == round(jp["Landed cost"])  # JPY has no minor unit


def test_row_errors_go_to_stderr_with_cells_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    lines = landed_cost_sheets.sample_lines()
    lines.loc[1, "duty_rate"] = 45  # 4500 %: a typo
    lines.loc[2, "market"] = "XX"
    src.write_bytes(templates.template_bytes("en", lines))
    out = tmp_path / "out.xlsx"
    code = main(["landed-cost", str(src), "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    err = captured.err.splitlines()
    assert err[0].startswith("Landed Cost!I8: Duty rate must be >= 0 and <= 10, got 45")
    assert err[1] == "Landed Cost!B9: unknown market: 'XX'"
    assert "2 of 4 lines computed" in captured.out
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["Landed Cost Results"]
    rows = list(ws.iter_rows(min_row=6, max_row=10, values_only=True))
    error_col = LANDED_COST_RESULTS.keys.index("error")
    assert rows[1][error_col] is None or rows[1][error_col] == ""
    assert "关税税率应 ≥ 0 且 ≤ 10，实为 45" in str(rows[2][error_col])
    assert "未知的市场" in str(rows[3][error_col])


def test_chinese_workbook_gets_chinese_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "计划.xlsx"
    lines = landed_cost_sheets.sample_lines()
    lines.loc[0, "price"] = None
    src.write_bytes(templates.template_bytes("zh", lines))
    code = main(["landed-cost", str(src)])
    assert code == 1
    err = capsys.readouterr().err
    assert "落地成本!Q7: 售价为必填项" in err
    assert (tmp_path / "计划.xlplan.xlsx").exists()  # default output beside, input untouched


def test_never_overwrites_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    before = src.read_bytes()
    assert main(["landed-cost", str(src), "-o", str(src)]) == 1
    assert "never overwrites" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_run_in_place_keeps_a_backup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    before = src.read_bytes()
    assert main(["run", str(src), "--action", "landed_cost", "--in-place"]) == 0
    assert (tmp_path / "plan.backup-1.xlsx").read_bytes() == before
    assert "Landed Cost Results" in openpyxl.load_workbook(src).sheetnames
    assert "[1/1] Landed cost" in capsys.readouterr().out


def test_unknown_action_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    assert main(["run", str(src), "--action", "nope"]) == 1
    err = capsys.readouterr().err
    assert "unknown action: nope" in err and "Traceback" not in err


def test_templates_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "build", "--out", str(tmp_path)]) == 0
    assert main(["templates", "build", "--check", "--out", str(tmp_path)]) == 0
    templates.template_path(tmp_path, "zh").unlink()
    assert main(["templates", "build", "--check", "--out", str(tmp_path)]) == 1
    assert "missing" in capsys.readouterr().err


def test_demo_writes_workbooks_and_prints_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path), "--date", "2026-11-21", "--no-pdf"]) == 0
    out = capsys.readouterr().out
    assert "14 of 14 lines computed" in out
    assert "PB-10K" in out and "Margin" in out
    assert "company target 360,000,000 CNY" in out
    assert "full year 360,000,000" in out  # the monthly plan reconciles to the target
    assert "top red flags:" in out and "attainment to date" in out
    assert "1,425 " in out  # yen without decimals
    for name in ("demo-plan.xlsx", "demo-plan-zh.xlsx"):
        wb = openpyxl.load_workbook(tmp_path / name, data_only=True)
        assert "tblLandedCostResults" in (
            wb["Landed Cost Results"].tables
            if name == "demo-plan.xlsx"
            else wb["落地成本结果"].tables
        )


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "xlplan"
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "landed-cost" in proc.stdout


def test_new_creates_a_plan_for_the_year_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plan.xlsx"
    assert main(["new", "--lang", "zh", "--year", "2028", "-o", str(target)]) == 0
    wb = openpyxl.load_workbook(target, data_only=True)
    settings = {r[0].value: r[1].value for r in wb["设置"].iter_rows() if r[0].value}
    assert settings["plan_year"] == 2028
    assert main(["new", "--lang", "zh", "-o", str(target)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["new", "--lang", "en", "-o", str(target), "--force"]) == 0
    assert "Settings" in openpyxl.load_workbook(target).sheetnames


def test_check_lists_problems_with_cells_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    src = tmp_path / "plan.xlsx"
    lines = landed_cost_sheets.sample_lines().astype(object)
    lines.loc[0, "market"] = "XX"
    lines.loc[3, "return_rate"] = "a lot"
    src.write_bytes(templates.template_bytes("en", lines))
    before = src.read_bytes()
    assert main(["check", str(src)]) == 1
    out = capsys.readouterr()
    assert "Landed Cost!B7: unknown market: 'XX'" in out.err
    assert "Landed Cost!W10: Return rate is not a number: 'a lot'" in out.err
    # what the bad lines take from the business map: US and MX have no margin left
    assert "Business Map!F9: margin is missing and counts as failed" in out.err
    assert "4 problems" in out.out
    checked = set(out.err.splitlines())
    assert main(["check", str(src), "--json", "--lang", "zh"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 4
    assert report["problems"][0]["where"] == "Landed Cost!B7"
    assert src.read_bytes() == before  # validating writes nothing
    # a run rejects exactly what the check found
    assert main(["run", str(src), "--lang", "en", "-o", str(tmp_path / "out.xlsx")]) == 1
    assert set(capsys.readouterr().err.splitlines()) == checked


def test_check_a_clean_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("zh"))
    assert main(["check", str(src)]) == 0
    assert "没有问题" in capsys.readouterr().out


def test_check_and_new_show_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 11: `check` and `new` ran 5-18 s without a word. Each step is a line, flushed as
    it starts; with --json the steps go to stderr so stdout stays one JSON document."""
    import json

    target = tmp_path / "plan.xlsx"
    assert main(["new", "--lang", "en", "-o", str(target)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("... building every sheet of the ") and out[0].endswith(" plan")
    assert out[1] == "... writing plan.xlsx"
    assert main(["check", str(target)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("... reading plan.xlsx (")
    steps = [line for line in lines if line.startswith("[")]
    n = len(actions.CHECKED) + 1  # every action dry-run, then the other tables' cells
    assert len(steps) == n and steps[0].startswith(f"[1/{n}] checking ")
    assert steps[-1] == f"[{n}/{n}] checking cells of the other input tables ..."
    assert main(["check", str(target), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["count"] == 0
    assert f"[{n}/{n}]" in captured.err


def test_validate_reports_what_the_check_action_reports(tmp_path: Path) -> None:
    """`xlplan check` (with its progress) and the Validate action are one path."""
    from xlplan.workbook.io import FilePort

    src = tmp_path / "plan.xlsx"
    lines = landed_cost_sheets.sample_lines().astype(object)
    lines.loc[1, "unit_cost"] = "cheap"
    src.write_bytes(templates.template_bytes("en", lines))
    today = date(2026, 12, 1)
    heard: list[int] = []
    validated = actions.validate(
        FilePort(src, actions.CATALOG), today, progress=lambda i, n, label: heard.append(i)
    )
    ran = actions.run(FilePort(src, actions.CATALOG), today, ["check"])
    assert validated.errors.equals(ran.errors) and len(validated.errors)
    assert [m.en for m in validated.summary] == [m.en for m in ran.summary]
    assert heard == list(range(1, len(actions.CHECKED) + 2))


# --------------------------------------------------------------------------------------------
# Files: backups, lock files, existing outputs
# --------------------------------------------------------------------------------------------


def test_in_place_keeps_numbered_backups_and_never_overwrites_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    (tmp_path / "plan.backup-2.xlsx").write_bytes(b"the user's own file of that name")
    versions = []
    for _ in range(3):
        versions.append(src.read_bytes())
        assert main(["run", str(src), "--action", "landed_cost", "--in-place"]) == 0
    out = capsys.readouterr().out
    # numbers only grow: the newest backup has the highest, after any already there
    assert not (tmp_path / "plan.backup-1.xlsx").exists()
    assert (tmp_path / "plan.backup-2.xlsx").read_bytes() == b"the user's own file of that name"
    assert (tmp_path / "plan.backup-3.xlsx").read_bytes() == versions[0]
    assert (tmp_path / "plan.backup-4.xlsx").read_bytes() == versions[1]
    assert (tmp_path / "plan.backup-5.xlsx").read_bytes() == versions[2]
    assert "backup of your file: " + str(tmp_path / "plan.backup-5.xlsx") in out


@pytest.mark.parametrize("lock", ["~$plan.xlsx", ".~lock.plan.xlsx#"], ids=["excel", "libreoffice"])
@pytest.mark.parametrize(
    "argv",
    [
        ["run", "{src}", "--action", "landed_cost", "--in-place"],
        ["relink", "{src}", "--in-place"],
        ["landed-cost", "{src}", "-o", "{out}"],
        ["check", "{src}"],
    ],
    ids=["run-in-place", "relink-in-place", "landed-cost", "check"],
)
def test_a_file_open_in_excel_or_libreoffice_is_refused_before_anything_is_written(
    lock: str, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    (tmp_path / lock).write_bytes(b"locked")
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    args = [a.format(src=src, out=tmp_path / "out.xlsx") for a in argv]
    assert main(args) == 1
    err = capsys.readouterr().err
    app = "LibreOffice" if lock.startswith(".~lock") else "Excel"
    assert f"open in {app}" in err and lock in err and "Traceback" not in err
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before


def test_excel_lock_of_a_long_name_is_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "Budget2027.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    (tmp_path / "~$dget2027.xlsx").write_bytes(b"locked")  # Excel shortens long names
    assert main(["run", str(src), "--in-place"]) == 1
    assert "open in Excel" in capsys.readouterr().err


def test_an_output_open_elsewhere_is_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"open in LibreOffice")
    (tmp_path / ".~lock.out.xlsx#").write_bytes(b"locked")
    assert main(["landed-cost", str(src), "-o", str(out), "--force"]) == 1
    assert "open in LibreOffice" in capsys.readouterr().err
    assert out.read_bytes() == b"open in LibreOffice"


@pytest.mark.parametrize("command", ["landed-cost", "run", "relink"])
def test_an_existing_output_is_replaced_only_with_force(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"an earlier result")
    assert main([command, str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "exists; pass --force" in err and str(out) in err
    assert out.read_bytes() == b"an earlier result"
    assert main([command, str(src), "-o", str(out), "--force"]) == 0
    assert out.read_bytes() != b"an earlier result"
    default = tmp_path / "plan.xlplan.xlsx"  # the default output is no exception
    default.write_bytes(b"an earlier default output")
    assert main([command, str(src)]) == 1
    assert default.read_bytes() == b"an earlier default output"


def test_file_system_errors_name_the_path_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    missing = tmp_path / "no such folder" / "out.xlsx"
    assert main(["landed-cost", str(src), "-o", str(missing)]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "no such file or folder" in err and "Traceback" not in err
    assert main(["check", str(tmp_path / "nope.xlsx")]) == 1
    assert "file not found" in capsys.readouterr().err
    assert main(["landed-cost", str(src), "-o", str(tmp_path)]) == 1
    assert "folder" in capsys.readouterr().err


def test_version_and_help_answer_without_importing_pandas() -> None:
    code = (
        "import sys; from xlplan.app.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, imported = proc.stdout.splitlines()
    assert version.startswith("xlplan 0.1.0 (xlwings ") and imported == "False"


def test_long_commands_show_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    assert main(["landed-cost", str(src), "-o", str(tmp_path / "o.xlsx")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "... reading and computing plan.xlsx"
    assert "... writing o.xlsx" in out

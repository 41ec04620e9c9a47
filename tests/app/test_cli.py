"""The ``xlplan`` command through its real entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

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
    code = main(["landed-cost", str(src), "-o", str(out), "--fx", str(fx), "--date", "2027-01-01"])
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
    assert (tmp_path / "plan.xlsx.bak").read_bytes() == before
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

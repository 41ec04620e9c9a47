"""The ``xlplan`` command. The only module that prints or exits.

Expected problems (``XlplanError``, pydantic ``ValidationError``) print one bilingual line and
exit 1, without a traceback. Row-level errors print as ``Sheet!Cell: message`` on stderr; the
command still writes the rows that computed and exits 1.

Only the standard library is imported up front: each command imports what it needs when it
runs, so ``xlplan --help`` answers at once.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from xlplan.core.errors import Lang, Message, XlplanError

if TYPE_CHECKING:
    import pandas as pd

    from xlplan.actions import WorkbookPort
    from xlplan.actions.runner import RunReport
    from xlplan.workbook.io import FilePort, TableData

REPO_WORKBOOKS = Path(__file__).resolve().parents[2] / "workbooks"
WRITTEN = Message("结果已写入: ", "written: ")


def _say(lines: Sequence[Message], lang: str) -> None:
    for line in lines:
        print(line.text(lang))


def _print_errors(errors: pd.DataFrame, port: WorkbookPort, lang: str, limit: int = 50) -> None:
    from xlplan.core.errors import format_error, records

    recs = records(errors)
    for rec in recs[:limit]:
        print(format_error(rec, lang, port.locate), file=sys.stderr)
    if len(recs) > limit:
        more = len(recs) - limit
        print(
            Message(f"... 另有 {more} 条错误", f"... +{more} more errors").text(lang),
            file=sys.stderr,
        )


def _out_path(src: Path, out: str | None, suffix: str | None = None) -> Path:
    if out:
        return Path(out)
    ext = suffix or src.suffix
    return src.with_name(f"{src.stem}.xlplan{ext}")


def _lang(args: argparse.Namespace) -> str | None:
    return None if args.lang == "auto" else str(args.lang)


def _today(args: argparse.Namespace) -> date:
    if getattr(args, "date", None):
        return date.fromisoformat(args.date)
    return date.today()


def _report(report: RunReport, port: WorkbookPort, lang: str) -> bool:
    """Print each step's summary (and errors); True when any step reported an error."""
    for step in report.steps:
        _say(step.result.summary, lang)
        if len(step.result.errors):
            _print_errors(step.result.errors, port, lang)
    return report.failed


def cmd_landed_cost(args: argparse.Namespace) -> int:
    from xlplan import actions
    from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_RESULTS, SCENARIOS
    from xlplan.plan.tables import FX
    from xlplan.workbook.io import FilePort, read_csv_table

    src = Path(args.input)
    given = {FX.key: read_csv_table(Path(args.fx), FX)} if args.fx else {}
    if args.scenarios:
        given[SCENARIOS.key] = read_csv_table(Path(args.scenarios), SCENARIOS)
    given.update(_scenario_selection(args.scenario))
    port = FilePort(
        src,
        actions.CATALOG,
        lang=_lang(args),
        csv_table=LANDED_COST.key,
        csv_result=LANDED_COST_RESULTS.key,
        given=given,
    )
    target = _out_path(src, args.output)
    _refuse_overwrite(src, target)
    names = ["landed_cost", *(["scenarios"] if args.scenario or args.scenarios else [])]
    report = actions.run(port, _today(args), names)
    port.save(target)
    failed = _report(report, port, port.lang)
    print(WRITTEN.text(port.lang) + str(target))
    for path in _save_scenario_csv(port, target):
        print(WRITTEN.text(port.lang) + str(path))
    return 1 if failed else 0


def _scenario_selection(names: Sequence[str] | None) -> dict[str, TableData]:
    """``--scenario NAME`` (repeatable) as the Scenarios-to-compare table it replaces."""
    if not names:
        return {}
    import pandas as pd

    from xlplan.landed_cost.tables import SCENARIO_SELECTION
    from xlplan.workbook.io import TableData

    frame = pd.DataFrame({"scenario": list(names)}, dtype=object)
    return {
        SCENARIO_SELECTION.key: TableData(
            SCENARIO_SELECTION, frame, sheet="--scenario", header_row=0, columns={"scenario": 0}
        )
    }


def _save_scenario_csv(port: FilePort, target: Path) -> list[Path]:
    """Beside a CSV result, the scenario comparison and its summary as CSV files."""
    if target.suffix.lower() != ".csv":
        return []
    from xlplan.landed_cost.tables import SCENARIO_RESULTS, SCENARIO_SUMMARY
    from xlplan.workbook.io import write_csv

    written = []
    for table, suffix in ((SCENARIO_RESULTS, ".scenarios.csv"), (SCENARIO_SUMMARY, ".summary.csv")):
        frame = port.written.get(table.key)
        if frame is None:
            continue
        path = target.with_name(target.stem + suffix)
        headers = {c.key: c.header(port.lang) for c in table.columns}
        write_csv(path, frame[table.keys].rename(columns=headers))
        written.append(path)
    return written


def cmd_run(args: argparse.Namespace) -> int:
    from xlplan import actions
    from xlplan.workbook.io import FilePort

    src = Path(args.input)
    given: dict[str, TableData] = {}
    if args.orders:
        given["order_imports"] = _order_imports([_order_file(text) for text in args.orders])
    given.update(_scenario_selection(args.scenario))
    port = FilePort(src, actions.CATALOG, lang=_lang(args), given=given)
    lang = port.lang
    target = _target(src, args, lang)

    def progress(i: int, n: int, label: Message) -> None:
        print(f"[{i}/{n}] {label.text(lang)} ...", flush=True)

    names = args.action
    if names and args.scenario and "scenarios" not in names:
        names = [*names, "scenarios"]
    report = actions.run(port, _today(args), names or None, progress=progress)
    failed = _report(report, port, lang)
    port.save(target)
    print(WRITTEN.text(lang) + str(target))
    return 1 if failed else 0


def _order_file(text: str) -> tuple[Path, str]:
    """``FILE`` or ``FILE:FORMAT`` (default shopify) from ``--orders``."""
    from xlplan.maps.tables import ORDER_FORMATS

    path, sep, fmt = text.rpartition(":")
    if not sep or fmt not in ORDER_FORMATS:
        return Path(text), "shopify"
    return Path(path), fmt


def _order_imports(files: Sequence[tuple[Path, str]]) -> TableData:
    """The Customer Map's import table, made of the order files given on the command line."""
    import pandas as pd

    from xlplan.maps.tables import ORDER_IMPORTS
    from xlplan.workbook.io import TableData

    rows = [{"path": str(p), "format": fmt, "note": "xlplan run --orders"} for p, fmt in files]
    frame = pd.DataFrame(rows).reindex(columns=ORDER_IMPORTS.keys)
    return TableData(
        ORDER_IMPORTS,
        frame.astype(object),
        sheet="--orders",
        header_row=0,
        first_col=1,
        columns={k: i for i, k in enumerate(ORDER_IMPORTS.keys)},
    )


def _target(src: Path, args: argparse.Namespace, lang: str) -> Path:
    """Where a run writes: a new file by default; with ``--in-place`` the input, after keeping
    a ``.bak`` copy of it."""
    if getattr(args, "in_place", False):
        backup = src.with_name(src.name + ".bak")
        shutil.copy2(src, backup)
        print(Message("已备份: ", "backup: ").text(lang) + str(backup))
        return src
    target = _out_path(src, args.output)
    _refuse_overwrite(src, target)
    return target


def _refuse_overwrite(src: Path, target: Path) -> None:
    if target.exists() and target.resolve() == src.resolve():
        raise XlplanError(
            Message(
                "输出文件与输入相同；默认不覆盖用户文件（需要时用 --in-place）",
                "the output is the input file; XLPlan never overwrites your file unless you "
                "pass --in-place",
            )
        )


def cmd_new(args: argparse.Namespace) -> int:
    from xlplan.app import templates

    year = args.year or (_today(args).year + 1)
    target = Path(args.output or f"xlplan-plan-{year}-{args.lang}.xlsx")
    if target.exists() and not args.force:
        raise XlplanError(
            Message(
                f"{target} 已存在；用 --force 覆盖", f"{target} exists; pass --force to replace it"
            )
        )
    target.write_bytes(templates.template_bytes(args.lang, plan_year=year))
    print(Message("新计划已创建: ", "new plan: ").text(args.lang) + str(target))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import json

    from xlplan import actions
    from xlplan.core.errors import records
    from xlplan.workbook.io import FilePort

    src = Path(args.input)
    port = FilePort(src, actions.CATALOG, lang=_lang(args))
    lang = port.lang
    report = actions.run(port, _today(args), ["check"])
    errors = report.errors
    if args.json:
        out = [
            {
                "where": port.locate(r),
                "table": r.table,
                "row": r.row + 1,
                "column": r.column,
                "zh": r.zh,
                "en": r.en,
            }
            for r in records(errors)
        ]
        print(json.dumps({"problems": out, "count": len(out)}, ensure_ascii=False, indent=2))
    else:
        _print_errors(errors, port, lang, limit=200)
        _say(report.summary, lang)
    return 1 if len(errors) else 0


def cmd_templates(args: argparse.Namespace) -> int:
    from xlplan.app import templates

    out = Path(args.out) if args.out else REPO_WORKBOOKS
    if args.check:
        problems = templates.check_templates(out)
        for p in problems:
            print(f"differs from a fresh build: {p}", file=sys.stderr)
        if problems:
            print("run `xlplan templates build` and commit workbooks/", file=sys.stderr)
            return 1
        print(f"templates in {out} match a fresh build")
        return 0
    for path in templates.build_templates(out):
        print(f"written: {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from xlplan.app import demo

    out = Path(args.out)
    result = demo.run_demo(out, today=_today(args), render=not args.no_pdf)
    for line in result.lines:
        print(line)
    return 0


def cmd_relink(args: argparse.Namespace) -> int:
    """Relink the file's add-in formulas at the zip level (every other part stays as it was)."""
    from xlplan import actions
    from xlplan.core.errors import InputError
    from xlplan.workbook.io import check_readable, detect_lang, write_file
    from xlplan.workbook.relink import relink_package

    src = Path(args.input)
    if src.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(
            f"不支持的文件类型 {src.suffix}（支持 .xlsx、.xlsm）",
            f"unsupported file type {src.suffix} (use .xlsx or .xlsm)",
        )
    check_readable(src)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise InputError(
            f"无法读取文件：{src}（{exc.strerror}）", f"cannot read {src}: {exc.strerror}"
        ) from exc
    lang = detect_lang(src, actions.CATALOG) if args.lang == "auto" else args.lang
    new, count = relink_package(data)
    if args.in_place and not count:
        _say(
            [Message("没有需要修复的公式；文件未改动", "no formula needed repair; file unchanged")],
            lang,
        )
        return 0
    target = _target(src, args, lang)
    write_file(target, new)
    _say([Message(f"已修复 {count} 个公式", f"relinked {count} formulas")], lang)
    print(WRITTEN.text(lang) + str(target))
    return 0


def cmd_addin(args: argparse.Namespace) -> int:
    from xlplan.app import addin

    install = args.addin_command == "install"
    report = addin.build_addin(
        Path(args.output),
        excel=install or not args.no_excel,
        install=install,
        interpreter=args.interpreter,
    )
    for line in report.lines(args.lang):
        print(line)
    if report.remaining:
        print(
            Message(
                "[ ] 的步骤仍需在 Windows 的 Excel 中完成: xlplan addin install",
                "steps marked [ ] remain for Excel on Windows: xlplan addin install",
            ).text(args.lang)
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlplan",
        description="XLPlan: three-maps sales planning for cross-border e-commerce "
        "(跨境电商三张地图年度规划).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("landed-cost", help="compute landed cost and margins for a table of lines")
    p.add_argument("input", help=".xlsx/.xlsm with a Landed Cost table, or a .csv of lines")
    p.add_argument("-o", "--output", help="output file (.xlsx or .csv); default: <input>.xlplan.*")
    p.add_argument("--lang", choices=["auto", "zh", "en"], default="auto")
    p.add_argument("--date", help="today's date (YYYY-MM-DD) when the file sets no rules date")
    p.add_argument(
        "--fx",
        help="CSV FX table (from_currency,to_currency,rate = units of 'to' per 'from'); "
        "replaces the workbook's FX table",
    )
    p.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="also compute the lines under this rule scenario (repeat; base comes first); "
        "a CSV result gets <output>.scenarios.csv and <output>.summary.csv beside it",
    )
    p.add_argument(
        "--scenarios",
        metavar="FILE",
        help="CSV Scenarios table (scenario,rule,market,origin,hs_prefix,measure,"
        "from_currency,to_currency,value); replaces the workbook's",
    )
    p.set_defaults(func=cmd_landed_cost)

    p = sub.add_parser("run", help="run actions on a plan workbook (writes a new file)")
    p.add_argument("input")
    p.add_argument("--action", action="append", help="action name; repeat; default: all")
    p.add_argument("-o", "--output")
    p.add_argument("--in-place", action="store_true", help="overwrite the input (keeps a .bak)")
    p.add_argument("--lang", choices=["auto", "zh", "en"], default="auto")
    p.add_argument("--date")
    p.add_argument(
        "--orders",
        action="append",
        metavar="FILE[:FORMAT]",
        help="order export for the Customer Map; FORMAT as in the Format list of the Customer "
        "Map sheet (default shopify); repeat; replaces the sheet's list of files",
    )
    p.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="rule scenario of the Scenarios sheet to compare (repeat; default: all); replaces "
        "the sheet's Scenarios to compare",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("new", help="create a new plan workbook from the template")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("-o", "--output", help="file to write (default: xlplan-plan-<year>-<lang>.xlsx)")
    p.add_argument("--year", type=int, help="plan year (default: next year)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--date", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("check", help="validate every input table of a plan workbook")
    p.add_argument("input")
    p.add_argument("--lang", choices=["auto", "zh", "en"], default="auto")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--date")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("templates", help="build or check the templates in workbooks/")
    tsub = p.add_subparsers(dest="templates_command", required=True)
    b = tsub.add_parser("build")
    b.add_argument("--check", action="store_true", help="fail if committed templates differ")
    b.add_argument("--out", help="folder (default: the repository's workbooks/)")
    b.set_defaults(func=cmd_templates)

    p = sub.add_parser("demo", help="compute the shipped demo plan into out/")
    p.add_argument("--out", default="out")
    p.add_argument("--no-pdf", action="store_true", help="skip the LibreOffice PDF render")
    p.add_argument("--date")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("addin", help="build or install the Excel add-in (xlplan.xlam)")
    asub = p.add_subparsers(dest="addin_command", required=True)
    for name, text in (
        ("build", "build xlplan.xlam from the installed xlwings add-in template"),
        ("install", "build, then install into Excel's XLSTART folder (Windows, needs Excel)"),
    ):
        a = asub.add_parser(name, help=text)
        a.add_argument("-o", "--output", default="xlplan.xlam", help="add-in file to write")
        a.add_argument("--interpreter", help="Python for Excel to run (default: this one)")
        a.add_argument("--lang", choices=["zh", "en"], default="en")
        if name == "build":
            a.add_argument(
                "--no-excel",
                action="store_true",
                help="skip the steps that need Excel (any OS); lists what remains",
            )
        a.set_defaults(func=cmd_addin)

    p = sub.add_parser(
        "relink", help="repair formulas that name XLP_ functions through an add-in path"
    )
    p.add_argument("input", help=".xlsx/.xlsm whose formulas show #NAME? or an .xlam path")
    p.add_argument("-o", "--output", help="file to write (default: <input>.xlplan.*)")
    p.add_argument("--in-place", action="store_true", help="overwrite the input (keeps a .bak)")
    p.add_argument("--lang", choices=["auto", "zh", "en"], default="auto")
    p.set_defaults(func=cmd_relink)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = getattr(args, "lang", None)
    try:
        code: int = args.func(args)
    except XlplanError as exc:
        shown = exc.text(lang) if lang in (Lang.ZH.value, Lang.EN.value) else exc.message.both
        print(f"xlplan: {shown}", file=sys.stderr)
        return 1
    except Exception as exc:
        from pydantic import ValidationError  # imported here: --help stays fast

        if not isinstance(exc, ValidationError):
            raise
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            print(f"xlplan: {loc}: {err['msg']}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())

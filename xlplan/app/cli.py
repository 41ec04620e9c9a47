"""The ``xlplan`` command. The only module that prints or exits.

Expected problems (``XlplanError``, pydantic ``ValidationError``) print one bilingual line and
exit 1, without a traceback. Row-level errors print as ``Sheet!Cell: message`` on stderr; the
command still writes the rows that computed and exits 1.

Only the standard library is imported up front: each command imports what it needs when it
runs, so ``xlplan --help`` and ``xlplan --version`` answer at once (pandas alone takes half a
second to import).

Files: the input is never written unless ``--in-place`` is given, and then only after a
numbered backup of it is safely on disk; an existing output is replaced only with ``--force``;
a file open in Excel or LibreOffice (a lock file beside it) is refused before anything is
written; every output is written atomically; every file-system error ends in one bilingual
line naming the path and what to do, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from xlplan.actions import WorkbookPort
    from xlplan.actions.runner import RunReport
    from xlplan.app.checks import Check
    from xlplan.core.errors import Message, XlplanError
    from xlplan.workbook.io import FilePort, TableData

REPO_WORKBOOKS = Path(__file__).resolve().parents[2] / "workbooks"


def _written(lang: str, target: Path) -> str:
    from xlplan.core.errors import Message

    return Message("结果已写入: ", "written: ").text(lang) + str(target)


def _step(lang: str) -> Callable[[str, str], None]:
    """Progress lines of a long command: ``[reading] plan.xlsx ...``, flushed at once."""

    from xlplan.core.errors import Message

    def say(zh: str, en: str) -> None:
        print(f"... {Message(zh, en).text(lang)}", flush=True)

    return say


def _say(lines: Sequence[Message], lang: str) -> None:
    for line in lines:
        print(line.text(lang))


def _print_errors(errors: pd.DataFrame, port: WorkbookPort, lang: str, limit: int = 50) -> None:
    from xlplan.core.errors import Message, format_error, records

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
    target = _out_path(src, args.output)
    _check_target(src, target, args)
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
    names = ["landed_cost", *(["scenarios"] if args.scenario or args.scenarios else [])]
    port.prefetch(actions.inputs(names))
    step = _step(port.lang)
    step(f"读取并计算 {src.name}", f"reading and computing {src.name}")
    report = actions.run(port, _today(args), names)
    failed = _report(report, port, port.lang)
    step(f"写入 {target.name}", f"writing {target.name}")
    _save(port, src, target, args, port.lang)
    print(_written(port.lang, target))
    for path in _save_scenario_csv(port, target):
        print(_written(port.lang, path))
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
    from xlplan.core.errors import Message, XlplanError
    from xlplan.workbook.io import FilePort

    if args.input is None and args.action and _is_workbook(args.action[-1]):
        args.input = args.action.pop()  # `run --action align split plan.xlsx`
    if args.input is None:
        raise XlplanError(Message("缺少输入文件 (plan.xlsx)", "no input file given (plan.xlsx)"))
    src = Path(args.input)
    given: dict[str, TableData] = {}
    if args.orders:
        given["order_imports"] = _order_imports([_order_file(text) for text in args.orders])
    given.update(_scenario_selection(args.scenario))
    target = _target(src, args)
    port = FilePort(src, actions.CATALOG, lang=_lang(args), given=given)
    names = action_names(args.action) if args.action else None
    if names and args.scenario and "scenarios" not in names:
        names = [*names, "scenarios"]
    port.prefetch(actions.inputs(names))
    lang = port.lang

    def progress(i: int, n: int, label: Message) -> None:
        print(f"[{i}/{n}] {label.text(lang)} ...", flush=True)

    report = actions.run(port, _today(args), names, progress=progress)
    failed = _report(report, port, lang)
    _step(lang)(f"写入 {target.name}", f"writing {target.name}")
    _save(port, src, target, args, lang)
    print(_written(lang, target))
    return 1 if failed else 0


def _save(port: object, src: Path, target: Path, args: argparse.Namespace, lang: str) -> None:
    """Save ``port``'s output to ``target``; in place, a numbered backup of the input first."""
    from xlplan.core.errors import Message
    from xlplan.workbook import files

    if getattr(args, "in_place", False):
        files.check_not_open(src)  # opened while we computed: still refuse
        backup = files.write_backup(src)
        print(Message("已备份原文件: ", "backup of your file: ").text(lang) + str(backup))
    port.save(target)  # type: ignore[attr-defined]


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


def _target(src: Path, args: argparse.Namespace) -> Path:
    """Where a run writes: a new file by default; with ``--in-place`` the input (a numbered
    backup of it is kept, :func:`_save`). Checked before anything is read or written."""
    from xlplan.workbook import files
    from xlplan.workbook.io import check_readable

    if getattr(args, "in_place", False):
        if getattr(args, "output", None):
            from xlplan.core.errors import InputError

            raise InputError(
                "--in-place 与 -o 不能同时使用", "use either --in-place or -o, not both"
            )
        check_readable(src)
        files.check_not_open(src)
        return src
    target = _out_path(src, args.output)
    _check_target(src, target, args)
    return target


def _check_target(src: Path, target: Path, args: argparse.Namespace) -> None:
    """The output may be written: not the input, not an existing file without ``--force``, not
    a file open in Excel or LibreOffice, not a folder."""
    from xlplan.core.errors import FileError
    from xlplan.workbook import files

    if target.exists() and src.exists() and target.resolve() == src.resolve():
        raise FileError(
            "输出文件与输入相同；默认不覆盖用户文件（需要时用 --in-place）",
            "the output is the input file; XLPlan never overwrites your file unless you "
            "pass --in-place",
        )
    if target.is_dir():
        raise FileError(f"输出是一个文件夹: {target}", f"the output is a folder: {target}")
    if target.exists() and not getattr(args, "force", False):
        raise FileError(
            f"{target} 已存在；用 --force 覆盖，或用 -o 指定另一个文件",
            f"{target} exists; pass --force to replace it, or choose another file with -o",
        )
    if target.exists():
        files.check_not_open(target)


def cmd_new(args: argparse.Namespace) -> int:
    from xlplan.app import templates
    from xlplan.core.errors import Message
    from xlplan.workbook.io import write_file

    year = args.year or (_today(args).year + 1)
    target = Path(args.output or f"xlplan-plan-{year}-{args.lang}.xlsx")
    _check_target(Path(), target, args)
    targets = None if args.example else templates.PlanTargets.empty()
    say = _step(args.lang)
    say(f"生成 {year} 年计划的全部工作表", f"building every sheet of the {year} plan")
    data = templates.template_bytes(args.lang, plan_year=year, targets=targets)
    say(f"写入 {target.name}", f"writing {target.name}")
    write_file(target, data)
    kind = (
        Message("（示例数据，可直接运行）", " (the worked example, ready to run)")
        if args.example
        else Message("（空白输入表，设置为默认值）", " (empty input tables, default settings)")
    )
    print(
        Message("新计划已创建: ", "new plan: ").text(args.lang) + str(target) + kind.text(args.lang)
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import json

    from xlplan import actions
    from xlplan.core.errors import Message, records
    from xlplan.workbook.io import FilePort

    src = Path(args.input)
    port = FilePort(src, actions.CATALOG, lang=_lang(args))
    lang = port.lang
    # progress goes to stderr with --json, so stdout stays one JSON document
    out = sys.stderr if args.json else sys.stdout
    tables = actions.CATALOG.input_tables()
    print(
        Message(
            f"... 读取 {src.name}（{len(tables)} 个输入表）",
            f"... reading {src.name} ({len(tables)} input tables)",
        ).text(lang),
        file=out,
        flush=True,
    )
    port.prefetch([t.key for t in tables])

    def progress(i: int, n: int, label: Message) -> None:
        step = Message(f"校验 {label.zh}", f"checking {label.en}")
        print(f"[{i}/{n}] {step.text(lang)} ...", file=out, flush=True)

    report = actions.validate(port, _today(args), progress=progress)
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
    result = demo.run_demo(
        out,
        today=_today(args),
        progress=lambda step: print(f"... {step}", flush=True),
    )
    for line in result.lines:
        print(line)
    if args.no_pdf:
        return 0
    soffice = shutil.which("soffice")
    if soffice is None:
        print("(LibreOffice not found: no PDF render; install libreoffice-calc)")
        return 0
    # The summary and the workbooks are out; the renders take longer than the plan itself.
    print("... rendering the PDFs with LibreOffice (--no-pdf skips this) ...", flush=True)
    rendered = demo.render_pdfs(result.workbooks, out, soffice)
    for pdf in rendered.pdfs:
        print(f"written: {pdf}")
    for problem in rendered.problems:
        print(f"xlplan: {problem}", file=sys.stderr)
    return 1 if rendered.problems else 0


def cmd_relink(args: argparse.Namespace) -> int:
    """Relink the file's add-in formulas at the zip level (every other part stays as it was)."""
    from xlplan import actions
    from xlplan.core.errors import InputError, Message
    from xlplan.workbook import files
    from xlplan.workbook.io import check_kind, check_readable, detect_lang, write_file
    from xlplan.workbook.relink import relink_package

    src = Path(args.input)
    if src.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(
            f"不支持的文件类型 {src.suffix}（支持 .xlsx、.xlsm）",
            f"unsupported file type {src.suffix} (use .xlsx or .xlsm)",
        )
    target = _target(src, args)
    check_readable(src)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise files.file_error(src, exc, "read") from exc
    lang = detect_lang(src, actions.CATALOG) if args.lang == "auto" else args.lang
    new, count = relink_package(data)
    if args.in_place and not count:
        _say(
            [Message("没有需要修复的公式；文件未改动", "no formula needed repair; file unchanged")],
            lang,
        )
        return 0
    check_kind(src, target)
    if args.in_place:
        files.check_not_open(src)
        backup = files.write_backup(src)
        print(Message("已备份原文件: ", "backup of your file: ").text(lang) + str(backup))
    write_file(target, new)
    _say([Message(f"已修复 {count} 个公式", f"relinked {count} formulas")], lang)
    print(_written(lang, target))
    return 0


def _logged(exc: XlplanError, where: str) -> XlplanError:
    """``exc`` logged with its traceback, its message naming the log file."""
    from xlplan.app import logs
    from xlplan.core.errors import Message, XlplanError

    path = logs.log_exception(where, exc)
    if str(path) in exc.message.both:
        return exc
    return XlplanError(
        exc.message + Message(f"\n{logs.see_log(path).zh}", f"\n{logs.see_log(path).en}")
    )


def cmd_addin(args: argparse.Namespace) -> int:
    from xlplan.app import addin
    from xlplan.core.errors import Message, XlplanError

    install = args.addin_command == "install"
    try:
        report = addin.build_addin(
            Path(args.output),
            excel=install or not args.no_excel,
            install=install,
            interpreter=args.interpreter,
        )
    except XlplanError as exc:
        raise _logged(exc, f"addin {args.addin_command}") from exc
    for line in report.lines(args.lang):
        print(line)
    if report.remaining:
        print(
            Message(
                "[ ] 的步骤仍需在 Windows 的 Excel 中完成: xlplan addin install",
                "steps marked [ ] remain for Excel on Windows: xlplan addin install",
            ).text(args.lang)
        )
    elif install:
        print(
            Message(
                "下一步: 启动 Excel（已打开的会自动加载），然后运行 xlplan addin selftest 验证",
                "next: start Excel (a running one has loaded it), then run xlplan addin "
                "selftest to prove it",
            ).text(args.lang)
        )
    return 0


def _print_checks(checks: Sequence[Check], lang: str) -> None:
    for check in checks:
        for line in check.lines(lang):
            print(line)


def cmd_addin_status(args: argparse.Namespace) -> int:
    from xlplan.app import addin
    from xlplan.app.checks import all_pass
    from xlplan.core.errors import Message

    path = addin.installed_path()
    checks = addin.status_checks(path)
    _print_checks(checks, args.lang)
    if path is not None and not path.is_file():
        print(
            Message(
                f"xlplan addin install 会把它装到 {path}",
                f"`xlplan addin install` will install it at {path}",
            ).text(args.lang)
        )
    elif path is not None:
        print(
            Message("卸载: xlplan addin remove", "to uninstall: xlplan addin remove").text(
                args.lang
            )
        )
    return 0 if all_pass(checks) else 1


def cmd_addin_remove(args: argparse.Namespace) -> int:
    from xlplan.app import addin
    from xlplan.core.errors import Message, XlplanError

    path = addin.installed_path()
    if path is None:
        raise XlplanError(
            Message("此系统上没有 Excel 加载项", "there is no Excel add-in on this system")
        )
    edge = addin.installed_edge() if sys.platform.startswith("win") else None
    try:
        done = addin.remove_addin(path, edge)
    except XlplanError as exc:
        raise _logged(exc, "addin remove") from exc
    _say(done, args.lang)
    return 0


def cmd_addin_selftest(args: argparse.Namespace) -> int:
    from xlplan.app import addin
    from xlplan.app.checks import all_pass
    from xlplan.core.errors import Message, XlplanError

    addin.require_windows()
    path = Path(args.addin) if args.addin else addin.installed_path()
    if path is None:
        raise XlplanError(Message("此系统上没有 Excel", "no Excel on this system"))
    checks = addin.require_edge(None).selftest(path, args.plan_lang, args.visible)
    _print_checks(checks, args.lang)
    ok = all_pass(checks)
    print(
        (
            Message(
                "自检通过：XLPlan 在此 Excel 中可用", "self-test passed: XLPlan works in this Excel"
            )
            if ok
            else Message(
                "自检未通过：按上面的“修复”操作；xlplan doctor 列出全部检查",
                "self-test failed: follow the 'fix' above; xlplan doctor lists every check",
            )
        ).text(args.lang)
    )
    return 0 if ok else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    import json

    from xlplan.app import doctor
    from xlplan.app.checks import all_pass

    checks = doctor.run_doctor(excel=not args.no_excel)
    if args.json:
        print(json.dumps(doctor.report_json(checks), ensure_ascii=False, indent=2))
    else:
        for line in doctor.report_lines(checks, args.lang):
            print(line)
    return 0 if all_pass(checks) else 1


def action_names(given: Sequence[str]) -> list[str]:
    """The actions ``--action`` names: several per flag (``align split``), comma-separated
    (``align,split``) or repeated; ``landed-cost`` and ``landed_cost`` are the same action.
    An unknown name is refused with the closest known one."""
    import difflib

    from xlplan import actions
    from xlplan.core.errors import Message, XlplanError

    names = [
        part.strip().lower().replace("-", "_")
        for text in given
        for part in text.replace("，", ",").split(",")
        if part.strip()
    ]
    known = list(actions.ACTIONS)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" ({_cli_name(close[0])}?)" if close else ""
            listed = ", ".join(_cli_name(k) for k in known)
            raise XlplanError(
                Message(
                    f"未知的操作: {name}{hint}；可用: {listed}",
                    f"unknown action: {name}{hint}; available: {listed}",
                )
            )
    return list(dict.fromkeys(names))


def _is_workbook(text: str) -> bool:
    return Path(text).suffix.lower() in (".xlsx", ".xlsm")


def _cli_name(name: str) -> str:
    return name.replace("_", "-")


def _actions_help() -> str:
    """The ``run -h`` epilog: every action, in run order, with one line each."""
    from xlplan import actions

    width = max(len(_cli_name(n)) for n in actions.ACTIONS)
    lines = ["actions (操作), in the order a full run performs them:"]
    for name, action in actions.ACTIONS.items():
        mark = "" if not action.standalone else "  [only when named]"
        lines.append(f"  {_cli_name(name):<{width}}  {action.label.en} / {action.label.zh}{mark}")
    lines.append("")
    lines.append("examples: xlplan run plan.xlsx --action align split -o out.xlsx")
    lines.append("          xlplan run plan.xlsx --action landed-cost,business")
    return "\n".join(lines)


class _LazyHelpParser(argparse.ArgumentParser):
    """A parser whose epilog is computed only when its help is shown (``run -h`` lists the
    actions without making ``xlplan --help`` import them)."""

    epilog_source: object = None

    def format_help(self) -> str:
        if callable(self.epilog_source):
            self.epilog = str(self.epilog_source())
        return super().format_help()


class _Version(argparse.Action):
    """``--version``: XLPlan's, and the xlwings and Python it runs with (looked up only when
    asked, so ``xlplan --help`` stays fast)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from xlplan import __version__

        xlwings = _installed_version("xlwings")
        python = ".".join(str(v) for v in sys.version_info[:3])
        print(f"xlplan {__version__} (xlwings {xlwings}, Python {python})")
        parser.exit()


def _installed_version(name: str) -> str:
    """The installed version of ``name``, read from the ``dist-info`` folder beside the package
    (the metadata lookup scans every installed distribution: a tenth of a second)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return "not installed"
    for info in Path(spec.origin).parents[1].glob(f"{name}-*.dist-info"):
        return info.name[len(name) + 1 : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlplan",
        description="XLPlan: three-maps sales planning for cross-border e-commerce "
        "(跨境电商三张地图年度规划).",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_LazyHelpParser)

    p = sub.add_parser("landed-cost", help="compute landed cost and margins for a table of lines")
    p.add_argument("input", help=".xlsx/.xlsm with a Landed Cost table, or a .csv of lines")
    p.add_argument("-o", "--output", help="output file (.xlsx or .csv); default: <input>.xlplan.*")
    p.add_argument("--lang", choices=["auto", "zh", "en"], default="auto")
    p.add_argument("--date", help="today's date (YYYY-MM-DD) when the file sets no rules date")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
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

    p = sub.add_parser(
        "run",
        help="run actions on a plan workbook (writes a new file)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    assert isinstance(p, _LazyHelpParser)
    p.epilog_source = _actions_help
    p.add_argument("input", nargs="?", help="plan workbook (.xlsx/.xlsm)")
    p.add_argument(
        "--action",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="actions to run (several, or comma-separated; listed below); default: all",
    )
    p.add_argument("-o", "--output")
    p.add_argument(
        "--in-place",
        action="store_true",
        help="write into the input (a numbered backup <name>.backup-N.xlsx is kept first)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output file")
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
    p.add_argument(
        "--example",
        action="store_true",
        help="fill the plan with the worked example (default: empty input tables)",
    )
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

    p = sub.add_parser(
        "addin", help="build, install, check or remove the Excel add-in (xlplan.xlam)"
    )
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
    a = asub.add_parser("status", help="is the add-in installed, for which versions, set how")
    a.add_argument("--lang", choices=["zh", "en"], default="en")
    a.set_defaults(func=cmd_addin_status)
    a = asub.add_parser("remove", help="close the add-in in running Excels and delete it")
    a.add_argument("--lang", choices=["zh", "en"], default="en")
    a.set_defaults(func=cmd_addin_remove)
    a = asub.add_parser(
        "selftest",
        help="in a hidden Excel: a new plan computes and a ribbon action runs (Windows)",
    )
    a.add_argument("--addin", help="add-in to test (default: the installed one)")
    a.add_argument("--plan-lang", choices=["zh", "en"], default="en", help="template language")
    a.add_argument("--visible", action="store_true", help="show the Excel it drives")
    a.add_argument("--lang", choices=["zh", "en"], default="en")
    a.set_defaults(func=cmd_addin_selftest)

    p = sub.add_parser(
        "doctor", help="check Python, xlwings, Excel and the add-in; say what to fix"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--no-excel", action="store_true", help="do not start a hidden Excel")
    p.add_argument("--lang", choices=["zh", "en"], default="en")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser(
        "relink", help="repair formulas that name XLP_ functions through an add-in path"
    )
    p.add_argument("input", help=".xlsx/.xlsm whose formulas show #NAME? or an .xlam path")
    p.add_argument("-o", "--output", help="file to write (default: <input>.xlplan.*)")
    p.add_argument(
        "--in-place",
        action="store_true",
        help="write into the input (a numbered backup <name>.backup-N.xlsx is kept first)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--lang", choices=["auto", "zh", "en"], default="auto")
    p.set_defaults(func=cmd_relink)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Arrow's buffers from the C allocator, which gives memory back between the steps of a
    # command: with Arrow's default (mimalloc) a 100,000-line plan peaked 60 MB higher.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = getattr(args, "lang", None)
    from xlplan.core.errors import XlplanError

    try:
        code: int = args.func(args)
    except XlplanError as exc:
        shown = exc.text(lang) if lang in ("zh", "en") else exc.message.both
        print(f"xlplan: {shown}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader of our output went away (| head): nothing to say
        return 1
    except OSError as exc:  # a file-system error not met at a known step: still no traceback
        from xlplan.workbook.files import file_error

        path = Path(str(exc.filename)) if exc.filename else Path(getattr(args, "input", "."))
        problem = file_error(path, exc, "read or write")
        shown = problem.text(lang) if lang in ("zh", "en") else problem.message.both
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

"""``xlplan run``'s action names as people type them (issue 11): ``run -h`` lists every action
with one line, ``--action`` takes several names or a comma list, and the landed-cost action is
``landed-cost`` on the command line (``landed_cost`` accepted too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlplan import actions
from xlplan.app import templates
from xlplan.app.cli import action_names, main
from xlplan.core.errors import XlplanError


def test_run_help_lists_every_action_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "-h"])
    out = capsys.readouterr().out
    for name, action in actions.ACTIONS.items():
        line = next(x for x in out.splitlines() if x.strip().startswith(name.replace("_", "-")))
        assert action.label.en in line and action.label.zh in line


@pytest.mark.parametrize(
    ("given", "names"),
    [
        (["align", "split"], ["align", "split"]),
        (["align,split"], ["align", "split"]),
        (["align， split"], ["align", "split"]),
        (["landed-cost"], ["landed_cost"]),
        (["landed_cost", "Landed-Cost"], ["landed_cost"]),
        (["track", "align"], ["track", "align"]),
    ],
)
def test_action_names_as_typed(given: list[str], names: list[str]) -> None:
    assert action_names(given) == names


def test_an_unknown_action_names_the_closest() -> None:
    with pytest.raises(XlplanError) as info:
        action_names(["landed-cots"])
    assert "landed-cost?" in info.value.message.en and "landed-cost?" in info.value.message.zh


def test_several_actions_in_one_flag_run_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    out = tmp_path / "out.xlsx"
    assert main(["run", str(src), "--action", "split,align", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[1/2] Align the three maps" in printed and "[2/2] Split into months" in printed
    # the names before the file, as people also type them
    out2 = tmp_path / "out2.xlsx"
    assert main(["run", "--action", "landed-cost", "align", str(src), "-o", str(out2)]) == 0
    assert "[1/2] Landed cost" in capsys.readouterr().out

"""CSV a spreadsheet will not execute, a Content-Disposition any name fits in, YAML uploads without aliases."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from servicekit.downloads import content_disposition, csv_writer, spreadsheet_safe
from servicekit.errors import Unprocessable
from servicekit.uploads import load_yaml_upload

ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} [{','.join(['*' + chr(ord('a') + i)] * 9)}]" for i in range(8)]
)


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"])
def test_cells_a_spreadsheet_would_run_are_written_as_text(cell: str) -> None:
    out = io.StringIO()
    csv_writer(out, lineterminator="\n").writerow(["ok", cell, 7])
    written = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert written[0] == "ok" and written[2] == "7"
    assert written[1] == "'" + cell.replace("\r", "\n")


def test_numbers_and_plain_text_are_left_alone() -> None:
    assert [spreadsheet_safe(v) for v in ("-3", "+1.5", "Nhà máy", "", None, 4)] == [
        "-3",
        "+1.5",
        "Nhà máy",
        "",
        None,
        4,
    ]


def test_content_disposition_takes_any_name() -> None:
    assert content_disposition("assessment-1.csv") == 'attachment; filename="assessment-1.csv"'
    khmer = content_disposition("ឧបករណ៍_2026.yaml")
    khmer.encode("latin-1")  # a header must be Latin-1: this is what gave the 500
    assert khmer.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E1%9E%A7" in khmer
    sneaky = content_disposition('a"; evil=1\r\nX-Injected: 1.csv')
    assert "\r" not in sneaky and "\n" not in sneaky
    assert sneaky.split(";")[1].strip().startswith('filename="a_')


def test_a_yaml_alias_bomb_is_refused_not_expanded() -> None:
    assert len(ALIAS_BOMB.encode()) < 600
    assert yaml.safe_load("a: &a [1]\nb: *a")["b"] == [1]  # what safe_load would do: expand
    with pytest.raises(Unprocessable) as refused:
        load_yaml_upload(ALIAS_BOMB)
    assert refused.value.status == 422
    assert "alias" in str(refused.value)


def test_a_yaml_upload_without_aliases_loads_as_safe_load_does() -> None:
    text = "country: KH\nissues:\n  - code: child_labour\n    notify: [ministry, buyers]\n"
    assert load_yaml_upload(text) == yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError):
        load_yaml_upload("!!python/object:os.system {}")

"""``triage batch``: formats and encodings, bad rows, resuming after kill -9, repeats in
time order, the Dask engine, the HTML report."""
import codecs
import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from triage.batch import BatchOptions, Columns, run_batch
from triage.batch.readers import detect_encoding
from triage.cli import main
from triage.errors import DataFileError
from triage.settings import load_settings

TEXTS = ["工地夜间施工噪音太大吵得睡不着", "饭店油烟直排熏得不敢开窗", "老板拖欠工资三个月不给",
         "楼道里有很浓的燃气味", "小区门口的路灯坏了一个月", "孩子学校食堂饭菜变质"]
SETTINGS = load_settings({"caller_secret": "batch-test-secret"})


def write_csv(path: Path, rows: list[dict], encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def batch(model, input_path, output, **options):
    return run_batch(model, BatchOptions(Path(input_path), Path(output), **options), SETTINGS)


def interrupted_after_three_chunks(monkeypatch, model, input_path, output, **options) -> None:
    """``batch``, stopped (KeyboardInterrupt) as the fourth chunk would become final."""
    from triage.batch import checkpoint

    appended = []
    original = checkpoint.PartFile.append

    def dies_after_three_chunks(self, count, lines, features=b""):
        if len(appended) == 3:
            raise KeyboardInterrupt
        appended.append(count)
        original(self, count, lines, features)
    monkeypatch.setattr(checkpoint.PartFile, "append", dies_after_three_chunks)
    with pytest.raises(KeyboardInterrupt):
        batch(model, input_path, output, **options)
    monkeypatch.setattr(checkpoint.PartFile, "append", original)


@pytest.mark.parametrize("encoding, said", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"),
                                            ("gb18030", "GBK/GB18030"), ("big5", "Big5")])
def test_each_encoding_is_detected_and_every_row_kept_in_order(small_model, tmp_path, encoding, said):
    texts = ["社區樓下燒烤攤油煙很大，晚上吵得睡不著", "老闆拖欠工資三個月不給"] * 20 if encoding == "big5" else TEXTS * 5
    source = write_csv(tmp_path / "in.csv", [{"編號" if encoding == "big5" else "编号": f"A{i}", "text": text}
                                             for i, text in enumerate(texts)], encoding)
    summary = batch(small_model, source, tmp_path / "out.csv", columns=Columns(id=None), workers=1)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.encoding == said and detect_encoding(source)[1] == said
    assert [row["row"] for row in rows] == [str(n) for n in range(1, len(texts) + 1)]
    assert all(row["status"] == "ok" and row["category"] for row in rows)


def test_a_utf16_file_cut_short_keeps_its_rows_and_gives_the_broken_end_an_error_row(small_model, tmp_path):
    source = tmp_path / "in.csv"
    lines = "id,text\r\n" + "".join(f"U{i},{text}\r\n" for i, text in enumerate(TEXTS[:3]))
    # Cut mid-character: one byte (0x6D) left over, below the 0x80 where surrogateescape starts.
    cut = "U9,饭".encode("utf-16-le")[:-1]
    source.write_bytes(codecs.BOM_UTF16_LE + lines.encode("utf-16-le") + cut)
    summary = batch(small_model, source, tmp_path / "out.csv", columns=Columns(id="id"), workers=1)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.encoding == "UTF-16"
    assert [row["id"] for row in rows[:3]] == ["U0", "U1", "U2"] and all(row["status"] == "ok" for row in rows[:3])
    assert len(rows) == 4 and rows[3]["status"] == "error" and "乱码" in rows[3]["error"]


def test_subject_and_body_are_joined_and_the_id_column_kept(small_model, tmp_path):
    source = write_csv(tmp_path / "in.csv", [{"工单号": "G-7", "标题": "油烟扰民", "内容": "饭店油烟直排熏得不敢开窗"}])
    batch(small_model, source, tmp_path / "out.jsonl", columns=Columns(text=("标题", "内容"), id="工单号"))
    [row] = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert row["id"] == "G-7" and row["text"].startswith("油烟扰民。饭店") and row["category"] == "环境保护"
    assert not any(name.startswith("_") for name in row)  # internal columns stay internal


def test_the_output_says_whether_a_rule_chose_the_department(tmp_path, monkeypatch):
    from triage import load_model, model as model_module

    original = model_module.TriageModel._hand_on

    def miss_then_hand_on(self, found, hits, probabilities, text):  # a learned head that misses
        found.update(label="城市管理和综合执法局")
        original(self, found, hits, probabilities, text)

    monkeypatch.setattr(model_module.TriageModel, "_hand_on", miss_then_hand_on)
    source = write_csv(tmp_path / "in.csv", [{"text": "楼顶天台边上站着一个人，说要跳下去"},
                                             {"text": "小区门口的路灯坏了一个月没人修"}])
    batch(load_model(), source, tmp_path / "out.csv", columns=Columns(id=None), workers=1)
    emergency, everyday = read_csv(tmp_path / "out.csv")
    assert (emergency["department"], emergency["department_source"], emergency["urgency"]) == ("公安局", "rule", "特急")
    assert (everyday["department"], everyday["department_source"]) == ("城市管理和综合执法局", "model")


def test_xlsx_in_and_out(small_model, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["id", "text", "phone"])
    for index, text in enumerate(TEXTS):
        book.active.append([index + 100, text, 13812345678.0])  # Excel keeps numbers as floats
    book.save(tmp_path / "in.xlsx")
    summary = batch(small_model, tmp_path / "in.xlsx", tmp_path / "out.xlsx", columns=Columns(id="id", caller="phone"))
    written = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)
    header, *rows = list(written.active.iter_rows(values_only=True))
    written.close()  # read-only workbooks keep their file open until closed
    assert summary.rows == len(TEXTS) and len(rows) == len(TEXTS)
    assert [row[header.index("id")] for row in rows] == [str(index + 100) for index in range(len(TEXTS))]
    assert rows[-1][header.index("caller_case_count")] == len(TEXTS)  # one caller, six rows
    assert "13812345678" not in str(rows)


def test_control_characters_a_sheet_cannot_hold_are_marked_not_fatal_in_xlsx_output(small_model, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    source = write_csv(tmp_path / "in.csv", [{"id": "A\x01B", "text": TEXTS[0]}, {"id": "C\x1b", "text": TEXTS[1]}])
    batch(small_model, source, tmp_path / "out.xlsx", columns=Columns(id="id"))
    written = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)
    header, *rows = list(written.active.iter_rows(values_only=True))
    written.close()
    assert [(row[header.index("id")], row[header.index("status")]) for row in rows] == [("A\ufffdB", "ok"), ("C\ufffd", "ok")]


def test_bad_rows_become_error_entries_and_the_run_goes_on(small_model, tmp_path):
    good = "饭店油烟直排熏得不敢开窗".encode("gb18030")
    damaged = "小区路灯坏了".encode("gb18030")[:-1] + b"\xff\xfe"
    source = tmp_path / "in.csv"
    source.write_bytes(b"text\r\n" + good + b"\r\n\"\"\r\n" + damaged + b"\r\n" + good + b"\r\n")
    summary = batch(small_model, source, tmp_path / "out.csv", report=tmp_path / "report.html")
    rows = read_csv(tmp_path / "out.csv")
    assert [row["status"] for row in rows] == ["ok", "error", "error", "ok"]
    assert "没有文本" in rows[1]["error"] and "乱码" in rows[2]["error"]
    assert summary.errors == 2 and summary.rows == 4
    assert "乱码" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_utf8_file_with_one_damaged_line_is_read_as_utf8(small_model, tmp_path):
    """A stray byte in one id must not turn a whole UTF-8 file into Big5 (every row an error)."""
    lines = [b"id,text", b"A\xff1," + "路灯坏了一个月".encode("utf-8")] + [
        f"A{index},{text}".encode("utf-8") for index, text in enumerate(TEXTS, start=2)]
    source = tmp_path / "in.csv"
    source.write_bytes(b"\n".join(lines) + b"\n")
    assert detect_encoding(source)[1] == "UTF-8"
    summary = batch(small_model, source, tmp_path / "out.csv", columns=Columns(id="id"))
    rows = read_csv(tmp_path / "out.csv")
    assert [row["status"] for row in rows] == ["error"] + ["ok"] * len(TEXTS) and summary.errors == 1
    assert "id" in rows[0]["error"] and rows[0]["id"] == "A\ufffd1"  # written, the damage shown


def test_a_lone_surrogate_in_any_column_of_a_jsonl_row_is_that_rows_error(small_model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([
        '{"id": "1", "caller": "13812345678", "text": "\\ud800饭店油烟直排熏得不敢开窗"}',
        '{"id": "2", "caller": "138\\udce512345678", "text": "饭店油烟直排熏得不敢开窗"}',
        '{"id": "3", "caller": "13812345678", "text": "饭店油烟直排熏得不敢开窗"}']) + "\n", encoding="utf-8")
    batch(small_model, source, tmp_path / "out.csv", columns=Columns(id="id", caller="caller"))
    rows = read_csv(tmp_path / "out.csv")
    assert [row["status"] for row in rows] == ["error", "error", "ok"]
    assert "text" in rows[0]["error"] and "caller" in rows[1]["error"]


@pytest.mark.parametrize("target", ["output", "report"])
def test_the_output_or_report_may_not_be_the_input(small_model, tmp_path, target):
    source = write_csv(tmp_path / "in.csv", [{"text": text} for text in TEXTS])
    before = source.read_bytes()
    same = tmp_path / "." / "in.csv"  # another spelling of the same file
    paths = {"output": same, "report": None} if target == "output" else {"output": tmp_path / "o.csv", "report": same}
    with pytest.raises(DataFileError, match="is the input file"):
        run_batch(small_model, BatchOptions(source, paths["output"], report=paths["report"]), SETTINGS)
    assert source.read_bytes() == before


@pytest.mark.parametrize("target", ["output", "report"])
def test_an_output_or_report_that_cannot_be_written_is_refused_before_any_triage(small_model, tmp_path, target):
    """A folder where the file should go failed only once every row was triaged (the report
    with a traceback, the output and checkpoint left behind)."""
    source = write_csv(tmp_path / "in.csv", [{"text": text} for text in TEXTS])
    (tmp_path / "taken.csv").mkdir()
    paths = {"output": tmp_path / "taken.csv"} if target == "output" else {"output": tmp_path / "o.csv",
                                                                          "report": tmp_path / "taken.csv"}
    with pytest.raises(DataFileError, match="taken.csv: (cannot be written|is a folder)"):
        run_batch(small_model, BatchOptions(source, paths["output"], report=paths.get("report")), SETTINGS)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "taken.csv"]


def test_jsonl_lines_that_are_not_objects_are_reported_in_place(small_model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "饭店油烟直排"}\n[1, 2]\n{oops\n"路灯坏了"\n{"text": "路灯坏了一个月"}\n', encoding="utf-8")
    batch(small_model, source, tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert [row["status"] for row in rows] == ["ok", "error", "error", "error", "ok"]
    assert "JSON object" in rows[1]["error"] and "not valid JSON" in rows[2]["error"]
    assert "JSON object, got str" in rows[3]["error"]  # not the line itself as its error


def test_jsonl_values_that_are_not_text_are_that_rows_error_not_python_notation_triaged(small_model, tmp_path):
    """str() of a JSON object reads "{'a': '楼道漏水'}": a text nobody wrote, triaged with
    confidence. Numbers (a phone, an id) are text enough. The caller column is found though
    only the last object has it (JSONL's header is the keys of its first objects)."""
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([
        '{"id": 1, "text": {"body": "饭店油烟直排熏得不敢开窗"}}', '{"id": 2, "text": ["路灯坏了"]}',
        '{"id": 3, "text": true}', '{"id": [4], "text": "路灯坏了一个月"}',
        '{"id": 5, "text": "饭店油烟直排熏得不敢开窗", "phone": 13812345678}']) + "\n", encoding="utf-8")
    batch(small_model, source, tmp_path / "out.csv", columns=Columns(id="id", caller="phone"))
    rows = read_csv(tmp_path / "out.csv")
    assert [row["status"] for row in rows] == ["error"] * 4 + ["ok"]
    assert ["JSON object" in rows[0]["error"], "JSON array" in rows[1]["error"], "true or false" in rows[2]["error"],
            "column id" in rows[3]["error"]] == [True] * 4
    assert rows[4]["caller_case_count"] == "1"


def test_a_quote_never_closed_is_the_last_rows_error_not_the_rest_of_the_file_as_its_text(small_model, tmp_path):
    """A quoted cell may hold line breaks (a transcript), so the reader takes every line up
    to the closing quote; one that never comes turned the rest of the file into one cell."""
    source = tmp_path / "in.csv"
    source.write_text('id,text\n1,"饭店油烟直排\n熏得不敢开窗"\n2,路灯坏了一个月\n\n3,"楼道漏水\n4,老板拖欠工资\n'
                      '5,孩子学校食堂饭菜变质\n', encoding="utf-8")
    batch(small_model, source, tmp_path / "out.csv", columns=Columns(id="id"))
    rows = read_csv(tmp_path / "out.csv")
    assert [(row["id"], row["status"]) for row in rows] == [("1", "ok"), ("2", "ok"), ("3", "error")]
    assert "引号未闭合" in rows[2]["error"] and "the 2 lines after it" in rows[2]["error"]
    assert rows[0]["text"] == "饭店油烟直排 熏得不敢开窗"  # a closed quote's line break is the text's
    source.write_text('id,text\n1,"饭店油烟直排\n熏得不敢开窗"\n2,路灯坏了一个月\n', encoding="utf-8")
    batch(small_model, source, tmp_path / "closed.csv", columns=Columns(id="id"))
    assert [row["status"] for row in read_csv(tmp_path / "closed.csv")] == ["ok", "ok"]


def test_a_missing_column_names_the_columns_found(small_model, tmp_path):
    source = write_csv(tmp_path / "in.csv", [{"内容": TEXTS[0]}])
    with pytest.raises(DataFileError, match="no column 'text'.*内容.*--text-col"):
        batch(small_model, source, tmp_path / "out.csv")


def test_repeats_follow_the_time_column_not_the_file_order(small_model, tmp_path):
    rows = [
        {"id": "late", "text": "楼道里有很浓的燃气味，又闻到了", "phone": "138 1234 5678", "time": "2024-03-09 10:00"},
        {"id": "early", "text": "楼道里有很浓的燃气味", "phone": "+8613812345678", "time": "2024/3/2 09:00"},
        {"id": "other", "text": "老板拖欠工资三个月不给", "phone": "13900000000", "time": "2024-03-05"},
        {"id": "nobody", "text": "小区门口的路灯坏了一个月", "phone": "", "time": "2024-03-05"},
    ]
    source = write_csv(tmp_path / "in.csv", rows)
    summary = batch(small_model, source, tmp_path / "out.csv",
                    columns=Columns(id="id", caller="phone", time="time"), report=tmp_path / "r.html")
    out = {row["id"]: row for row in read_csv(tmp_path / "out.csv")}
    assert out["late"]["is_repeat"] == "True" and out["late"]["repeat_of"] == "early"
    assert out["late"]["caller_case_count"] == "2" and "2024-03-02" in out["late"]["repeat_reasons"]
    assert out["early"]["is_repeat"] == "False"  # it came first in time: it has no past
    assert out["other"]["caller_case_count"] == "1"
    assert "无法判断" in out["nobody"]["repeat_reasons"]
    assert summary.repeats == 1
    assert "13812345678" not in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("time, said", [("上周三", "时间无法识别"),
                                        ("0001-01-01 00:00", "时间超出范围"),  # the year 0 in UTC: no datetime holds it
                                        ("0001-01-01 08:00", "时间超出范围"),  # a window back from it would leave the calendar
                                        ("1900-01-01", "时间超出范围")])  # an export's empty date
def test_an_unreadable_time_is_said_and_the_row_still_triaged(small_model, tmp_path, time, said):
    source = write_csv(tmp_path / "in.csv", [{"text": TEXTS[0], "phone": "13812345678", "time": time},
                                             {"text": TEXTS[1], "phone": "13812345678", "time": "2024-03-02 10:00"}])
    batch(small_model, source, tmp_path / "out.csv", columns=Columns(caller="phone", time="time"))
    row, after = read_csv(tmp_path / "out.csv")
    assert row["status"] == "ok" and said in row["repeat_reasons"] and time in row["repeat_reasons"]
    assert after["status"] == "ok" and after["caller_case_count"] == "1"  # the run went on; the bad time links nothing


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])  # summer time began there on 2024-03-10
def test_a_rows_time_for_grouping_is_seconds_since_the_epoch_in_utc_wherever_the_machine_is(monkeypatch, zone):
    """Times are kept as naive UTC; read as the machine's local time they would move with
    its zone and jump an hour across a change to summer time."""
    from triage.batch.hot_groups import entry

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        row = {"status": "ok", "_sketch": "00" * 8, "category": "城乡建设", "row": 1}
        before, after = (entry({**row, "_time": moment}).moment for moment in ("2024-03-10T01:00:00", "2024-03-10T04:00:00"))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert before == 1710032400.0 and after - before == 3 * 3600  # not two hours: 02:00-03:00 is no time in New York


def test_an_interrupted_run_resumes_to_the_same_output(small_model, tmp_path, monkeypatch):
    source = write_csv(tmp_path / "in.csv", [{"text": f"{text}（第{i}件）"} for i in range(40) for text in TEXTS[:1]])
    batch(small_model, source, tmp_path / "whole.csv", workers=1, chunk_rows=7)

    interrupted_after_three_chunks(monkeypatch, small_model, source, tmp_path / "out.csv", workers=1, chunk_rows=7)

    with pytest.raises(DataFileError, match="--resume"):  # never silently start over
        batch(small_model, source, tmp_path / "out.csv", workers=1, chunk_rows=7)
    with pytest.raises(DataFileError, match="differs in columns"):
        batch(small_model, source, tmp_path / "out.csv", resume=True, columns=Columns(id="text"))
    summary = batch(small_model, source, tmp_path / "out.csv", workers=1, chunk_rows=7, resume=True)
    assert summary.resumed_from == 21
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    # rows on both sides of the resume point join one hot-issue group: grouping resumed too
    assert {row["hot_group_size"] for row in read_csv(tmp_path / "out.csv")} == {"40"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv", "whole.csv"]


def test_kill_9_then_resume_gives_every_row_once_in_order(small_model_dir, tmp_path):
    rows = [{"id": f"R{i}", "text": f"{TEXTS[i % len(TEXTS)]}，编号{i}"} for i in range(6000)]
    source = write_csv(tmp_path / "in.csv", rows)
    command = [sys.executable, "-m", "triage", "batch", str(source), "--out", str(tmp_path / "out.csv"),
               "--model", str(small_model_dir), "--id-col", "id", "--workers", "2"]
    log = tmp_path / "first-run.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, stderr=stderr)
    checkpoint_file = tmp_path / "out.csv.checkpoint.json"
    deadline = time.monotonic() + 60
    while not checkpoint_file.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    if process.poll() is not None:
        pytest.fail(f"the run ended before it could be killed: {log.read_text()}")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = json.loads(checkpoint_file.read_text())["rows_done"]
    assert 0 < done < len(rows)
    finished = subprocess.run(command + ["--resume"], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert f"resumed after row {done}" in finished.stderr
    assert [row["id"] for row in read_csv(tmp_path / "out.csv")] == [row["id"] for row in rows]


def test_the_report_is_one_offline_file_with_charts(small_model, tmp_path):
    source = write_csv(tmp_path / "in.csv", [{"text": text} for text in TEXTS])
    batch(small_model, source, tmp_path / "out.csv", report=tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 4 and "类别" in page and "紧急程度" in page
    assert "src=" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_dask_engine_gives_the_local_engines_output(small_model, tmp_path):
    distributed = pytest.importorskip("distributed")
    source = write_csv(tmp_path / "in.csv", [{"id": i, "text": f"{text}，第{i}次", "phone": "13812345678"}
                                             for i, text in enumerate(TEXTS * 30)])
    columns = Columns(id="id", caller="phone")
    batch(small_model, source, tmp_path / "local.csv", columns=columns, chunk_rows=25)
    # Distributed leaves its workers' environment (MALLOC_TRIM_THRESHOLD_, OPENBLAS_NUM_THREADS,
    # PYTHONHASHSEED...) in this process's os.environ, for every later test's subprocesses.
    with mock.patch.dict(os.environ), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        batch(small_model, source, tmp_path / "dask.csv", columns=columns, chunk_rows=25,
              engine="dask", scheduler=cluster.scheduler_address)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


@pytest.mark.parametrize("argv, code, message", [
    (["--engine", "dask"], 2, "--scheduler"),
    (["--workers", "0"], 2, "--workers"),
    (["--text-col", ","], 2, "--text-col"),
    (["--out", "/no/such/folder/out.csv"], 1, "does not exist"),
    (["--out", "out.parquet"], 1, "unknown file type"),
])
def test_cli_refuses_bad_arguments(capsys, tmp_path, small_model_dir, argv, code, message):
    source = write_csv(tmp_path / "in.csv", [{"text": TEXTS[0]}])
    arguments = ["batch", str(source), "--model", str(small_model_dir), "--out", str(tmp_path / "out.csv"), *argv]
    assert main(arguments) == code
    assert message in capsys.readouterr().err


def test_a_full_disk_mid_run_is_said_with_the_way_on_and_resume_finishes_the_file(capsys, tmp_path, small_model_dir,
                                                                                     monkeypatch):
    """A backlog can outgrow the disk hours in: the CLI says which file and how to go on (not
    a traceback), and once there is room --resume finishes the same output."""
    import errno

    from triage.batch import checkpoint

    source = write_csv(tmp_path / "in.csv", [{"text": f"{TEXTS[i % 6]}（第{i}件）"} for i in range(1100)])  # 3 chunks
    arguments = ["batch", str(source), "--model", str(small_model_dir), "--workers", "1"]
    assert main([*arguments, "--out", str(tmp_path / "whole.csv")]) == 0
    original, appended = checkpoint.PartFile.append, []

    def full_after_one_chunk(self, count, lines, features=b""):
        if appended:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        appended.append(count)
        original(self, count, lines, features)
    monkeypatch.setattr(checkpoint.PartFile, "append", full_after_one_chunk)
    capsys.readouterr()
    assert main([*arguments, "--out", str(tmp_path / "out.csv")]) == 1
    err = capsys.readouterr().err
    assert "out.csv.part.jsonl: No space left on device" in err and "--resume" in err and "Traceback" not in err
    monkeypatch.setattr(checkpoint.PartFile, "append", original)
    assert main([*arguments, "--out", str(tmp_path / "out.csv"), "--resume"]) == 0
    assert "resumed after row 500" in capsys.readouterr().err
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_cli_prints_a_summary(capsys, tmp_path, small_model_dir):
    source = write_csv(tmp_path / "in.csv", [{"text": text} for text in TEXTS] + [{"text": ""}])
    assert main(["batch", str(source), "--model", str(small_model_dir), "--out", str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    assert "triaged 7 rows" in err and "(UTF-8)" in err and "1 errors" in err


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"title\n", "no column 'text'"),
    (b"te\xffxt,id\n", r"columns found: te\\xffxt, id\."),  # a damaged header names its byte, not a surrogate
])
def test_an_empty_or_wrong_file_fails_before_any_output_exists(small_model, tmp_path, content, message):
    (tmp_path / "in.csv").write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        batch(small_model, tmp_path / "in.csv", tmp_path / "out.csv")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv"]


def test_other_callers_on_one_matter_form_a_hot_group(small_model, tmp_path):
    matter = ["解放路那家饭店油烟直排，熏得我们整栋楼不敢开窗", "解放路饭店的油烟直排到居民楼，家里不敢开窗",
              "解放路有饭店油烟直排，整栋楼都熏得不敢开窗"]
    rows = [{"id": f"H{number}", "text": text, "phone": f"1380000000{number}"} for number, text in enumerate(matter)]
    rows.insert(1, {"id": "X", "text": "老板拖欠工资三个月不给，过年回不了家", "phone": "13900000000"})
    rows.append({"id": "again", "text": matter[0], "phone": "13800000000"})  # the first caller again: a repeat
    source = write_csv(tmp_path / "in.csv", rows)
    summary = batch(small_model, source, tmp_path / "out.csv", columns=Columns(id="id", caller="phone"),
                    report=tmp_path / "r.html")
    out = {row["id"]: row for row in read_csv(tmp_path / "out.csv")}
    assert [out[f"H{number}"]["hot_group"] for number in range(3)] == ["H0"] * 3
    # the first caller's repeat is a repeat, and one more case of the matter, as in the service
    assert out["again"]["is_repeat"] == "True" and out["again"]["hot_group"] == "H0"
    assert out["H0"]["hot_group_size"] == "4" and out["X"]["hot_group"] == ""
    assert summary.to_dict()["hot_groups"] == 1 and summary.hot_groups[0]["size"] == 4
    assert "多人反映" in (tmp_path / "r.html").read_text(encoding="utf-8")


def _segmenters_loaded() -> list[str]:
    from triage import segment

    return sorted(segment._engines)


def test_local_workers_start_with_the_segmenters_loaded(small_model):
    """The parent loads every segmenter before forking: workers share it instead of each
    loading the reference jieba (about a second) the first time a text needs it."""
    from triage import segment
    from triage.batch.engines import LocalEngine

    segment._engines.clear()
    with LocalEngine(small_model, workers=2) as engine:
        loaded = engine.pool.apply(_segmenters_loaded)
    assert "jieba" in loaded and loaded == _segmenters_loaded()


def test_repeats_judged_in_jobs_on_workers_match_one_process(small_model, tmp_path, monkeypatch):
    """Callers are judged on the workers in jobs of several callers, each job featurised as
    one list: the output is the one a single process judging everything as one job gives."""
    from triage.batch import repeats

    rows = [{"id": number, "text": f"{TEXTS[number % 6]}，第{number // 6}次", "phone": f"1381234{number % 7:04d}",
             "time": f"2024-03-{1 + number % 28:02d} 10:00"} for number in range(120)]
    source = write_csv(tmp_path / "in.csv", rows)
    columns = Columns(id="id", caller="phone", time="time")
    alone = batch(small_model, source, tmp_path / "one.csv", columns=columns, workers=1)
    monkeypatch.setattr(repeats, "JOB_ROWS", 5)
    batch(small_model, source, tmp_path / "jobs.csv", columns=columns, workers=2)
    assert alone.repeats > 0
    assert (tmp_path / "jobs.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()


@pytest.mark.parametrize("bucket_rows, most, buckets", [(10, 512, 12), (10, 3, 3)])
def test_callers_judged_a_bucket_at_a_time_give_the_output_of_judging_all_at_once(small_model, tmp_path, monkeypatch,
                                                                                  bucket_rows, most, buckets):
    """Rows with a caller are judged a bucket of callers at a time, so that judging holds a
    bucket's texts and verdicts, not the file's: the output must be the one judging every
    caller at once gives, and the buckets' files must be gone afterwards."""
    from triage.batch import repeats

    rows = [{"id": number, "text": f"{TEXTS[number % 6]}，第{number // 6}次", "phone": f"1381234{number % 7:04d}",
             "time": f"2024-03-{1 + number % 28:02d} 10:00"} for number in range(120)]
    source = write_csv(tmp_path / "in.csv", rows)
    columns = Columns(id="id", caller="phone", time="time")
    whole = batch(small_model, source, tmp_path / "one.csv", columns=columns, workers=1, report=tmp_path / "one.html")
    read = []
    judged = repeats._judged
    monkeypatch.setattr(repeats, "BUCKET_ROWS", bucket_rows)
    monkeypatch.setattr(repeats, "MOST_BUCKETS", most)
    monkeypatch.setattr(repeats, "_judged", lambda path: read.append(path.name) or judged(path))
    parts = batch(small_model, source, tmp_path / "parts.csv", columns=columns, workers=2, report=tmp_path / "parts.html",
                  chunk_rows=7)  # output blocks of 7 rows: each takes its rows' columns from the merged buckets
    assert len(read) == buckets
    assert whole.repeats > 0 and parts.repeats == whole.repeats and parts.repeaters == whole.repeaters
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert not (tmp_path / "parts.csv.repeats").exists() and not (tmp_path / "one.csv.repeats").exists()
    repeat_ids = defaultdict(list)  # the report's repeat callers, counted plainly from the output
    for row in read_csv(tmp_path / "parts.csv"):
        if row["is_repeat"] == "True":
            repeat_ids[rows[int(row["id"])]["phone"]].append(row["id"])
    expected = sorted(repeat_ids.values(), key=lambda ids: (-len(ids), int(ids[0])))
    assert [(count, ids) for _, count, ids in parts.repeaters] == [(len(ids), ids[:10]) for ids in expected]


def test_repeats_judged_from_the_rows_triage_made_and_from_their_texts_agree_and_survive_a_resume(
        small_model, tmp_path, monkeypatch):
    """Judging reads each row's TF-IDF row from the features file triage wrote beside the part
    file (``_features``: its size; offsets by row order): the output must be that of judging
    from the texts, also after a kill and a resume whose features file holds bytes past the
    checkpoint (a chunk whose rows were not yet final), which a features file out of step with
    the part file would turn into other similarities."""
    from triage.batch import repeats

    rows = [{"id": number, "text": f"{TEXTS[number % 6]}，第{number // 6}次", "phone": f"1381234{number % 5:04d}",
             "time": f"2024-03-{1 + number % 28:02d} 10:00"} for number in range(60)]
    source = write_csv(tmp_path / "in.csv", rows)
    columns = Columns(id="id", caller="phone", time="time")
    given = []
    wording = repeats._wording
    monkeypatch.setattr(repeats, "_wording", lambda model, members: given.extend(member[5] for member in members)
                        or wording(model, members))
    whole = batch(small_model, source, tmp_path / "whole.csv", columns=columns, workers=1, chunk_rows=7)
    assert whole.repeats > 0 and len(given) == 60 and all(given)  # every row's TF-IDF row came from triage

    with_rows = repeats._with_rows
    monkeypatch.setattr(repeats, "_with_rows", lambda jobs, packed: (
        [[(*member[:5], None) for member in members] for members in job] for job in with_rows(jobs, packed)))
    batch(small_model, source, tmp_path / "texts.csv", columns=columns, workers=1, chunk_rows=7)
    assert (tmp_path / "texts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    monkeypatch.setattr(repeats, "_with_rows", with_rows)

    interrupted_after_three_chunks(monkeypatch, small_model, source, tmp_path / "out.csv", columns=columns, workers=1,
                                   chunk_rows=7)
    features = tmp_path / "out.csv.features"
    state = json.loads((tmp_path / "out.csv.checkpoint.json").read_text())
    assert state["rows_done"] == 21 and state["features_bytes"] == features.stat().st_size > 0
    final = features.read_bytes()
    features.write_bytes(final[:-1])
    with pytest.raises(DataFileError, match="shorter than"):  # a features file cut short: said, not misread
        batch(small_model, source, tmp_path / "out.csv", columns=columns, workers=1, chunk_rows=7, resume=True)
    features.write_bytes(final)
    with features.open("ab") as handle:
        handle.write(bytes(range(256)) * 8)  # a next chunk's rows, written before the kill
    given.clear()
    summary = batch(small_model, source, tmp_path / "out.csv", columns=columns, workers=1, chunk_rows=7, resume=True)
    assert summary.resumed_from == 21 and len(given) == 60 and all(given)
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv", "texts.csv", "whole.csv"]


def test_a_packed_row_this_model_cannot_have_is_featurised_from_its_text(small_model):
    """Packed indices past the model's columns (a features file not this run's) would be read
    out of bounds; the row is made from its text instead, beside rows given as made."""
    from triage import repeat
    from triage.batch import repeats

    wording = small_model.featuriser_.wording(TEXTS[:3])
    second = slice(wording.indptr[1], wording.indptr[2])
    members = [(1, "a", TEXTS[0], None, "phone", repeat.pack_row(np.array([wording.shape[1]]), np.array([1.0]))),
               (2, "b", TEXTS[1], None, "phone", repeat.pack_row(wording.indices[second], wording.data[second])),
               (3, "c", TEXTS[2], None, "phone", None)]
    joined = repeats._wording(small_model, members)
    assert all(np.array_equal(getattr(joined, part), getattr(wording, part)) for part in ("data", "indices", "indptr"))


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("packed", [(), (0, 3, 5), range(6)])  # rows of the job given as triage made them
def test_a_callers_similarities_in_a_job_are_those_of_their_texts_alone(small_model, monkeypatch, compiled, packed):
    """``judge_groups`` compares a caller's rows with their past a block at a time, from
    the TF-IDF rows triage made where the job carries them and from their texts featurised
    together where not; the numbers must be ``repeat.similarities`` of that caller's texts
    alone, as the service computes them."""
    from triage import repeat
    from triage.batch import repeats

    groups = [[(1, "a1", TEXTS[0], "2024-03-01T09:00:00", "phone", None),
               (4, "a2", TEXTS[0] + "，还是很吵", "2024-03-03T09:00:00", "phone", None)],
              [(2, "b1", TEXTS[3], "2024-03-01T10:00:00", "phone", None), (3, "b2", TEXTS[4], "2024-03-02T10:00:00", "phone", None),
               (5, "b3", TEXTS[3] + "，又闻到了", "2024-03-04T10:00:00", "phone", None),
               (6, "b4", TEXTS[3] + "，第三次了", "2024-03-05T10:00:00", "phone", None)]]
    texts = [member[2] for members in groups for member in members]
    wording = small_model.featuriser_.wording(texts)
    made = {position: repeat.pack_row(wording.indices[wording.indptr[position]:wording.indptr[position + 1]],
                                      wording.data[wording.indptr[position]:wording.indptr[position + 1]])
            for position in packed}
    numbers = iter(range(len(texts)))
    groups = [[(*member[:5], made.get(next(numbers))) for member in members] for members in groups]
    members = [member for caller in groups for member in caller]
    joined = repeats._wording(small_model, members)
    assert all(np.array_equal(getattr(joined, part), getattr(wording, part)) for part in ("data", "indices", "indptr"))
    assert joined.shape == wording.shape and joined.dtype == wording.dtype
    monkeypatch.setattr(repeats, "BLOCK_ROWS", 3)  # caller b's rows in two blocks
    if not compiled:
        monkeypatch.setattr(repeat, "_products", None)
    verdicts = repeats.judge_groups(small_model, groups, {**SETTINGS, "repeat_window_days": 90}, timed=True)
    alone = repeat.similarities(small_model, [member[2] for member in groups[1]])
    for position, member in enumerate(groups[1][1:], start=1):
        [best] = verdicts[member[0]]["prior_cases"]
        assert best["similarity"] == round(float(alone[position, :position].max()), 3)
        assert verdicts[member[0]]["caller_case_count"] == position + 1
    blocks = [(caller, start, matrix) for caller, start, matrix in repeats._compared(*repeat.views_of(small_model, joined),
                                                                                    [np.arange(2), np.arange(2, 6)])]
    assert [(caller, start, matrix.shape) for caller, start, matrix in blocks] == [(0, 0, (2, 2)), (1, 0, (3, 3)), (1, 3, (1, 4))]
    assert np.array_equal(np.vstack([blocks[1][2][:, :3], blocks[2][2][:, :3]]), alone[:, :3])
    assert np.array_equal(blocks[2][2], alone[3:])


def test_the_progress_bar_follows_each_phase(small_model, tmp_path, capsys):
    """Triage, then judging repeats, then writing: a long file must not sit silent at 100 %."""
    rows = [{"id": number, "text": TEXTS[number % 6], "phone": f"1381234{number % 3:04d}"} for number in range(12)]
    source = write_csv(tmp_path / "in.csv", rows)
    batch(small_model, source, tmp_path / "out.csv", columns=Columns(id="id", caller="phone"), workers=1, progress=True)
    shown = capsys.readouterr().err
    assert "triage" in shown and "repeats" in shown and "output" in shown
    assert "12/12" in shown  # the output bar ends full


def test_deciding_priors_are_the_best_and_the_first_at_the_shown_score():
    from triage.batch.repeats import _deciding

    assert _deciding(np.array([0.81240, 0.81249, 0.5])) == {0, 1}  # both show 0.812; the second decides
    assert _deciding(np.array([0.3, 0.9, 0.9])) == {1}
    assert _deciding(np.zeros(0)) == set()


def test_judging_from_the_deciding_priors_gives_the_columns_of_judging_from_all(small_model):
    """A batch verdict is made from the one or two earlier rows that decide it, with the
    caller's count given; its output columns must be those of a verdict over every
    earlier row, as the service makes it."""
    from triage.batch.repeats import judge_groups, verdict_columns
    from triage.repeat import follow_up, similarities, verdict

    texts = [TEXTS[number % 3] + ("，至今没人管" * (number % 2)) for number in range(9)]
    members = [(number + 1, f"r{number}", text, None, "phone", None) for number, text in enumerate(texts)]
    settings = {**SETTINGS, "repeat_window_days": None}
    verdicts = judge_groups(small_model, [members], settings, timed=False)
    matrix = similarities(small_model, texts)
    for position in range(len(members)):
        earlier = list(range(position - 1, -1, -1))
        priors = [{"case_id": f"r{other}", "status": None, "channel": None, "received_at": None, "shared": ["phone"],
                   "link": {"score": 1.0, "basis": "同一来电号码"}} for other in earlier]
        full = verdict(priors, matrix[position, earlier], settings, True, phrase=follow_up(texts[position]))
        assert verdict_columns(verdicts[position + 1]) == verdict_columns(full)
    assert any(found["is_repeat"] for found in verdicts.values())


def test_summaries_of_blocks_merge_into_the_summary_of_every_row():
    """The workers count each block of the output (``Summary.add``) and the parent merges
    them in order: the counts, and the rows the report lists, must be those of counting
    every row in one place."""
    from triage.batch.report import ERRORS_SHOWN, REVIEW_SHOWN, Summary

    rows = []
    for number in range(1, 700):
        status = "error" if number % 11 == 0 else "unreadable" if number % 13 == 0 else "ok"
        rows.append({"row": number, "id": f"R{number}", "status": status, "category": TEXTS[number % 5][:2],
                     "department": None if number % 7 == 0 else f"d{number % 4}", "urgency": "一般",
                     "decision": "review" if number % 3 else "auto", "is_repeat": number % 4 == 0,
                     "_caller": ["phone", f"c{number % 6}"]})
    whole = Summary()
    for row in rows:
        whole.add(row)
    merged = Summary()
    start = 0
    for size in (1, 150, 7, 300, 241):  # uneven blocks, covering every row
        part = Summary()
        for row in rows[start:start + size]:
            part.add(row)
        merged.merge(part)
        start += size
    assert start == len(rows)
    assert merged.to_dict() == whole.to_dict()
    assert merged.review == whole.review and len(merged.review) == REVIEW_SHOWN
    assert merged.error_rows == whole.error_rows and len(merged.error_rows) == ERRORS_SHOWN
    assert merged.repeats == whole.repeats > 0

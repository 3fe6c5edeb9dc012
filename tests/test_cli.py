import io
import json
import os
import threading

import pytest

from triage.cli import main
from triage.model import HEADS


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_then_predict_then_evaluate(capsys, tmp_path, small_corpus_path):
    code, out, err = run(capsys, "train", str(small_corpus_path), "--out", str(tmp_path / "m"))
    assert code == 0 and "category" in out and "written to" in out
    progress = err.splitlines()  # where a retraining of minutes is, as it goes
    assert progress[0].startswith("triage: featurised 32 texts") and "at a time" in progress[1]
    # every head but the responder's: the small corpus holds no emergency
    assert sorted(line.split()[1] for line in progress[2:]) == sorted(set(HEADS) - {"responder"}) \
        and "(5 of 5" in progress[-1]

    code, out, _ = run(capsys, "predict", "--model", str(tmp_path / "m"), "饭店油烟直排熏得不敢开窗", "老板拖欠工资")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2
    assert lines[0]["category"]["label"] == "环境保护"
    for key in ("confidence", "subcategory"):
        assert key in lines[0]["category"]
    assert {"label", "top"} <= set(lines[0]["department"]) and "label" in lines[0]["urgency"]
    assert {"decision", "explanation", "flags", "model_version"} <= set(lines[0])

    code, out, _ = run(capsys, "evaluate", str(tmp_path / "m"), str(small_corpus_path), "--json")
    report = json.loads(out)
    assert code == 0 and report["n"] == 32
    assert {"accuracy", "macro_f1", "weighted_f1", "per_class", "confusion", "auto_coverage", "auto_precision"} <= set(report["heads"]["category"])
    assert "top3_accuracy" in report["heads"]["department"]

    code, out, _ = run(capsys, "evaluate", str(tmp_path / "m"), str(small_corpus_path))
    assert code == 0 and "macro-F1" in out and "department" in out


def test_predict_reads_file_and_stdin(capsys, tmp_path, small_model_dir, monkeypatch):
    texts = tmp_path / "texts.txt"
    texts.write_text("饭店油烟直排\n\n老板拖欠工资\n", encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--model", str(small_model_dir), "--file", str(texts))
    assert code == 0 and len(out.splitlines()) == 2
    code, out, _ = run(capsys, "predict", "--model", str(small_model_dir), stdin="学校乱收费\n", monkeypatch=monkeypatch)
    assert code == 0 and json.loads(out)["category"]["label"] == "教育文体"


def test_predict_whole_reads_a_transcript_over_several_lines_as_one_text(capsys, tmp_path, small_model_dir,
                                                                        monkeypatch):
    transcript = "说话人1 00:00:01\n您好，12345热线，请讲。\n说话人2 00:00:04\n学校乱收费。\n"
    call = tmp_path / "call.txt"
    call.write_text(transcript, encoding="utf-8")
    _, alone, _ = run(capsys, "predict", "--model", str(small_model_dir), "学校乱收费。")
    code, out, _ = run(capsys, "predict", "--model", str(small_model_dir), "--file", str(call), "--whole")
    assert code == 0 and len(out.splitlines()) == 1
    assert json.loads(out)["category"] == json.loads(alone)["category"]  # the operator's turn not read
    code, out, _ = run(capsys, "predict", "--model", str(small_model_dir), "--whole", stdin=transcript,
                       monkeypatch=monkeypatch)
    assert code == 0 and len(out.splitlines()) == 1 and "学校乱收费" in json.loads(out)["text"]
    code, out, _ = run(capsys, "predict", "--model", str(small_model_dir), "--file", str(call))
    assert code == 0 and len(out.splitlines()) == 4  # without --whole, a text per line


def _pipe_with(tmp_path, content: str):
    """A named pipe fed ``content`` by a thread: what ``--file <(zcat cases.gz)`` hands over."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    def feed():
        with open(pipe, "w", encoding="utf-8") as writer:
            writer.write(content)

    threading.Thread(target=feed, daemon=True).start()
    return pipe


def test_predict_reads_a_pipe_batch_says_it_needs_a_file(capsys, tmp_path, small_model_dir):
    pipe = _pipe_with(tmp_path, "饭店油烟直排\n老板拖欠工资\n")
    code, out, err = run(capsys, "predict", "--model", str(small_model_dir), "--file", str(pipe))
    assert code == 0 and [json.loads(line)["text"] for line in out.splitlines()] == ["饭店油烟直排", "老板拖欠工资"], err
    code, _, err = run(capsys, "batch", str(tmp_path / "pipe"), "--out", str(tmp_path / "o.csv"),
                       "--model", str(small_model_dir))
    assert code == 1 and "is a pipe or a device" in err and "save it to a file first" in err


@pytest.mark.parametrize("argv", [["-"], ["--file", "-"]])
def test_predict_dash_reads_stdin_instead_of_triaging_the_dash(capsys, small_model_dir, monkeypatch, argv):
    code, out, _ = run(capsys, "predict", "--model", str(small_model_dir), *argv,
                       stdin="学校乱收费\n\n饭店油烟直排\n", monkeypatch=monkeypatch)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["text"] for line in lines] == ["学校乱收费", "饭店油烟直排"]
    assert lines[0]["category"]["label"] == "教育文体"


@pytest.mark.parametrize("precision_never_reached", [False, True])
def test_train_names_the_labels_that_are_never_auto(capsys, tmp_path, small_corpus_path, monkeypatch,
                                                    precision_never_reached):
    if precision_never_reached:  # a precision above 1: every label of every head stays out of auto
        from functools import partial

        from triage.heads import LinearHead
        monkeypatch.setattr("triage.model.LinearHead", partial(LinearHead, auto_precision=1.01))
    code, out, _ = run(capsys, "train", str(small_corpus_path), "--out", str(tmp_path / "m"))
    metadata = json.loads((tmp_path / "m" / "metadata.json").read_text(encoding="utf-8"))
    lines = out.splitlines()
    for name, thresholds in metadata["thresholds"].items():
        never = [label for label, threshold in thresholds["auto_by_label"].items() if threshold > 1]
        following = lines[[line.split()[0] for line in lines].index(name) + 1]
        if precision_never_reached:
            assert never == metadata["labels"][name]
        if never:
            target = "101%" if precision_never_reached else "95%"
            assert following.strip() == f"never auto (out-of-fold precision below {target}): {', '.join(never)}"
        else:
            assert not following.strip().startswith("never auto")
    assert code == 0


def test_train_pins_a_heads_calibration(capsys, tmp_path, small_corpus_path):
    code, out, _ = run(capsys, "train", str(small_corpus_path), "--out", str(tmp_path / "pinned"),
                       "--calibration", "category=logistic", "--calibration", "urgency=temperature")
    metadata = json.loads((tmp_path / "pinned" / "metadata.json").read_text(encoding="utf-8"))
    chosen = {name: metrics["calibration"] for name, metrics in metadata["metrics"]["out_of_fold"].items()}
    assert code == 0 and chosen["category"] == "logistic" and chosen["urgency"] == "temperature"
    assert metadata["parameters"]["calibration"] == {"category": "logistic", "urgency": "temperature"}
    assert [line for line in out.splitlines() if line.split()[0] == "category"][0].endswith(
        "logistic calibration on stratified folds")
    run(capsys, "train", str(small_corpus_path), "--out", str(tmp_path / "free"))
    free = json.loads((tmp_path / "free" / "metadata.json").read_text(encoding="utf-8"))
    assert free["parameters"]["calibration"] is None and free["version"] != metadata["version"]


@pytest.mark.parametrize("pin, message", [
    ("category", "'category' is not HEAD=KIND"),
    ("colour=temperature", "cannot pin the calibration of 'colour'"),
    ("category=platt", "must be one of auto, temperature, logistic; got 'platt'"),
    ("subcategory=logistic", "by temperature only"),
])
def test_train_refuses_a_wrong_calibration_pin(capsys, tmp_path, small_corpus_path, pin, message):
    code, _, err = run(capsys, "train", str(small_corpus_path), "--out", str(tmp_path / "m"), "--calibration", pin)
    assert code == 2 and message in err and not (tmp_path / "m").exists()


def test_predict_reads_bytes_that_do_not_decode_as_unreadable(capsys, small_model_dir):
    garbled = "路灯坏了一个月".encode("utf-8")[:-1].decode("ascii", errors="surrogateescape")  # argv's decoding
    code, out, _ = run(capsys, "predict", "--model", str(small_model_dir), garbled)
    assert code == 0 and json.loads(out)["status"] == "unreadable"


def test_training_from_a_store_without_labels_says_so(capsys, tmp_path, small_corpus_path):
    database = f"sqlite:///{tmp_path / 'empty.db'}"
    code, _, err = run(capsys, "train", "--store", database, "--out", str(tmp_path / "m"))
    assert code == 1 and "holds no human-confirmed labels yet" in err and "store-labels" not in err
    code, out, _ = run(capsys, "train", str(small_corpus_path), "--store", database, "--out", str(tmp_path / "m"))
    assert code == 0 and "training on the files alone" in out and (tmp_path / "m").is_dir()


def test_predict_with_nothing_to_read_is_a_usage_error(capsys, small_model_dir, monkeypatch):
    code, out, err = run(capsys, "predict", "--model", str(small_model_dir), stdin="\n", monkeypatch=monkeypatch)
    assert code == 2 and out == "" and "no text given" in err


def test_train_reads_gbk_bom_and_jsonl(capsys, tmp_path, small_corpus_path):
    text = small_corpus_path.read_text(encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    code, out, _ = run(capsys, "train", str(tmp_path / "gbk.csv"), str(tmp_path / "bom.csv"), "--out", str(tmp_path / "m"))
    assert code == 0 and "gbk.csv: GBK/GB18030" in out and "bom.csv: UTF-8 with BOM" in out
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t, "category": c}, ensure_ascii=False)
                               for t, c in [("油烟扰民", "环境"), ("油烟很大", "环境"), ("油烟直排", "环境"),
                                            ("拖欠工资", "劳动"), ("欠薪不给", "劳动"), ("工资不发", "劳动"),
                                            ("", "劳动")]), encoding="utf-8")
    code, out, _ = run(capsys, "train", str(jsonl), "--out", str(tmp_path / "j"))
    assert code == 0 and "skipped 1 with empty text" in out


@pytest.mark.parametrize("argv, code, message", [
    ([], 2, "required"),
    (["dance"], 2, "invalid choice"),
    (["train", "--out", "x"], 2, "no training data"),
    (["train", "nope.csv", "--out", "x"], 1, "nope.csv: no such file"),
    (["train", "DATA", "--out", "x", "--C", "0"], 2, "--C must be above 0"),
    (["evaluate", "/no/such/model", "DATA"], 1, "no model in /no/such/model: the folder does not exist"),
    (["predict", "--model", "/no/such/model", "文本"], 1, "no model in /no/such/model: the folder does not exist"),
    (["predict", "--model", "FOLDER", "文本"], 1, "metadata.json is missing"),
    (["predict", "--file", "/no/such/file.txt"], 1, "no such file"),
    (["predict", "--file", "FOLDER"], 1, "is a folder; name a file in it"),
    (["batch", "FOLDER", "--out", "o.csv"], 1, "is a folder; name a file in it"),
    (["export-labels", "--database", "sqlite:///DB", "--out", "FOLDER"], 1, "Is a directory"),  # not a traceback
    (["predict", "--file", "EMPTY", ], 1, "has no text"),
    (["predict", "--file", "EMPTY", "--whole"], 1, "has no text"),
    (["predict", "--whole", "文本"], 2, "--whole reads --file or stdin"),
    (["predict", "--file", "EMPTY", "文本"], 2, "not both"),
    (["serve", "--port", "99999"], 2, "'99999' is not a port (1-65535)"),  # would bind 34463
    (["serve", "--port", "http"], 2, "'http' is not a port"),
])
def test_bad_arguments_and_files(capsys, tmp_path, small_corpus_path, argv, code, message):
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    names = {"DATA": str(small_corpus_path), "EMPTY": str(tmp_path / "empty.txt"), "FOLDER": str(tmp_path),
             "sqlite:///DB": f"sqlite:///{tmp_path / 'cases.db'}"}
    argv = [names.get(a, a) for a in argv]
    got, _, err = run(capsys, *argv)
    assert got == code
    assert message in err


@pytest.mark.parametrize("content, message", [
    (b"title,category\nabc,x\n", "no 'text' column"),
    (b"text,colour\nabc,x\n", "no label column"),
    (b"\xff\xfe\x00\x01garbage\x80\x81", "neither UTF-8 nor GBK"),
    (b"text,category\n,x\n", "no rows with text"),
    (b"", "the file is empty"),
])
def test_bad_training_files(capsys, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code, _, err = run(capsys, "train", str(path), "--out", str(tmp_path / "m"))
    assert code == 1 and message in err


def test_broken_jsonl_names_the_line(capsys, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "category": "b"}\n{broken\n', encoding="utf-8")
    code, _, err = run(capsys, "train", str(path), "--out", str(tmp_path / "m"))
    assert code == 1 and "bad.jsonl:2" in err


def test_python_dash_m_works():
    import subprocess
    import sys

    finished = subprocess.run([sys.executable, "-m", "triage", "--version"], capture_output=True, text=True)
    assert finished.returncode == 0 and finished.stdout.startswith("triage ")


def test_serve_without_tokens_makes_one_and_prints_it_once(capsys, monkeypatch, tmp_path, small_model_dir):
    import flask

    served, handlers = {}, {}
    monkeypatch.setattr(flask.Flask, "run", lambda app, **options: served.update(app=app, **options))
    monkeypatch.setattr("signal.signal", lambda number, handler: handlers.update({number: handler}))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")
    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(small_model_dir))
    monkeypatch.delenv("TRIAGE_API_TOKENS", raising=False)
    monkeypatch.setenv("TRIAGE_CALLER_SECRET", "test-secret")
    code, _, err = run(capsys, "serve", "--port", "8123")
    tokens = served["app"].extensions["triage"].tokens
    assert code == 0 and served["port"] == 8123 and len(tokens) == 1
    assert err.count(tokens[0]) == 2  # the token, and the example command that uses it
    client = served["app"].test_client()
    assert client.get("/v1/queue", headers={"Authorization": f"Bearer {tokens[0]}"}).status_code == 200

    import signal
    handlers[signal.SIGHUP](signal.SIGHUP, None)  # what `kill -HUP` does to `triage serve`
    assert "SIGHUP: model m-" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["serve", "--port", "eighty"], ["export-labels", "--bogus"]])
def test_service_commands_report_usage_errors(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and "usage: triage" in err

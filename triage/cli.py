"""Command line: ``triage train | evaluate | predict | batch | models | serve | export-labels``. Thin: parse, call the library,
print. Exit codes: 0 done, 1 domain error (one line on stderr), 2 usage error."""
from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from . import __version__, artifacts, load_model
from .datafiles import read_labelled, read_text_lines
from .errors import DataFileError, ModelError, TriageError
from .evaluation import evaluate
from .model import HEADS, RESPONDER, TriageModel, pinned_calibration
from .registry import Registry, overall
from .settings import load_settings


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would sys.exit(2) itself; main() decides
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="triage", description="Route citizen complaints: category, department, urgency.")
    parser.add_argument("--version", action="version", version=f"triage {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a model on labelled CSV/JSONL files")
    train.add_argument("data", nargs="*", help="CSV (UTF-8, UTF-8 BOM, GBK) or JSONL with a text column "
                                               f"and any of: {', '.join(HEADS)}")
    train.add_argument("--store", nargs="?", const="", metavar="DATABASE_URL",
                       help="also train on the case store's human-confirmed labels (default database: "
                            "TRIAGE_DATABASE_URL or the SQLite default); model guesses are never used")
    train.add_argument("--out", help="folder to write the model into")
    train.add_argument("--register", action="store_true",
                       help="add the model to the registry (models/versions/), scored on the frozen test set")
    train.add_argument("--C", type=float, default=0.5, help="SVM regularisation (default 0.5)")
    train.add_argument("--min-df", type=int, default=2, help="drop features seen in fewer texts (default 2)")
    train.add_argument("--calibration", type=_calibration_pin, action="append", default=[], metavar="HEAD=KIND",
                       help="pin a head's calibration: temperature (keeps the SVM's ranking) or logistic (may "
                            "re-rank); default auto, chosen out of fold (repeatable)")

    evaluate_command = commands.add_parser("evaluate", help="score a model on labelled data")
    evaluate_command.add_argument("model", help="model folder")
    evaluate_command.add_argument("data", nargs="+", help="labelled CSV/JSONL files")
    evaluate_command.add_argument("--json", action="store_true", help="print one JSON object")

    predict = commands.add_parser("predict", help="triage texts; one JSON object per text")
    predict.add_argument("texts", nargs="*", help="texts to triage (else --file, else stdin; - reads stdin)")
    predict.add_argument("--model", help="model folder (default: the bundled default model)")
    predict.add_argument("--file", help="file with one text per line (- reads stdin)")
    predict.add_argument("--whole", action="store_true",
                         help="--file or stdin is one text, not one per line (a call's transcript exported over "
                              "several lines: 说话人1 00:00:01 ...)")

    models = commands.add_parser("models", help="the model registry: list, promote, rollback")
    actions = models.add_subparsers(dest="action", required=True, parser_class=_Parser)
    actions.add_parser("list", help="every registered model; * marks the champion")
    promote = actions.add_parser("promote", help="make a version the served model if it beats the champion")
    promote.add_argument("version")
    promote.add_argument("--force", action="store_true", help="promote even if the gate refuses (logged)")
    promote.add_argument("--reason", default="", help="why (kept in the registry history)")
    rollback = actions.add_parser("rollback", help="serve the previous champion again")
    rollback.add_argument("--reason", default="", help="why (kept in the registry history)")

    serve = commands.add_parser("serve", help="run the HTTP service locally (production: gunicorn, see README)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default 8000)")

    batch = commands.add_parser("batch", help="triage a backlog file (CSV, JSONL, XLSX) into an output file")
    batch.add_argument("input", help="CSV/TSV (UTF-8, BOM, GBK, Big5: detected), JSONL or .xlsx with a header row")
    batch.add_argument("--out", required=True, help="output file: .csv, .jsonl or .xlsx")
    batch.add_argument("--model", help="model folder (default: the bundled default model)")
    batch.add_argument("--text-col", default="text",
                       help="column with the text; several joined, e.g. 标题,内容 (default: text)")
    batch.add_argument("--id-col", help="column kept as each row's id (default: the row number)")
    batch.add_argument("--caller-col", help="caller phone, ID number or account: enables repeat detection")
    batch.add_argument("--time-col", help="time each row was received: repeats look only at earlier rows")
    batch.add_argument("--resume", action="store_true", help="continue an interrupted run into the same --out")
    batch.add_argument("--report", help="also write a self-contained HTML summary report here")
    batch.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local worker processes (default) or an existing Dask cluster")
    batch.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (--engine dask)")
    batch.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    batch.add_argument("--quiet", action="store_true", help="no progress bar (there is none when not a terminal)")

    export = commands.add_parser("export-labels", help="write dispatcher-confirmed labels as CSV for retraining")
    export.add_argument("--out", help="CSV file to write (default: standard output)")
    export.add_argument("--since", help="only labels given at or after this ISO 8601 time")
    export.add_argument("--database", help="database URL (default: TRIAGE_DATABASE_URL or the SQLite default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        arguments = parser.parse_args(argv)
    except UsageError as error:
        print(parser.format_usage().rstrip(), file=sys.stderr)
        print(error, file=sys.stderr)
        return 2
    try:
        commands = {"train": _train, "evaluate": _evaluate, "predict": _predict, "serve": _serve,
                    "batch": _batch, "models": _models,
                    "export-labels": _export_labels}
        return commands[arguments.command](arguments)
    except TriageError as error:
        print(f"triage: error: {error.message}", file=sys.stderr)
        return 1
    except OSError as error:  # a file that cannot be written or read where a command meets it
        print(f"triage: error: {_file_error(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `triage predict ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


@contextmanager
def _progress_on_stderr(name: str):
    """The INFO messages of logger ``name`` on stderr while the block runs, as ``triage: ...``."""
    logger, handler = logging.getLogger(name), logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("triage: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _train(arguments) -> int:
    if arguments.C <= 0 or arguments.min_df < 1:
        print("triage: error: --C must be above 0 and --min-df at least 1", file=sys.stderr)
        return 2
    if not (arguments.out or arguments.register):
        print("triage: error: say where the model goes: --out FOLDER and/or --register", file=sys.stderr)
        return 2
    if not arguments.data and arguments.store is None:
        print("triage: error: no training data: name labelled files and/or --store", file=sys.stderr)
        return 2
    settings = load_settings()
    paths = list(arguments.data)
    if arguments.store is not None:
        path, count = _export_store_labels(arguments.store, settings)
        if count:
            paths.append(path)
        elif not paths:
            raise DataFileError(f"the case store at {arguments.store or settings['database_url']} holds no "
                                "human-confirmed labels yet: dispatchers make them with feedback, 退单 and 改派 "
                                "(`triage export-labels` lists them); name labelled files to train on meanwhile")
        else:
            print("the case store holds no human-confirmed labels yet; training on the files alone")
    data = read_labelled(paths)
    with _progress_on_stderr("triage.model"):  # a large retraining runs for minutes: say where it is
        model = TriageModel(C=arguments.C, min_df=arguments.min_df, calibration=dict(arguments.calibration) or None
                            ).fit(data.texts, data.labels, groups=data.groups)
    metadata = artifacts.save(model, arguments.out) if arguments.out else None
    if arguments.register:
        metadata = Registry(settings).register(model)
    print(f"read {len(data)} rows ({', '.join(f'{Path(p).name}: {e}' for p, e in data.encodings.items())}); "
          f"skipped {data.skipped_empty_text} with empty text")
    for name, report in model.training_report_.items():
        metrics = metadata["metrics"]["out_of_fold"][name]
        print(f"  {name:<13} {report['rows']:>6} rows, skipped {report['empty_label']} empty and "
              f"{report['rare_label']} rare labels; out-of-fold accuracy"
              f"{' given the category' if metrics.get('given_parent') else ''} {metrics['out_of_fold_accuracy']:.3f}, "
              f"macro-F1 {metrics['out_of_fold_macro_f1']:.3f}, "
              + ("who takes over a sure 特急 case, shown as its department for a dispatcher to confirm; "
                 if name == RESPONDER else f"auto covers {metrics['auto_coverage']:.0%}; ")
              + f"{metrics['calibration']} calibration on "
              f"{'grouped' if metrics['grouped_folds'] else 'stratified'} folds")
        if name == RESPONDER:
            continue
        head = model.heads_[name]
        never = [str(label) for label, threshold in zip(head.classes_, head.auto_thresholds()) if threshold > 1]
        if never:
            print(f"{'':<16}never auto (out-of-fold precision below {head.auto_precision:.0%}): {', '.join(never)}")
    if arguments.out:
        print(f"model {metadata['version']} written to {arguments.out}")
    if arguments.register:
        frozen = metadata["metrics"]["frozen_test"]
        print(f"model {metadata['version']} registered (parent {metadata['parent']}); frozen test score "
              f"{overall(frozen):.4f}; promote with `triage models promote {metadata['version']}`")
    return 0


def _export_store_labels(database: str, settings) -> tuple[str, int]:
    """The store's human-confirmed labels as a temporary CSV for ``read_labelled``, and how
    many there are."""
    import atexit
    import tempfile

    from .store import CaseStore, migrate, open_engine

    engine = open_engine(database or settings["database_url"])
    migrate(engine)
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="store-labels-", delete=False,
                                         encoding="utf-8", newline="")
    atexit.register(os.unlink, handle.name)
    count = 0
    with handle:
        writer = csv.DictWriter(handle, fieldnames=("text",) + HEADS, extrasaction="ignore")
        writer.writeheader()
        for row in CaseStore(engine, settings).export_labels():
            writer.writerow(row)
            count += 1
    engine.dispose()
    return handle.name, count


def _models(arguments) -> int:
    registry = Registry(load_settings())
    if arguments.action == "list":
        print(f"{'':2}{'version':<16}{'created at':<27}{'parent':<16}{'rows':>8}{'frozen test':>13}")
        for entry in registry.list():
            score = f"{entry['frozen_score']:.4f}" if entry["frozen_score"] is not None else "-"
            print(f"{'*' if entry['champion'] else ' ':2}{entry['version']:<16}{entry['created_at'] or '-':<27}"
                  f"{entry['parent'] or '-':<16}{entry['rows'] or 0:>8}{score:>13}")
            if entry["problem"]:
                print(f"{'':4}cannot be served: {entry['problem']}")
        return 0
    if arguments.action == "rollback":
        version = registry.rollback(reason=arguments.reason)
        print(f"rolled back: {version} is the champion again. Running services: POST /v1/admin/reload or "
              "SIGHUP to serve it")
        return 0
    comparison = registry.promote(arguments.version, force=arguments.force, reason=arguments.reason)
    _print_comparison(comparison)
    if not comparison["promoted"]:
        print("triage: error: promotion refused: " + "; ".join(comparison["failures"]) +
              " (--force overrides, and is logged)", file=sys.stderr)
        return 1
    print(f"{comparison['challenger']} is the champion{' (forced)' if not comparison['passed'] else ''}. "
          "Running services: POST /v1/admin/reload or SIGHUP to serve it")
    return 0


def _print_comparison(comparison: dict) -> None:
    """Per-class F1 of champion and challenger side by side, with bars to read at a glance."""
    print(f"frozen test set, champion {comparison['champion']} vs challenger {comparison['challenger']} "
          f"(margin {comparison['margin']}):")
    for row in comparison["classes"]:
        bars = "".join(f" {'█' * round(value * 20):<20}" for value in (row["champion_f1"], row["challenger_f1"]))
        print(f"  {row['head']:<13}{row['label']:<14}{row['champion_f1']:>7.3f}{row['challenger_f1']:>7.3f}"
              f"{row['change']:>+8.3f}{bars}")
    champion_score = "-" if comparison["champion_score"] is None else f"{comparison['champion_score']:.4f}"
    print(f"  overall (mean macro-F1): {champion_score} -> {comparison['challenger_score']:.4f}")


def _evaluate(arguments) -> int:
    model = load_model(arguments.model)
    data = read_labelled(arguments.data)
    report = evaluate(model, data)
    if arguments.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(f"{report['n']} texts, {report['unreadable']} unreadable")
    print(f"{'head':<14}{'accuracy':>9}{'macro-F1':>10}{'weighted-F1':>13}{'auto cover':>12}{'auto prec':>11}{'top-3':>8}")
    for name, head in report["heads"].items():
        precision = f"{head['auto_precision']:.3f}" if head["auto_precision"] is not None else "-"
        top3 = f"{head['top3_accuracy']:.3f}" if "top3_accuracy" in head else "-"
        print(f"{name:<14}{head['accuracy']:>9.3f}{head['macro_f1']:>10.3f}{head['weighted_f1']:>13.3f}"
              f"{head['auto_coverage']:>12.1%}{precision:>11}{top3:>8}")
    return 0


def _predict(arguments) -> int:
    settings = load_settings()
    texts = list(arguments.texts)
    from_stdin = texts == ["-"] or arguments.file == "-"  # the Unix convention, not a text "-"
    if arguments.file:
        if texts:
            print("triage: error: give texts or --file, not both", file=sys.stderr)
            return 2
        if not from_stdin:
            texts = read_text_lines(arguments.file, whole=arguments.whole)
    elif arguments.whole and texts and not from_stdin:
        print("triage: error: --whole reads --file or stdin; each text given as an argument is one already",
              file=sys.stderr)
        return 2
    if from_stdin or (not texts and sys.stdin is not None and not sys.stdin.isatty()):
        if sys.stdin is None:
            texts = []
        elif arguments.whole:
            texts = [piped] if (piped := sys.stdin.read()).strip() else []
        else:
            texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        print("triage: error: no text given: pass texts, --file F, or pipe one text per line", file=sys.stderr)
        return 2
    model = load_model(arguments.model)
    for result in model.predict(texts, settings):
        print(json.dumps(result, ensure_ascii=False))
    return 0


def _serve(arguments) -> int:
    from service import create_app  # the web stack is loaded only by the command that needs it

    from .api.auth import api_tokens, new_token

    settings = load_settings()
    config: dict = {}
    if not api_tokens(settings):
        # Usable and closed on a first run: a token for this process only, shown once.
        config["api_tokens"] = (new_token(),)
        print(f"No TRIAGE_API_TOKENS set; this run accepts the token:\n\n    {config['api_tokens'][0]}\n\n"
              f"    curl -H 'Authorization: Bearer {config['api_tokens'][0]}' "
              f"http://{arguments.host}:{arguments.port}/v1/queue\n", file=sys.stderr)
    app = create_app(config)
    slot = app.extensions["triage"].slot

    def _reload(_signal, _frame):
        try:
            print(f"SIGHUP: model {slot.reload()['version']} loaded", file=sys.stderr)
        except TriageError as error:
            print(f"SIGHUP: reload refused, still serving {slot.metadata['version']}: {error.message}",
                  file=sys.stderr)
    signal.signal(signal.SIGHUP, _reload)
    app.run(host=arguments.host, port=arguments.port, threaded=True)
    return 0


def _calibration_pin(value: str) -> tuple[str, str]:
    """``HEAD=KIND`` of ``train --calibration``."""
    head, equals, kind = value.partition("=")
    try:
        if not equals:
            raise ModelError(f"{value!r} is not HEAD=KIND, e.g. category=temperature")
        pinned_calibration({head: kind})
    except ModelError as error:
        raise argparse.ArgumentTypeError(error.message) from None
    return head, kind


def _port(value: str) -> int:
    """A TCP port; 99999 would otherwise bind 34463 (modulo 65536) while the start-up
    message printed :99999."""
    port = int(value) if value.isdigit() else -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (1-65535)")
    return port


def _batch(arguments) -> int:
    from .batch import BatchOptions, Columns, run_batch

    if arguments.engine == "dask" and not arguments.scheduler:
        print("triage: error: --engine dask needs --scheduler ADDRESS", file=sys.stderr)
        return 2
    if arguments.workers is not None and arguments.workers < 1:
        print("triage: error: --workers must be at least 1", file=sys.stderr)
        return 2
    text_columns = tuple(name.strip() for name in arguments.text_col.split(",") if name.strip())
    if not text_columns:
        print("triage: error: --text-col names no column", file=sys.stderr)
        return 2
    options = BatchOptions(
        input=Path(arguments.input), output=Path(arguments.out),
        columns=Columns(text=text_columns, id=arguments.id_col, caller=arguments.caller_col, time=arguments.time_col),
        resume=arguments.resume, report=Path(arguments.report) if arguments.report else None,
        engine=arguments.engine, scheduler=arguments.scheduler, workers=arguments.workers,
        progress=not arguments.quiet and sys.stderr.isatty())
    try:
        summary = run_batch(load_model(arguments.model), options, load_settings())
    except OSError as error:  # a disk that fills up hours into a backlog, a file pulled from under the run
        raise DataFileError(f"{_file_error(error)}; the rows triaged so far are kept: once that is fixed, run "
                            "the same command with --resume") from None
    facts = summary.to_dict()
    resumed = f", resumed after row {summary.resumed_from}" if summary.resumed_from else ""
    print(f"triaged {facts['rows']} rows of {arguments.input} ({facts['encoding']}{resumed}) into {arguments.out} "
          f"in {facts['seconds']} s ({facts['rows_per_second']} rows/s): {facts['errors']} errors, "
          f"{facts['unreadable']} unreadable, {facts['repeats']} repeats"
          + (f"; report {arguments.report}" if arguments.report else ""), file=sys.stderr)
    return 0


EXPORT_COLUMNS = ("text", "category", "subcategory", "department", "urgency", "request_type",
                  "rejected_department", "case_id", "sources")


def _file_error(error: OSError) -> str:
    """An OS error as one line: the file, then what went wrong."""
    return (f"{error.filename}: " if error.filename else "") + str(error.strerror or error)


def _export_labels(arguments) -> int:
    from .api.parsing import timestamp
    from .store import CaseStore, migrate, open_engine

    settings = load_settings({"database_url": arguments.database} if arguments.database else None)
    since = timestamp(arguments.since, "--since") if arguments.since else None
    engine = open_engine(settings["database_url"])
    migrate(engine)
    rows = CaseStore(engine, settings).export_labels(since)
    handle = open(arguments.out, "w", encoding="utf-8", newline="") if arguments.out else sys.stdout
    try:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    finally:
        if arguments.out:
            handle.close()
    print(f"exported {count} labelled cases" + (f" to {arguments.out}" if arguments.out else ""), file=sys.stderr)
    return 0

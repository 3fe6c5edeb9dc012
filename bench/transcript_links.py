"""What an operator's script does to repeat and hot-issue links: `triage batch` on the
project's 67 department cases (training/heldout.py) told as hotline transcripts.

    python bench/transcript_links.py [--model DIR]
    PYTHONPATH=../other-checkout python bench/transcript_links.py --model DIR   # another version

For each way of telling them (as written, inside each operator's script of
``heldout.OPERATOR_FRAMES`` and ``OPERATOR_FRAMES_FRESH``, with the operator's questions
of ``OPERATOR_QUESTION_FRAMES`` and ``OPERATOR_QUESTION_FRAMES_FRESH``, with speakers labelled by number,
``NUMBERED_SPEAKER_FRAMES``, without punctuation, ``UNPUNCTUATED_FRAMES`` and both sets of
questions, as speech recognition exports a call, ``TRANSCRIPT_EXPORT_FRAMES`` and
``TIMED_FRAMES``, and from callers pausing in their numbers, ``PAUSED_NUMBER_FRAMES``),
three files through the batch command with caller and time columns, on the model's default
settings:
- ``hot_issue_rows``: the 67 cases from 67 callers within one morning; every case is a
  different matter, so each row put in a group of two or more is a false hot issue;
- ``false_repeats``: 33 callers each calling about two different cases, a day apart; each
  second call flagged as a repeat is false;
- ``repeats_found``: each case called about twice by one caller, first in a caller's own
  words (``heldout.FRAMES[0]``) and then in the way being measured; of 67 second calls, how
  many are flagged (the same matter: they should be).
Prints one JSON object.
"""
import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from heldout import (DEPARTMENTS, FRAMES, NUMBERED_SPEAKER_FRAMES, OPERATOR_FRAMES, OPERATOR_FRAMES_FRESH,  # noqa: E402
                     OPERATOR_QUESTION_FRAMES, OPERATOR_QUESTION_FRAMES_FRESH, PAUSED_NUMBER_FRAMES, TIMED_FRAMES,
                     TRANSCRIPT_EXPORT_FRAMES, UNPUNCTUATED_FRAMES, unpunctuated)


def batch(rows: list[tuple[str, str, str]], folder: Path, model: str | None) -> list[dict]:
    """The output rows of ``triage batch`` on (text, phone, time) rows."""
    source, output = folder / "in.csv", folder / "out.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "phone", "time"])
        writer.writerows([f"C{number}", *row] for number, row in enumerate(rows))
    output.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "triage", "batch", str(source), "--out", str(output), "--id-col", "id",
                           "--caller-col", "phone", "--time-col", "time", "--quiet",
                           *(["--model", model] if model else [])], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"triage batch failed: {done.stderr}")
    with output.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def flagged(row: dict) -> bool:
    return row["is_repeat"].lower() in ("true", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the bundled default model)")
    model = parser.parse_args().model
    cases = [text for text, _ in DEPARTMENTS]
    asked_unmarked = [unpunctuated(frame) for frame in OPERATOR_QUESTION_FRAMES + OPERATOR_QUESTION_FRAMES_FRESH]
    unmarked = set(UNPUNCTUATED_FRAMES + tuple(asked_unmarked))  # the cases told without marks too
    tellings = {"as_written": "{text}", **{f"operator_frames_{number}": frame for number, frame in enumerate(OPERATOR_FRAMES)},
                **{f"operator_frames_fresh_{number}": frame for number, frame in enumerate(OPERATOR_FRAMES_FRESH)},
                **{f"operator_questions_{number}": frame for number, frame in enumerate(OPERATOR_QUESTION_FRAMES)},
                **{f"operator_questions_fresh_{number}": frame
                   for number, frame in enumerate(OPERATOR_QUESTION_FRAMES_FRESH)},
                **{f"numbered_speakers_{number}": frame for number, frame in enumerate(NUMBERED_SPEAKER_FRAMES)},
                **{f"unpunctuated_{number}": frame for number, frame in enumerate(UNPUNCTUATED_FRAMES)},
                **{f"transcript_exports_{number}": frame for number, frame in enumerate(TRANSCRIPT_EXPORT_FRAMES)},
                **{f"timed_{number}": frame for number, frame in enumerate(TIMED_FRAMES)},
                **{f"operator_questions_unpunctuated_{number}": frame for number, frame in enumerate(asked_unmarked)},
                **{f"identified_paused_{number}": frame for number, frame in enumerate(PAUSED_NUMBER_FRAMES)}}
    report = {"benchmark": "transcript_links", "cases": len(cases)}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name, frame in tellings.items():
            told = [frame.format(text=unpunctuated(text) if frame in unmarked else text) for text in cases]
            morning = batch([(text, f"139{number:08d}", f"2026-11-02 {8 + number // 10:02d}:{number % 10 * 5:02d}")
                             for number, text in enumerate(told)], folder, model)
            pairs = batch([(text, f"137{number // 2:08d}", f"2026-11-{1 + number % 2:02d} 09:00")
                           for number, text in enumerate(told[:len(told) // 2 * 2])], folder, model)
            again = batch([row for number, text in enumerate(cases)
                           for row in ((FRAMES[0].format(text=text), f"136{number:08d}", "2026-11-01 09:00"),
                                       (told[number], f"136{number:08d}", "2026-11-02 09:00"))], folder, model)
            report[name] = {
                "hot_issue_rows": sum(bool(row["hot_group_size"]) and float(row["hot_group_size"]) > 1 for row in morning),
                "false_repeats": sum(map(flagged, pairs[1::2])), "second_calls": len(pairs) // 2,
                "repeats_found": sum(map(flagged, again[1::2])), "same_matter_calls": len(cases)}
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()

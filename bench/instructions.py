"""Instructions a predict costs, counted by valgrind: the same figure however busy the
machine is, where its wall-clock times moved by a factor of two within one session.

    python bench/instructions.py
    PYTHONPATH=../other-checkout python bench/instructions.py   # another version, side by side

Each measurement is two runs of this script under ``valgrind --tool=cachegrind`` (the
model loaded and warmed, then no texts or ``count`` texts), their difference divided by
``count``: the instructions of one single-text predict; of one ``POST /v1/predict``
through the Flask app (its test client, the access log on, as served: the app's own cost
beside the predict's); of one ``POST /v1/triage`` stored in a new SQLite case store (the
store's and the hot-issue lookup's cost beside the request's; the kernel's writes to
disk are not counted); of one text in lists of ``LIST_SIZE``; and of segmenting one text
alone (``tokens(normalise(text))``, as ``speed.py`` times it), whose ratio to the list
figure is the instruction-count twin of ``speed.py``'s ``batch_over_segmentation``.
Instructions are not seconds (a cache miss costs more than an add), so this compares
versions of the code, not the machine's speed. Texts are the 300-character slices of
``speed.py``; PYTHONHASHSEED is fixed so that two runs do the same work. Needs valgrind
(Debian: apt-get install valgrind); about ten minutes on two cores. Prints one JSON object.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LIST_SIZE = 400
COUNTS = {"single": 200, "list": 1200, "segmentation": 1200, "request": 200, "stored": 200}
TOKEN = "bench-token-0123456789abcdefghij"


def work(mode: str, count: int) -> None:
    """What one valgrind run does: load, warm up, then ``count`` texts of ``mode``."""
    from speed import texts_of_300_chars
    from triage import load_model
    from triage.normalise import normalise
    from triage.segment import tokens, warm_up
    from triage.settings import resolve

    warm_up()
    model, settings = load_model(), resolve(None)
    texts, _ = texts_of_300_chars(max(COUNTS.values()) + 100)
    warm, texts = texts[:100], texts[100:100 + count]
    model.predict(warm, settings)
    for text in warm[:20]:
        model.predict([text], settings)
        tokens(normalise(text))
    if mode in ("request", "stored"):  # through the app (its own model), as the service answers
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from service import create_app

        path = "/v1/predict" if mode == "request" else "/v1/triage"
        with tempfile.TemporaryDirectory() as folder:
            client = create_app({"database_url": f"sqlite:///{folder}/cases.db", "caller_secret": "bench",
                                 "api_tokens": TOKEN}).test_client()
            for number, text in enumerate(warm[:20] + texts):
                answer = client.post(path, json={"text": text, "external_id": f"case-{number}"},
                                     headers={"Authorization": f"Bearer {TOKEN}"})
                assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    elif mode == "single":
        for text in texts:
            model.predict([text], settings)
    elif mode == "list":
        for start in range(0, len(texts), LIST_SIZE):
            model.predict(texts[start:start + LIST_SIZE], settings)
    else:
        for text in texts:
            tokens(normalise(text))


def instructions(mode: str, count: int) -> int:
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, __file__, "--run", mode, str(count)]
    # One BLAS thread: OpenBLAS's idle threads spin after the warm-up's list products, and
    # valgrind counts their spinning, which moved the single-text figure by 5-8 % from run to
    # run (session 23). Predicting a list limits BLAS to one thread anyway; one text's
    # products start none.
    environment = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode or not found:
        sys.exit(f"valgrind run {mode} {count} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", nargs=2, metavar=("MODE", "COUNT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.run:
        work(arguments.run[0], int(arguments.run[1]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    import triage

    runs = [(mode, count) for mode, total in COUNTS.items() for count in (0, total)]
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # valgrind runs one thread at a time
        counted = dict(zip(runs, pool.map(lambda run: instructions(*run), runs)))
    per_text = {mode: round((counted[mode, count] - counted[mode, 0]) / count) for mode, count in COUNTS.items()}
    print(json.dumps({"benchmark": "instructions", "code": str(Path(triage.__file__).resolve().parent.parent),
                      "instructions_per_single_predict": per_text["single"],
                      "instructions_per_predict_request": per_text["request"],
                      "request_over_single_predict": round(per_text["request"] / per_text["single"], 3),
                      "instructions_per_stored_triage_request": per_text["stored"],
                      f"instructions_per_text_in_lists_of_{LIST_SIZE}": per_text["list"],
                      "instructions_per_segmentation_only": per_text["segmentation"],
                      "list_over_segmentation": round(per_text["segmentation"] / per_text["list"], 3)}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

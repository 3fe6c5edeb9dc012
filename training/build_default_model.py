"""Rebuild the bundled default model in one command, deterministically:

    python training/build_default_model.py

Regenerates training/seed_corpus.csv from the project's parts, then runs
``triage train training/seed_corpus.csv --out models/default``.
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    subprocess.run([sys.executable, str(HERE / "generate_corpus.py")], check=True)
    from triage.cli import main

    sys.exit(main(["train", str(HERE / "seed_corpus.csv"), "--out", str(HERE.parent / "models" / "default")]))

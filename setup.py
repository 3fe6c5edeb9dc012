"""The compiled parts of triage, built by Cython at install: scans of a whole text in place
of regular expressions (``triage/_scan.pyx``), the character n-gram loop of
featurising, with its TF-IDF weighing (``triage/_ngrams.pyx``), the product of the features
and the heads' weights (``triage/_products.pyx``), the choosing and merging of
explanation terms (``triage/_merging.pyx``), and the making of hot-issue sketches with the
index of a batch file's latest ones (``triage/_sketch_index.pyx``). Everything else is declared in pyproject.toml.
All are optional: without a C compiler the install goes on and the modules that use them do
the same work by regular expressions, NumPy array steps, SciPy and Python, slower
(docs/BENCHMARKS.md, sessions 22 and 23). After editing a .pyx file, run ``pip install -e .`` again."""
from setuptools import Extension, setup

setup(ext_modules=[Extension(f"triage.{name}", [f"triage/{name}.pyx"], optional=True)
                   for name in ("_scan", "_ngrams", "_products", "_merging", "_sketch_index")])

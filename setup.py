"""The one compiled part of triage: the character n-gram loop of featurising
(``triage/_ngrams.pyx``), built by Cython at install. Everything else is declared in
pyproject.toml. The extension is optional: without a C compiler the install goes on and
``triage.features`` does the same work in NumPy array steps, slower
(docs/BENCHMARKS.md, session 22)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("triage._ngrams", ["triage/_ngrams.pyx"], optional=True)])

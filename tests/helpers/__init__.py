"""Shared test helpers (not test modules: no ``test_`` prefix, so pytest collects nothing here).

Importable as ``helpers`` because ``setup.cfg``'s ``[tool:pytest] pythonpath = tests`` puts
``tests/`` on ``sys.path`` (as it does for ``conftest``): ``from helpers import cascade_testlib``.
"""

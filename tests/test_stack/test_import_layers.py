"""The package's layers are real (issue 19): utils < models | datasets | engine < evaluation < apis
< study, checked by import-linter's contract in setup.cfg; no import of another fdsr_mm
sub-package hides inside a function; one atomic writer."""
import ast
import glob
import os.path as osp
import shutil
import subprocess
import sys

from conftest import REPO_ROOT

LINT_IMPORTS = osp.join(osp.dirname(sys.executable), 'lint-imports')


def _lint(root: str) -> subprocess.CompletedProcess:
    """``lint-imports`` with the repository's setup.cfg over the ``fdsr_mm`` under ``root``."""
    return subprocess.run(
        [LINT_IMPORTS, '--config', osp.join(REPO_ROOT, 'setup.cfg'), '--no-cache'],
        cwd=root, capture_output=True, text=True, timeout=300,
        env=dict(PYTHONPATH=root, PATH='/usr/bin:/bin', HOME=root))


def test_layer_contract_is_kept():
    out = _lint(REPO_ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert 'Contracts: 1 kept, 0 broken.' in out.stdout


def test_layer_contract_fails_on_an_upward_import(tmp_path):
    """The same contract over a copy with one upward import (utils -> apis) is broken."""
    shutil.copytree(osp.join(REPO_ROOT, 'fdsr_mm'), tmp_path / 'fdsr_mm',
                    ignore=shutil.ignore_patterns('__pycache__', '.mim'))
    io_module = tmp_path / 'fdsr_mm' / 'utils' / 'io.py'
    io_module.write_text(io_module.read_text() + '\nfrom fdsr_mm.apis import cascade  # noqa\n')
    out = _lint(str(tmp_path))
    assert out.returncode != 0
    assert 'BROKEN' in out.stdout and 'fdsr_mm.utils.io -> fdsr_mm.apis' in out.stdout, \
        out.stdout[-3000:]


def _subpackage(module_path: str) -> str:
    parts = osp.relpath(module_path, osp.join(REPO_ROOT, 'fdsr_mm')).split(osp.sep)
    return parts[0] if len(parts) > 1 else ''


def _function_level_imports(path: str):
    """(line, module) of every import inside a function or method of ``path``."""
    tree = ast.parse(open(path, encoding='utf-8').read())
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    yield from ((node.lineno, a.name) for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    yield node.lineno, ('.' * node.level) + (node.module or '')


def test_no_fdsr_mm_import_inside_a_function():
    """A function-level import of fdsr_mm would dodge the contract (import-linter sees it, but a
    cycle it hides only fails at run time); relative imports are not used at all."""
    found = []
    for path in glob.glob(osp.join(REPO_ROOT, 'fdsr_mm', '**', '*.py'), recursive=True):
        for line, module in _function_level_imports(path):
            if module.startswith(('fdsr_mm', '.')):
                found.append(f'{osp.relpath(path, REPO_ROOT)}:{line}: {module}')
    assert not found, found


def test_one_atomic_writer():
    """Only fdsr_mm/utils/io.py renames temporary files into place (tools included)."""
    writers = []
    files = glob.glob(osp.join(REPO_ROOT, 'fdsr_mm', '**', '*.py'), recursive=True) + \
        glob.glob(osp.join(REPO_ROOT, 'tools', '*.py'))
    for path in files:
        if path.endswith(osp.join('utils', 'io.py')):
            continue
        text = open(path, encoding='utf-8').read()
        for needle in ('os.replace(', 'os.rename(', 'mkstemp(', 'NamedTemporaryFile('):
            if needle in text:
                writers.append(f'{osp.relpath(path, REPO_ROOT)}: {needle}')
    assert not writers, writers

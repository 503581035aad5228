"""The package stays readable: no module of fdsr_mm over 400 lines, no function over 60 (issues 19,
15; the cascade was once one 906-line module with a 200-line, 19-argument function)."""
import ast
import glob
import os.path as osp

from conftest import REPO_ROOT

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules():
    return sorted(glob.glob(osp.join(REPO_ROOT, 'fdsr_mm', '**', '*.py'), recursive=True))


def test_no_module_over_400_lines():
    assert _modules()
    long = {osp.relpath(p, REPO_ROOT): n for p in _modules()
            if (n := len(open(p, encoding='utf-8').read().splitlines())) > MAX_FILE_LINES}
    assert not long, f'split these modules: {long}'


def test_no_function_over_60_lines():
    long = {}
    for path in _modules():
        tree = ast.parse(open(path, encoding='utf-8').read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f'{osp.relpath(path, REPO_ROOT)}:{node.name}'] = lines
    assert not long, f'split these functions: {long}'

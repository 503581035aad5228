"""benchmarks/gpu_check.sh on the CPU path (issue 22): the prepared GPU script runs end to end
without CUDA at tiny sizes, and its README gathers every table with numbers in it."""
import os
import re
import subprocess

import pytest
import torch

from conftest import REPO_ROOT

NUMBER = r'[0-9]+(\.[0-9]+)?'


def table_rows(text: str, heading: str):
    """The data rows (cells) of the Markdown table in the section ``heading``."""
    part = text.split(heading, 1)[1].split('\n## ', 1)[0]
    rows = [line for line in part.splitlines() if line.startswith('|')]
    return [[c.strip() for c in line.strip('|').split('|')] for line in rows[2:]]


@pytest.mark.skipif(torch.cuda.is_available(), reason='on a GPU the script is the real check')
def test_gpu_check_runs_on_the_cpu_path_and_reports_every_table(tmp_path):
    out = tmp_path / 'gpu_check'
    env = dict(os.environ, GPU_CHECK_SKIP_INSTALL='1')
    res = subprocess.run(['bash', 'benchmarks/gpu_check.sh', str(out)], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    text = (out / 'README.md').read_text()
    assert 'Card: no CUDA device: CPU path' in text
    assert re.search(r'[0-9]+ (passed|skipped)', text)  # the CUDA-only tests' summary line
    memory = table_rows(text, '## FDSR step, memory')
    assert [r[0] for r in memory] == ['float32', 'float32, with_cp', 'bfloat16 autocast',
                                      'bfloat16 autocast, with_cp']
    for row in memory:
        assert all(re.fullmatch(NUMBER, c) for c in (row[1], row[2], row[4])), row
    amp = table_rows(text, '## Mixed precision')
    assert [r[1] for r in amp] == ['float32', 'bfloat16'] * 2
    cascade = table_rows(text, '## Cascade throughput')
    assert [r[0] for r in cascade] == ['none', 'bfloat16']
    for row in cascade:
        assert row[1] == '2' and float(row[3]) > 0 and float(row[4]) > 0, row

"""Every shell command README.md and configs/tdsr/README.md show runs as shown on a fresh clone
after the install (issue 18: the first training command failed for want of its data).

What is checked, honestly:

- every command (``bash``/``sh`` blocks, continuation lines joined) is parsed; its script or
  config files exist, every config it names loads, and every ``--option`` it passes is one the
  tool's ``--help`` lists; every config a ``python`` snippet names loads;
- the commands that make data (``tools/make_synthetic_*.py``) RUN with the arguments shown, in a
  fresh folder holding only the clone's ``configs/`` and ``tools/`` (each tool run as
  ``__main__``; they and the ``--help`` calls share one subprocess, to import torch once);
- every training command's datasets exist after the data commands the two files show (what
  ``tools/train.py`` checks first; the README's data command comes before its first training
  command), or are the downloaded datasets the README tells the user to provide (``data/coco``,
  ``data/VOCdevkit``, named in the text);
- the README's first training command (``mim train fdsr_mm configs/dbpn/dbpn-tiny_...``) RUNS
  as shown with a 2-iteration schedule appended (``--cfg-options train_cfg.max_iters=2 ...``).
  Its ``--resume`` and ``mim test`` follow-ups, the tiny TDSR smoke run and the longer runs
  (COCO/VOC data, official weights, GPUs, the 35-minute main job) are only parsed and checked as
  above: ``test_mim_train_test.py`` and ``test_mim_train_tdsr.py`` run the same ``mim``
  subcommands on the same configs, ``test_run_study.py`` the study.
"""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest
from mmengine.config import Config

from conftest import MIM, REPO_ROOT
from fdsr_mm.utils import ToolError
from fdsr_mm.utils.train_checks import _dataset_cfgs, check_data_roots

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)

DOCS = ('README.md', 'configs/tdsr/README.md')
FIRST_TRAIN = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'
TINY_SCHEDULE = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                 'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']
# Options `mim train/test` consumes itself (the rest go to tools/train.py / tools/test.py).
MIM_OPTIONS = {'--gpus', '--gpus-per-node', '--partition', '--launcher', '--checkpoint'}
# Data the user downloads; the README must name each (and how to prepare it).
DOWNLOADED = ('data/coco', 'data/VOCdevkit')
CONFIG_RE = re.compile(r'configs/[\w./-]+?\.py')


def doc_blocks(doc, languages=('bash', 'sh')):
    """The fenced code blocks of ``doc`` in ``languages``, in order."""
    with open(osp.join(REPO_ROOT, doc)) as f:
        text = f.read()
    return [m.group(2) for m in re.finditer(r'```(\w*)\n(.*?)```', text, re.S)
            if m.group(1) in languages]


def doc_commands(doc):
    """Each shell command of ``doc`` as a token list (comments dropped, ``\\`` lines joined,
    ``&&`` split, leading ``VAR=value`` assignments dropped)."""
    commands = []
    for block in doc_blocks(doc):
        for line in block.replace('\\\n', ' ').splitlines():
            tokens = shlex.split(line, comments=True)
            while tokens:
                cut = tokens.index('&&') if '&&' in tokens else len(tokens)
                cmd, tokens = tokens[:cut], tokens[cut + 1:]
                while cmd and re.match(r'^[A-Z_]+=', cmd[0]):
                    cmd = cmd[1:]
                if cmd:
                    commands.append(cmd)
    return commands


def tool_of(cmd):
    """(tool or benchmark script, its arguments) of a command, or (None, None) for shell/setup
    commands."""
    if cmd[0] == 'mim':
        script = {'train': 'tools/train.py', 'test': 'tools/test.py'}[cmd[1]]
        assert cmd[2] == 'fdsr_mm', cmd
        return script, cmd[3:]
    for i, tok in enumerate(cmd):
        if tok.startswith(('tools/', 'benchmarks/')) and tok.endswith('.py'):
            return tok, cmd[i + 1:]
    return None, None


def is_training(cmd):
    return tool_of(cmd)[0] == 'tools/train.py'


def cfg_options(args):
    """The ``--cfg-options`` key=value pairs of ``args`` as a dict."""
    opts, on = {}, False
    for tok in args:
        if tok.startswith('--'):
            on = tok == '--cfg-options'
        elif on and '=' in tok:
            key, value = tok.split('=', 1)
            opts[key] = value
    return opts


def all_commands():
    return [(doc, cmd) for doc in DOCS for cmd in doc_commands(doc)]


RUNNER = '''
import contextlib, io, json, os, runpy, sys
jobs, results = json.loads(sys.argv[1]), []
for cwd, argv in jobs:
    os.chdir(cwd)
    out, code = io.StringIO(), 0
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))  # as `python TOOL` does
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(argv[0], run_name='__main__')
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (exit_.code is not None)
    results.append([code, out.getvalue()])
print(json.dumps(results))
'''


def run_tools(jobs):
    """Run ``python TOOL ARGS`` for each (cwd, [TOOL, ARGS...]) as its ``__main__``, one after
    the other in ONE subprocess (the heavy imports once); [(exit code, stdout)]."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', RUNNER, json.dumps(jobs)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def fresh_clone(tmp_path_factory):
    """(folder, {tool: --help text}): a folder with only the clone's configs/ and tools/, where
    the data commands ran as shown (``python tools/make_synthetic_*.py ...``)."""
    root = tmp_path_factory.mktemp('fresh_clone')
    for name in ('configs', 'tools'):
        os.symlink(osp.join(REPO_ROOT, name), root / name)
    data = [(doc, cmd) for doc, cmd in all_commands()
            if tool_of(cmd)[0] and osp.basename(tool_of(cmd)[0]).startswith('make_synthetic_')]
    for doc, cmd in data:
        assert cmd[0] == 'python', f'{doc}: {shlex.join(cmd)}'
    tools = sorted({tool_of(c)[0] for _, c in all_commands()} - {None})
    results = run_tools([(str(root), cmd[1:]) for _, cmd in data]
                        + [(REPO_ROOT, [tool, '--help']) for tool in tools])
    for (doc, cmd), (code, out) in zip(data, results):
        assert code == 0, f'{doc}: {shlex.join(cmd)} exited with {code}: {out[-2000:]}'
    helps = {tool: out for tool, (_, out) in zip(tools, results[len(data):])}
    for tool, text in helps.items():
        assert 'usage:' in text, f'{tool} --help printed no usage: {text[-500:]}'
    return root, helps


def test_readme_shows_the_commands_this_test_knows():
    commands = [shlex.join(c) for _, c in all_commands()]
    assert 'python tools/make_synthetic_sr.py data/synthetic_sr' in commands
    first_train = next(c for c in commands if c.startswith('mim train'))
    assert FIRST_TRAIN in first_train
    assert commands.index('python tools/make_synthetic_sr.py data/synthetic_sr') < \
        commands.index(first_train)
    assert any(c.startswith('python tools/make_synthetic_voc.py data/synthetic_voc')
               for c in commands)


def test_every_command_names_existing_files_loadable_configs_and_known_options(fresh_clone):
    helps = fresh_clone[1]
    for doc, cmd in all_commands():
        text = f'{doc}: {shlex.join(cmd)}'
        if cmd[0] in ('bash', 'sh', 'source'):
            assert osp.isfile(osp.join(REPO_ROOT, cmd[1])) or cmd[1] == '.venv/bin/activate', text
            continue
        if cmd[0].endswith('python') and cmd[1:3] == ['-m', 'pytest']:
            continue  # the test suite itself
        script, args = tool_of(cmd)
        assert script and osp.isfile(osp.join(REPO_ROOT, script)), text
        for config in CONFIG_RE.findall(' '.join(args)):
            Config.fromfile(osp.join(REPO_ROOT, config))  # loads (bases, scopes, syntax)
        for tok in args:
            option = tok.split('=', 1)[0]
            if not option.startswith('--') or (cmd[0] == 'mim' and option in MIM_OPTIONS):
                continue
            assert option in helps[script], f'{text}: {option} is not an option of {script}'
    for doc in DOCS:  # the Python snippets: the configs they name load
        for block in doc_blocks(doc, ('python', )):
            for config in CONFIG_RE.findall(block):
                Config.fromfile(osp.join(REPO_ROOT, config))


def test_every_training_command_finds_its_data(fresh_clone, monkeypatch):
    monkeypatch.chdir(fresh_clone[0])
    readme = ''.join(open(osp.join(REPO_ROOT, d)).read() for d in DOCS)
    for doc, cmd in all_commands():
        if not is_training(cmd):
            continue
        script, args = tool_of(cmd)
        config = CONFIG_RE.findall(' '.join(args))[0]
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(cfg_options(args))
        roots = {osp.normpath(ds['data_root']) for _, ds in
                 _dataset_cfgs(cfg.train_dataloader.dataset, 'train_dataloader.dataset')
                 if ds.get('data_root')}
        downloaded = {r for r in roots if r in DOWNLOADED}
        for root in downloaded:
            assert root in readme, f'{doc}: {shlex.join(cmd)} reads {root}: say how to get it'
        if roots - downloaded:
            try:
                check_data_roots(cfg, config)
            except ToolError as err:
                pytest.fail(f'{doc}: {shlex.join(cmd)} fails on a fresh clone after the '
                            f'commands shown before it: {err}')


def test_first_training_command_runs_as_shown(fresh_clone):
    cmd = next(c for _, c in all_commands() if c[:2] == ['mim', 'train'])
    assert FIRST_TRAIN in cmd
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run([MIM, *cmd[1:], '--cfg-options', *TINY_SCHEDULE], cwd=fresh_clone[0],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    work_dir = cmd[cmd.index('--work-dir') + 1]
    assert osp.isfile(osp.join(fresh_clone[0], work_dir, 'iter_2.pth'))

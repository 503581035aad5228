"""tools/run_study.py faults (issue 18): an --out-dir that is a file, and a study folder used by
another run are one ``run_study: error:`` line (exit 2; the tool's main through ``run_tool``, in
this process); kill -9 of a running stage graph (a subprocess) ends its stage processes (Linux)
and frees the folder for a rerun."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO_ROOT, load_tool
from fdsr_mm.utils import ToolError, run_tool
from fdsr_mm.study.stage_graph import FolderLock, check_out_dir


@pytest.fixture(scope='module')
def run_study():
    """tools/run_study.py as a module."""
    return load_tool('run_study', 'run_study')


def run_study_main(run_study, capsys, *args):
    """``run_study.py ARGS`` as its ``__main__`` runs it (run_tool), in this process."""
    code = run_tool('run_study', lambda: run_study.main(list(args)))
    return code, capsys.readouterr().err


def one_error_line(code, stderr, *parts):
    assert code == 2, stderr[-3000:]
    assert 'Traceback' not in stderr, stderr[-3000:]
    line = stderr.strip().splitlines()[-1]
    assert line.startswith('run_study: error: '), stderr[-3000:]
    for part in parts:
        assert part in line, (part, line)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for a reaper counts as ended)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def test_out_dir_that_is_a_file_is_one_line(tmp_path, run_study, capsys):
    target = tmp_path / 'results.txt'
    target.write_text('keep me')
    one_error_line(*run_study_main(run_study, capsys, '--quick', '--out-dir', str(target)),
                   f'{target} is a file, not a folder', '(--out-dir)')
    assert target.read_text() == 'keep me'
    with pytest.raises(ToolError, match='is a file'):  # also a folder below a file
        check_out_dir(str(target / 'study'))


def test_a_used_study_folder_is_refused(tmp_path, run_study, capsys):
    """Another process holds the folder (here: this one, through a second open of the lock)."""
    held = FolderLock(str(tmp_path), 'test').acquire()
    try:
        result = run_study_main(run_study, capsys, '--quick', '--out-dir', str(tmp_path))
    finally:
        held.release()
    one_error_line(*result, 'another run is using this folder', f'process {os.getpid()}',
                   '.stage_graph.lock')
    assert sorted(os.listdir(tmp_path)) == ['.stage_graph.lock']  # no stage was started


DRIVER = textwrap.dedent('''
    import sys
    from fdsr_mm.study.stage_graph import Stage, StageGraph
    out, pid_file = sys.argv[1:3]
    child = ('import os, time; open(%r, "w").write(str(os.getpid())); time.sleep(600)'
             % pid_file)
    graph = StageGraph(out, jobs=1)
    graph.add(Stage('sleeper', cmd=[sys.executable, '-c', child]))
    sys.exit(graph.run())
''')


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='PR_SET_PDEATHSIG is Linux')
def test_kill_9_of_the_run_ends_its_stages_and_frees_the_folder(tmp_path):
    out, pid_file = tmp_path / 'study', tmp_path / 'child.pid'
    driver = subprocess.Popen([sys.executable, '-c', DRIVER, str(out), str(pid_file)],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    child = None
    try:
        deadline = time.time() + 240
        while not (pid_file.exists() and pid_file.read_text()):
            assert driver.poll() is None, driver.stdout.read().decode()[-3000:]
            assert time.time() < deadline, 'the stage never started'
            time.sleep(0.2)
        child = int(pid_file.read_text())
        with pytest.raises(ToolError, match='another run is using this folder'):
            FolderLock(str(out)).acquire()  # a rerun now would be refused
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
        deadline = time.time() + 20
        while alive(child) and time.time() < deadline:
            time.sleep(0.1)
        assert not alive(child), 'the stage process outlived run_study (kill -9)'
        FolderLock(str(out)).acquire().release()  # the rerun may start
    finally:
        if driver.poll() is None:
            driver.kill()
        if child is not None and alive(child):
            os.kill(child, signal.SIGKILL)

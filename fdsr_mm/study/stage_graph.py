"""A resumable graph of stages run as subprocesses, a few at a time (the miniature study's runner).

A :class:`Stage` is a command (or a callable returning one, or doing the work in process), the
stages it depends on and the files it writes. :class:`StageGraph` starts stages in insertion order
as their dependencies finish, ``jobs`` at a time, and records each finished stage in
``<out>/<stage>/stage.json`` (the hash of its inputs and a fingerprint). A stage whose record has
the same inputs (its parameters, its command and its dependencies' fingerprints) and whose outputs
exist is skipped; deleting a stage folder recomputes it and everything downstream, nothing else.
Config files (``configs/...``) named in a stage's command or parameters count by their resolved
content; files from outside the study a stage reads (``Stage.reads``: a dataset's annotations, a
model-zoo checkpoint) count by their size and modification time, so replacing one reruns the
stages that read it.

One run per folder: :meth:`StageGraph.run` holds an exclusive lock on ``<out>/.stage_graph.lock``
(``flock``, released by the kernel however the run ends) and a second run on the same folder is
refused with one line. Stage processes end with the run: they are stopped when it stops (error,
Ctrl-C) and, on Linux, get SIGTERM from the kernel when it is killed outright (``kill -9``:
``PR_SET_PDEATHSIG``); they also hold the lock, so no rerun can race a stage still running.
"""
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import Callable, Dict, Optional

from fdsr_mm.utils.io import dump_json
from fdsr_mm.utils.cli_errors import ToolError

LOCK_NAME = '.stage_graph.lock'
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _strings(obj):
    """Every string inside nested dicts/lists/tuples."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)


def check_out_dir(out: str, option: str = '--out-dir') -> None:
    """Refuse an output folder that is a file (or lies under one).

    Raises:
        ToolError: naming ``out`` and the option it came from.
    """
    path = osp.abspath(out)
    while path and not osp.exists(path):
        parent = osp.dirname(path)
        if parent == path:
            return
        path = parent
    if not osp.isdir(path):
        where = option if path == osp.abspath(out) else f'{option} {out}'
        raise ToolError(f'{path} is a file, not a folder', where,
                        'pass a folder (new or from an earlier run) for the outputs')


class FolderLock:
    """An exclusive ``flock`` on ``<folder>/.stage_graph.lock`` that says who holds it.

    The kernel drops the lock when the last process holding its file descriptor ends, so a lock
    of a killed run is never stale; stage processes inherit the descriptor (see
    :meth:`StageGraph._start`) so the lock lasts as long as any of them.
    """

    def __init__(self, folder: str, prog: str = 'run'):
        self.path, self.prog, self.fd = osp.join(folder, LOCK_NAME), prog, None

    def acquire(self) -> 'FolderLock':
        """Take the lock or raise :class:`ToolError` naming the holder's process id."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = os.pread(fd, 64, 0).decode(errors='replace').strip() or '?'
            os.close(fd)
            if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise ToolError(f'another run is using this folder (process {holder} or the stages '
                            'it started)', self.path,
                            'wait for it to finish or stop it, then rerun (finished stages are '
                            'kept)') from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f'{os.getpid()} {self.prog}\n'.encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        """Drop this process's hold (stage processes still running keep theirs)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def die_with_parent() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` that makes the child get SIGTERM when its parent dies (Linux), else None.

    The child also exits at once when the parent is already gone between ``fork`` and ``prctl``.
    """
    if not sys.platform.startswith('linux'):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec():
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
    return preexec


def fmt_time(seconds: float) -> str:
    """``'12m05s'``."""
    m, s = divmod(int(round(seconds)), 60)
    return f'{m}m{s:02d}s'


class Stage:
    """A unit of work: a command (or a Python callable), its inputs and its outputs.

    Args:
        name: Folder name under the graph's ``out``.
        deps: Names of the stages that must finish first.
        cmd: The command (argv list), or None when ``fn`` gives it.
        fn: ``fn(stage)`` returns the command (built once its dependencies exist), or does the
            work itself when ``in_process``.
        params: Settings that, when changed, make the stage rerun.
        outputs: Files (relative to ``out`` or absolute) that must exist for a skip.
        reads: Files no stage makes that the stage reads (absolute paths), or a callable giving
            them once the run starts; a change of one (size, modification time) reruns it.
    """

    def __init__(self, name, deps=(), cmd=None, fn=None, params=None, outputs=(),
                 in_process=False, reads=()):
        self.name, self.deps, self.cmd, self.fn = name, tuple(deps), cmd, fn
        self.params, self.outputs = params or {}, tuple(outputs)
        self.in_process, self.reads = in_process, reads


def file_identity(path: str) -> Optional[list]:
    """``[size, mtime_ns]`` of a file, None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class StageGraph:
    """Runs :attr:`stages` (name -> :class:`Stage`, filled by a subclass) under ``out``.

    Args:
        out: The folder holding one sub-folder per stage.
        jobs: Stages run at the same time; subprocesses get 1 torch thread each when > 1.
        cwd: Working directory of the stage commands.
        exclusive_prefix: Stages whose names start with it never run at the same time...
        exclusive_group: ...unless this maps their names to different groups (None: one group).
    """

    def __init__(self, out: str, jobs: int = 2, cwd: str = '.', exclusive_prefix: str = '',
                 exclusive_group: Optional[Callable[[str], str]] = None):
        self.out, self.jobs, self.cwd = out, max(1, jobs), cwd
        self.exclusive_prefix, self.exclusive_group = exclusive_prefix, exclusive_group
        self.t0 = time.time()
        self.stages: Dict[str, Stage] = {}
        self._digests: Dict[str, str] = {}
        self._lock: Optional[FolderLock] = None

    def add(self, stage: Stage) -> None:
        self.stages[stage.name] = stage

    def log(self, msg: str) -> None:
        print(f'[study {fmt_time(time.time() - self.t0):>7}] {msg}', flush=True)

    def stage_dir(self, name: str) -> str:
        return osp.join(self.out, name)

    def stage_file(self, name: str) -> str:
        return osp.join(self.stage_dir(name), 'stage.json')

    def read_stage(self, name: str) -> Optional[dict]:
        try:
            with open(self.stage_file(name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def inputs_key(self, stage: Stage) -> str:
        deps = {d: (self.read_stage(d) or {}).get('fingerprint') for d in stage.deps}
        configs = sorted({c for c in list(stage.cmd or []) + list(_strings(stage.params))
                          if c.endswith('.py') and c.startswith('configs/')
                          and osp.isfile(osp.join(self.cwd, c))})
        key = dict(params=stage.params, cmd=stage.cmd, deps=deps,
                   configs={c: self.config_digest(c) for c in configs})
        reads = stage.reads() if callable(stage.reads) else stage.reads
        if reads:  # (absent otherwise: the records of earlier runs stay valid)
            key['reads'] = {p: file_identity(p) for p in sorted(reads)}
        return _hash(key)

    def config_digest(self, path: str) -> str:
        """Hash of a config as mmengine resolves it (its ``_base_`` files included), so that
        editing a config or one of its bases reruns the stages that use it."""
        if path not in self._digests:
            from mmengine.config import Config
            self._digests[path] = _hash(Config.fromfile(osp.join(self.cwd, path)).pretty_text)
        return self._digests[path]

    def resolve(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.out, path)

    def up_to_date(self, stage: Stage) -> bool:
        rec = self.read_stage(stage.name)
        if not rec or rec.get('inputs') != self.inputs_key(stage):
            return False
        return all(osp.exists(self.resolve(o)) for o in rec.get('outputs', []))

    def finish(self, stage: Stage, inputs: str, seconds: float) -> None:
        rec = dict(stage=stage.name, inputs=inputs, seconds=round(seconds, 1),
                   finished=time.strftime('%Y-%m-%dT%H:%M:%S'), outputs=list(stage.outputs))
        rec['fingerprint'] = _hash(rec)
        dump_json(rec, self.stage_file(stage.name))

    def _env(self) -> dict:
        threads = '1' if self.jobs > 1 else '2'
        return dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
                    PYTHONWARNINGS='ignore')

    def _may_start(self, name: str, running: dict) -> bool:
        if len(running) >= self.jobs:
            return False
        ex = self.exclusive_prefix
        if not (ex and name.startswith(ex)):
            return True
        group = self.exclusive_group or (lambda n: '')
        return not any(r.startswith(ex) and group(r) == group(name) for r in running)

    def _start(self, stage: Stage, running: dict, done: set) -> None:
        inputs = self.inputs_key(stage)
        os.makedirs(self.stage_dir(stage.name), exist_ok=True)
        if osp.exists(self.stage_file(stage.name)):
            os.remove(self.stage_file(stage.name))
        start = time.time()
        if stage.in_process:
            self.log(f'{stage.name}: running')
            stage.fn(stage)
            self.finish(stage, inputs, time.time() - start)
            done.add(stage.name)
            self.log(f'{stage.name}: done in {fmt_time(time.time() - start)}')
            return
        cmd = stage.cmd if stage.fn is None else stage.fn(stage)
        log_path = osp.join(self.stage_dir(stage.name), 'stage.log')
        shown = ' '.join(osp.relpath(c, self.cwd) if c.startswith(self.cwd) else c
                         for c in cmd[1:3])
        self.log(f'{stage.name}: running ({shown} ...), log {log_path}')
        logf = open(log_path, 'w')
        lock_fd = self._lock.fd if self._lock is not None else None
        proc = subprocess.Popen(cmd, cwd=self.cwd, env=self._env(), stdout=logf,
                                stderr=subprocess.STDOUT, preexec_fn=die_with_parent(),
                                pass_fds=() if lock_fd is None else (lock_fd, ))
        running[stage.name] = (proc, start, inputs, logf, log_path)

    def _reap(self, running: dict, done: set) -> Optional[str]:
        """Collect finished subprocesses; returns the name of a failed one, if any."""
        failed = None
        for name, (proc, start, inputs, logf, log_path) in list(running.items()):
            if proc.poll() is None:
                continue
            logf.close()
            del running[name]
            if proc.returncode != 0:
                failed = name
                with open(log_path) as f:
                    tail = f.read()[-3000:]
                self.log(f'{name}: FAILED (exit {proc.returncode}); last lines of {log_path}:'
                         f'\n{tail}')
                continue
            self.finish(self.stages[name], inputs, time.time() - start)
            done.add(name)
            self.log(f'{name}: done in {fmt_time(time.time() - start)}')
        return failed

    def run(self) -> int:
        """Run every stage not up to date; 0 when all finished, 1 when one failed.

        Holds the folder's lock for the whole run (a concurrent run gets a :class:`ToolError`)
        and stops the stage processes still running when it returns or raises.
        """
        check_out_dir(self.out)
        os.makedirs(self.out, exist_ok=True)
        self._lock = FolderLock(self.out, osp.basename(sys.argv[0]) or 'run').acquire()
        running: dict = {}
        try:
            return self._run(running)
        finally:
            self._stop(running)
            self._lock.release()
            self._lock = None

    def _stop(self, running: dict) -> None:
        """Terminate the stage processes still running (then kill those that linger)."""
        for proc, *_ in running.values():
            if proc.poll() is None:
                proc.terminate()
        for name, (proc, _, _, logf, _) in list(running.items()):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            logf.close()
            self.log(f'{name}: stopped (exit {proc.returncode}); it reruns next time')
        running.clear()

    def _run(self, running: dict) -> int:
        done, failed = set(), None
        pending = list(self.stages)
        while pending or running:
            for name in list(pending):
                stage = self.stages[name]
                if not all(d in done for d in stage.deps):
                    continue
                if self.up_to_date(stage):
                    self.log(f'{name}: up to date, skipped')
                    pending.remove(name)
                    done.add(name)
                elif not failed and self._may_start(name, running):
                    pending.remove(name)
                    self._start(stage, running, done)
            failed = self._reap(running, done) or failed
            if failed and not running:
                self.log(f'stopped: stage {failed} failed; fix it and rerun (finished stages '
                         'are kept)')
                return 1
            if running:
                time.sleep(0.5)
            elif pending and not failed and not any(
                    all(d in done for d in self.stages[n].deps) for n in pending):
                raise RuntimeError(f'stages {pending} wait for stages that never run')
        self.log(f'all stages done in {fmt_time(time.time() - self.t0)}')
        return 0

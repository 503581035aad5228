"""What a study would run, without running it: the stages in dependency order with their
commands (``tools/run_study.py --dry-run``), and the same as data (the tests compare it with the
graph the hard-coded runner built, ``tests/data/study/old_listing.json``)."""
import shlex
from typing import List

from fdsr_mm.study.stages import Study


def topological_order(study: Study) -> List[str]:
    """Stage names, each after its dependencies (insertion order where free)."""
    order, placed = [], set()
    pending = list(study.stages)
    while pending:
        ready = [n for n in pending if all(d in placed for d in study.stages[n].deps)]
        if not ready:
            raise RuntimeError(f'stages {pending} wait for stages that never run')
        order.append(ready[0])
        placed.add(ready[0])
        pending.remove(ready[0])
    return order


def stage_command(study: Study, name: str) -> list:
    stage = study.stages[name]
    return list(stage.cmd) if stage.fn is None else list(stage.fn(stage))


def describe_report(args: dict) -> List[str]:
    """The report stage's inputs: its result files and the claims it judges."""
    lines = [f'write_study_report -> {args["out_dir"]}']
    lines += [f'  results {det}: {path}' for det, path in args['result_files'].items()]
    if args['table3_file']:
        lines.append(f'  Table 3: {args["table3_file"]}')
    lines.append(f'  Fig. 3 points: {", ".join(args["fig3_settings"])}')
    lines += [f'  claim [{c.det}' + (f' / {c.det_b}' if c.det_b else '') +
              (f' relative to {c.det_ref}' if c.det_ref else '') +
              f'] {c.claim}: {c.method} > {c.base} on {c.key}'
              + (f' (paper: {c.paper})' if c.paper else '') for c in args['comparisons']]
    return lines


def dry_run_lines(study: Study) -> List[str]:
    """One block per stage in dependency order: name, dependencies, the command."""
    order = topological_order(study)
    lines = [f'{len(order)} stages in {study.out} (dependency order; nothing is run):']
    for i, name in enumerate(order, 1):
        stage = study.stages[name]
        lines.append(f'{i:3d}. {name}  <- {", ".join(stage.deps) or "(none)"}')
        if name == 'report':
            body = describe_report(study.report_arguments())
        elif stage.in_process:  # a dataset that must exist already
            body = [f'check that {path} exists' for path in stage.outputs]
        else:
            body = [shlex.join(stage_command(study, name))]
        lines += [f'       {line}' for line in body]
    return lines


def _normalize(obj, out: str, python: str):
    if isinstance(obj, str):
        return obj.replace(out, '<OUT>').replace(python, '<PYTHON>')
    if isinstance(obj, dict):
        return {k: _normalize(v, out, python) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_normalize(v, out, python) for v in obj]
    return obj


def stage_listing(study: Study) -> List[dict]:
    """Every stage (insertion order) as data, the study folder as ``<OUT>``, the interpreter as
    ``<PYTHON>``: name, deps, params, outputs, and the command or the report's arguments."""
    rows = []
    for name, stage in study.stages.items():
        row = dict(name=name, deps=list(stage.deps), params=stage.params,
                   outputs=list(stage.outputs), in_process=stage.in_process)
        if name == 'report':
            args = dict(study.report_arguments())
            args['comparisons'] = [{k: v for k, v in c.__dict__.items()  # det_b/ref: if given
                                    if k not in ('det_b', 'det_ref') or v is not None}
                                   for c in args['comparisons']]
            row['report'] = args
        elif not stage.in_process:
            row['cmd'] = stage_command(study, name)
        rows.append(_normalize(row, study.out, study.python))
    return rows

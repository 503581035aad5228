"""Captures the stage graph of tools/run_study.py (name, deps, command, params, outputs, and the
report's arguments) as JSON, with the study folder as ``<OUT>``, the interpreter as ``<PYTHON>`` and
each training stage's checkpoint as ``<last checkpoint of STAGE>``.

Run once against the hard-coded runner before the study became a spec (commit 3a02f32):

    python tests/data/study/capture_listing.py old > tests/data/study/old_listing.json

``tests/test_study/test_spec_graph.py`` compares the spec-built graph with that file.
"""
import json
import os.path as osp
import sys
from unittest import mock

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SETTINGS = {'default': [], 'quick': ['--quick'], 'seeds2': ['--seeds', '2']}


def normalize(obj, out):
    if isinstance(obj, str):
        return obj.replace(out, '<OUT>').replace(sys.executable, '<PYTHON>')
    if isinstance(obj, dict):
        return {k: normalize(v, out) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [normalize(v, out) for v in obj]
    return obj


def old_report_args(study):
    """The old report stage's arguments, captured by patching the functions it calls."""
    import fdsr_mm.study.extras as extras
    import fdsr_mm.study.report as report
    from fdsr_mm.study.verdicts import study_comparisons
    got = {}
    with mock.patch.object(report, 'write_study_report',
                           lambda *a, **k: got.update(write=(a, k))), \
            mock.patch.object(extras, 'loss_scale_section',
                              lambda *a: got.update(loss_scales=a) or 'L'), \
            mock.patch.object(extras, 'seeds_section', lambda *a: got.update(seeds=a) or 'S'):
        study.report(study.stages['report'])
    (out_dir, results), kw = got['write']
    voc = osp.splitext(osp.basename(study.detectors['ssd']))[0]
    comparisons = study_comparisons(list(results), voc, kw['priors'])
    return dict(out_dir=out_dir, result_files=results, fig3_settings=kw['fig3_settings'],
                panels_dir=kw['panels_dir'], quick=kw['quick'], table3_file=kw['table3_file'],
                priors=kw['priors'], num_resamples=kw['num_resamples'],
                loss_scales=list(got['loss_scales']), seeds=list(got['seeds']),
                comparisons=[c.__dict__ for c in comparisons])


def listing(study, report_args):
    rows = []
    for name, stage in study.stages.items():
        row = dict(name=name, deps=list(stage.deps), params=stage.params,
                   outputs=list(stage.outputs), in_process=stage.in_process)
        if stage.in_process:
            row['report'] = report_args(study)
        else:
            row['cmd'] = stage.cmd if stage.fn is None else stage.fn(stage)
        rows.append(normalize(row, study.out))
    return rows


def capture_old():
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
    import run_study
    run_study.Study.checkpoint = lambda self, name: f'<last checkpoint of {name}>'
    return {key: listing(run_study.Study(run_study.parse_args(
        args + ['--out-dir', '/nonexistent/study'])), old_report_args)
        for key, args in SETTINGS.items()}


if __name__ == '__main__':
    assert sys.argv[1:] == ['old']
    print(json.dumps(capture_old(), indent=1, sort_keys=True))

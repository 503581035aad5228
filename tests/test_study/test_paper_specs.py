"""The paper at scale from the same runner (issue 20, part 3): ``configs/study/paper_coco.py``
(Tables 1-2, Fig. 3) and ``paper_voc.py`` (Table 3).

The dry run of paper_coco lists the README's paper recipe; launchers become torchrun / srun
commands; a missing dataset or weights file stops the run before any stage, naming the spec key.
The slow test runs both specs end to end on tiny data in the real formats (COCO 2017 json and
folders, a VOC devkit with XML, the authors' D-DBPN key layout, model-zoo checkpoints of the
paper's own detector configs, torchvision ImageNet files, MMagic's EDSR and the RCAN authors'
layout) with 2-iteration schedules, through child specs that change paths and sizes only (and
batch 1, 32-px crops and a 128-px test scale so that the paper's models run on a CPU).
"""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, load_tool
from fdsr_mm.study.dry_run import stage_command
from fdsr_mm.utils import run_tool

PAPER_COCO = osp.join(REPO_ROOT, 'configs', 'study', 'paper_coco.py')
PAPER_VOC = osp.join(REPO_ROOT, 'configs', 'study', 'paper_voc.py')


@pytest.fixture(scope='module')
def run_study():
    return load_tool('run_study', 'run_study')


def dry_study(run_study, *args):
    return run_study.build_study(run_study.parse_args(
        [*args, '--dry-run', '--out-dir', '/nonexistent/study']))


def readme_recipe() -> list:
    """The commands of the README's "The paper recipe by hand" block, as argv lists."""
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        text = f.read()
    block = text.split('### The paper recipe by hand', 1)[1].split('```bash', 1)[1]
    block = block.split('```', 1)[0].replace('\\\n', ' ')
    return [shlex.split(line) for line in block.splitlines()
            if line.strip().startswith('python tools/')]


def test_dry_run_lists_the_readme_paper_recipe(run_study):
    study = dry_study(run_study, PAPER_COCO)
    cmds = [stage_command(study, n) for n in study.stages if n != 'report']
    recipe = readme_recipe()
    assert len(recipe) >= 12
    for argv in recipe:
        tool = argv[1]
        if tool == 'tools/merge_cascade_tables.py':  # the report stage merges the tables
            assert set(study.report_arguments()['result_files']) == {
                'faster_rcnn', 'faster_rcnn_r101', 'retinanet', 'cascade_rcnn'}
            continue
        same_tool = [c for c in cmds if tool in c]
        assert same_tool, tool
        if tool == 'tools/cascade_eval.py':
            rest = argv[argv.index('--methods') + 1:]
            methods = {m.split('=')[0] for m in rest[:rest.index('--out-dir')]}
            match = [c for c in same_tool if c[c.index(tool) + 1] == argv[2]]
            assert len(match) == 1, argv[2]
            c = match[0]
            assert osp.basename(c[c.index(tool) + 2]) == osp.basename(argv[3])
            run = {m.split('=')[0] for m in c[c.index('--methods') + 1:c.index('--out-dir')]}
            assert methods <= run, (argv[2], methods - run)
        elif tool == 'tools/train.py':
            assert any(c[c.index(tool) + 1] == argv[2] for c in same_tool), argv[2]
        else:  # prepare_coco_sr, convert_dbpn_official: the same input
            assert any(osp.basename(c[c.index(tool) + 1]) == osp.basename(argv[2])
                       for c in same_tool), argv


def test_launchers_become_torchrun_and_srun(run_study):
    study = dry_study(run_study, PAPER_COCO, '--launcher', 'pytorch', '--gpus', '8')
    cmd = stage_command(study, 'sr_fdsr')
    assert cmd[1:5] == ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=8']
    assert cmd.index('--launcher') < cmd.index('--cfg-options') and 'pytorch' in cmd
    study = dry_study(run_study, PAPER_VOC, '--launcher', 'slurm', '--partition', 'gpu',
                      '--gpus', '16')
    cmd = stage_command(study, 'sr_tdsr')
    assert cmd[:3] == ['srun', '-p', 'gpu'] and '--ntasks=16' in cmd
    assert '--gres=gpu:8' in cmd and '--ntasks-per-node=8' in cmd
    assert cmd[cmd.index('--launcher') + 1] == 'slurm'
    # the cascades are not launched: one process each
    assert stage_command(study, 'cascade_ssd300')[1] == 'tools/cascade_eval.py'


def test_the_spec_can_name_the_launcher(run_study, tmp_path):
    child = tmp_path / 'on_slurm.py'
    child.write_text(f'_base_ = [{PAPER_COCO!r}]\n'
                     "launcher = dict(type='slurm', partition='big', gpus=4, gpus_per_node=4)\n")
    cmd = stage_command(dry_study(run_study, str(child)), 'sr_fdsr')
    assert cmd[:3] == ['srun', '-p', 'big'] and '--ntasks=4' in cmd
    # the command line wins over the spec
    cmd = stage_command(dry_study(run_study, str(child), '--launcher', 'none'), 'sr_fdsr')
    assert cmd[1] == 'tools/train.py' and '--launcher' not in cmd


def test_slurm_without_partition_is_one_line(run_study, capsys):
    code = run_tool('run_study', lambda: run_study.main(
        [PAPER_COCO, '--launcher', 'slurm', '--dry-run', '--out-dir', '/nonexistent/study']))
    err = capsys.readouterr().err
    assert code == 2 and err.count('\n') == 1 and 'partition' in err


def test_missing_dataset_or_weights_stop_before_any_stage(run_study, tmp_path, capsys):
    out = tmp_path / 'study'
    code = run_tool('run_study', lambda: run_study.main(
        [PAPER_VOC, '--out-dir', str(out), '--cfg-options', f'data.voc.root={tmp_path}']))
    err = capsys.readouterr().err
    assert code == 2 and err.count('\n') == 1
    assert 'paper_voc.py: detectors.ssd300.checkpoint' in err and '--cfg-options' in err
    assert not out.exists()


def test_spec_overrides_from_the_command_line(run_study, tmp_path):
    study = dry_study(run_study, PAPER_COCO, '--cfg-options', f'data.coco.root={tmp_path}',
                      'sizes.full.num_train=7')
    cmd = stage_command(study, 'coco')
    assert cmd[2:5] == [str(tmp_path), '--num-train', '7']


def _write_child(path, base, body):
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n' + body)
    return str(path)


def _coco_child(tmp, ck):
    small = ['test_dataloader.dataset.pipeline.1.scale=(128,128)']
    return _write_child(tmp / 'paper_coco_tiny.py', PAPER_COCO, f'''
sizes = dict(full=dict(num_train=4, num_val=2, min_side=32, ft_iters=2, panels=1, resamples=50))
data = dict(coco=dict(root={str(tmp / 'coco')!r}))
detectors = {{d: dict(checkpoint=ck) for d, ck in {dict(
        (d, ck[d]) for d in ('faster_rcnn', 'faster_rcnn_r101', 'retinanet', 'cascade_rcnn'))!r}.items()}}
priors = dict(maskrcnn_c4=dict(checkpoint={ck['maskrcnn_c4']!r}),
              vgg19=dict(checkpoint={ck['vgg19']!r}),
              r50_imagenet=dict(checkpoint={ck['r50_imagenet']!r}))
sr_pretrain = dict(convert={ck['dbpn_official']!r})
sr_checkpoints = dict(edsr=dict(checkpoint={ck['edsr']!r}), rcan=dict(checkpoint={ck['rcan']!r}))
sr_options = ['{{loader}}.dataset.data_root={{data}}', 'model.generator.init_cfg=None',
              'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
              'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
              'test_dataloader.num_workers=0',
              'train_dataloader.dataset.pipeline.1.crop_size=(32,32)']
device = 'cpu'
cascade_options = ['--resamples', '20']
evaluators = {{d: dict(cfg_options={small!r}) for d in
              ('faster_rcnn', 'faster_rcnn_r101', 'retinanet', 'cascade_rcnn')}}
''')


def _voc_child(tmp, ck, coco_study):
    opts = [f'train_dataloader.dataset.datasets.{i}.det_dataset.data_root={{data}}/'
            for i in (0, 1)]
    opts += [f'{lo}.dataset.det_dataset.data_root={{data}}/' for lo in ('val_dataloader',
                                                                         'test_dataloader')]
    opts += ['model.generator.init_cfg=None', 'train_dataloader.batch_size=1',
             'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
             'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']
    return _write_child(tmp / 'paper_voc_tiny.py', PAPER_VOC, f'''
sizes = dict(full=dict(ft_iters=2, panels=1, resamples=50))
data = dict(voc=dict(root={str(tmp / 'VOCdevkit')!r}))
detectors = dict(ssd300=dict(checkpoint={ck['ssd300']!r}))
sr_pretrain = dict(convert={ck['dbpn_official']!r})
sr_checkpoints = dict(fdsr=dict(checkpoint={coco_study + '/sr_fdsr'!r}),
                      dbpn=dict(checkpoint={coco_study + '/sr_dbpn'!r}))
task_finetunes = dict(tdsr=dict(options={opts!r}))
device = 'cpu'
cascade_options = ['--resamples', '20']
evaluators = dict(ssd300=dict(cfg_options=['cascade_hr_size=(128,128)']))
''')


def _run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, 'tools/run_study.py', *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope='module')
def paper_runs(tmp_path_factory):
    from helpers.paper_world import make_checkpoints, make_coco, make_voc
    tmp = tmp_path_factory.mktemp('paper')
    make_coco(str(tmp / 'coco'))
    make_voc(str(tmp / 'VOCdevkit'))
    ck = make_checkpoints(str(tmp / 'checkpoints'), load_tool('init_detector_checkpoint'))
    coco = str(tmp / 'study_coco')
    coco_log = _run([_coco_child(tmp, ck), '--out-dir', coco, '--jobs', '2'])
    voc = str(tmp / 'study_voc')
    voc_log = _run([_voc_child(tmp, ck, coco), '--out-dir', voc, '--jobs', '2',
                    '--launcher', 'pytorch', '--gpus', '2'])
    return dict(coco=coco, voc=voc, ck=ck, coco_log=coco_log, voc_log=voc_log, tmp=tmp)


def _results(path):
    with open(path) as f:
        return json.load(f)


@pytest.mark.slow
def test_paper_coco_runs_end_to_end_on_tiny_data(paper_runs):
    study, ck = paper_runs['coco'], paper_runs['ck']
    assert 'all stages done' in paper_runs['coco_log']
    # the SR training list was prepared in the dataset, the official weights converted
    assert osp.isfile(osp.join(paper_runs['tmp'], 'coco', 'annotations',
                               'fdsr_sr_train20k.txt'))
    converted = osp.join(study, 'sr_pretrain', 'dbpn_official_converted.pth')
    assert osp.isfile(converted)
    for variant, prior in (('fdsr', 'maskrcnn_c4'), ('fdsr_vgg19', 'vgg19'),
                           ('fdsr_r50imagenet', 'r50_imagenet'), ('dbpn', None)):
        with open(osp.join(study, f'sr_{variant}', 'stage.log')) as f:
            log = f.read()
        assert f'Load checkpoint from {converted}' in log, variant
        priors = [ck[p] for p in ('maskrcnn_c4', 'vgg19', 'r50_imagenet') if ck[p] in log]
        assert priors == ([ck[prior]] if prior else []), variant  # the given weights, or none
    table1 = _results(osp.join(study, 'cascade_faster_rcnn', 'results.json'))
    assert list(table1['methods'])[:7] == ['hr', 'bicubic', 'edsr', 'rcan', 'dbpn_pretrained',
                                           'dbpn', 'fdsr']
    assert len(table1['methods']) == 13  # + the six Fig. 3 fine-tunes
    assert table1['intervals']['reference'] == 'bicubic'
    verdicts = _results(osp.join(study, 'report', 'verdicts.json'))
    assert len(verdicts) == 21 and {v['family_size'] for v in verdicts} == {21}
    assert all(v['verdict_holm'] for v in verdicts)
    with open(osp.join(study, 'report', 'table2.md')) as f:
        table2 = f.read()
    for det in ('faster_rcnn_r101', 'retinanet', 'cascade_rcnn'):
        assert det in table2
    with open(osp.join(study, 'report', 'summary.md')) as f:
        assert f.readline().startswith('# FDSR at paper scale: COCO 2017')
    assert osp.isfile(osp.join(study, 'report', 'fig3_alpha_beta.png'))


@pytest.mark.slow
def test_paper_voc_runs_end_to_end_with_two_processes(paper_runs):
    study = paper_runs['voc']
    assert 'all stages done' in paper_runs['voc_log']
    with open(osp.join(study, 'sr_tdsr', 'stage.log')) as f:
        log = f.read()
    assert 'Distributed training: True' in log  # torchrun: two gloo processes on a CPU
    assert re.search(r'GPU number: 2\b', log)  # mmengine's count of the world size
    t3 = _results(osp.join(study, 'cascade_ssd300', 'results.json'))
    assert list(t3['methods']) == ['hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'tdsr', 'fdsr']
    assert t3['metric'] == 'voc'
    coco_fdsr = osp.join(paper_runs['coco'], 'sr_fdsr', 'iter_2.pth')
    with open(osp.join(study, 'cascade_ssd300', 'stage.log')) as f:
        assert coco_fdsr in f.read() or coco_fdsr in json.dumps(t3)
    verdicts = _results(osp.join(study, 'report', 'verdicts.json'))
    assert len(verdicts) == 5 and {v['family_size'] for v in verdicts} == {5}
    assert osp.isfile(osp.join(study, 'report', 'table3.md'))
    assert not osp.exists(osp.join(study, 'report', 'table1.md'))


def _run_voc_on_placeholders(run_study, tmp_path, capsys, fdsr: str):
    """paper_voc with every given file an empty placeholder under ``tmp_path`` (only their
    existence is checked before a stage) and ``fdsr`` as the FDSR checkpoint; (exit code,
    stderr, study folder)."""
    for name in ('ssd.pth', 'DBPN_x4.pth', 'fdsr.pth'):
        (tmp_path / name).write_bytes(b'')
    out = tmp_path / 'study'
    code = run_tool('run_study', lambda: run_study.main(
        [PAPER_VOC, '--out-dir', str(out), '--cfg-options', f'data.voc.root={tmp_path}',
         f'detectors.ssd300.checkpoint={tmp_path}/ssd.pth',
         f'sr_pretrain.convert={tmp_path}/DBPN_x4.pth',
         f'sr_checkpoints.fdsr.checkpoint={tmp_path}/{fdsr}',
         f'sr_checkpoints.dbpn.checkpoint={tmp_path}/fdsr.pth']))
    return code, capsys.readouterr().err, out


def test_an_unfinished_work_dir_as_sr_checkpoint_is_one_line(run_study, tmp_path, capsys):
    (tmp_path / 'fdsr_run').mkdir()
    code, err, out = _run_voc_on_placeholders(run_study, tmp_path, capsys, 'fdsr_run')
    assert code == 2 and err.count('\n') == 1
    assert 'fdsr_run has no last_checkpoint' in err and 'sr_checkpoints.fdsr.checkpoint' in err
    assert not out.exists()


def test_a_dataset_without_its_lists_stops_at_its_check(run_study, tmp_path, capsys):
    code, err, out = _run_voc_on_placeholders(run_study, tmp_path, capsys, 'fdsr.pth')
    assert code == 2 and err.count('\n') == 1
    assert 'VOC2007/ImageSets/Main/trainval.txt does not exist' in err
    assert 'paper_voc.py: data.voc' in err and 'data.voc.root=PATH' in err
    assert sorted(os.listdir(out)) == ['.stage_graph.lock', 'voc']  # no other stage started


def test_a_replaced_given_file_reruns_the_stages_that_read_it(run_study, tmp_path):
    """A model-zoo file or an SR model trained elsewhere replaced at the same path must not leave
    a finished cascade 'up to date' (exit 0 with the old file's results)."""
    for name in ('ssd.pth', 'DBPN_x4.pth', 'fdsr.pth', 'dbpn.pth'):
        (tmp_path / name).write_bytes(b'one')
    study = run_study.build_study(run_study.parse_args(
        [PAPER_VOC, '--out-dir', str(tmp_path / 'study'), '--cfg-options',
         f'data.voc.root={tmp_path}', f'detectors.ssd300.checkpoint={tmp_path}/ssd.pth',
         f'sr_pretrain.convert={tmp_path}/DBPN_x4.pth',
         f'sr_checkpoints.fdsr.checkpoint={tmp_path}/fdsr.pth',
         f'sr_checkpoints.dbpn.checkpoint={tmp_path}/dbpn.pth']))
    names = ('voc', 'sr_pretrain', 'sr_tdsr', 'cascade_ssd300', 'report')
    before = {n: study.inputs_key(study.stages[n]) for n in names}
    (tmp_path / 'ssd.pth').write_bytes(b'other weights')
    (tmp_path / 'fdsr.pth').write_bytes(b'other weights')
    after = {n: study.inputs_key(study.stages[n]) for n in names}
    assert [n for n in names if before[n] != after[n]] == ['sr_tdsr', 'cascade_ssd300']
    (tmp_path / 'DBPN_x4.pth').write_bytes(b'other weights')
    assert study.inputs_key(study.stages['sr_pretrain']) != before['sr_pretrain']


@pytest.mark.parametrize('name,other', [('tdsr', 'task_finetunes'), ('hr', 'built-in'),
                                         ('dbpn_pretrained', 'sr_pretrain.method')])
def test_one_method_name_in_two_tables_is_refused(run_study, capsys, name, other):
    code = run_tool('run_study', lambda: run_study.main(
        [PAPER_VOC, '--dry-run', '--out-dir', '/nonexistent/study', '--cfg-options',
         f'sr_checkpoints.{name}.config=configs/fdsr_x4.py',
         f'sr_checkpoints.{name}.checkpoint=x.pth']))
    err = capsys.readouterr().err
    assert code == 2 and err.count('\n') == 1
    assert f"the method name '{name}' is also in {other}" in err
    assert f'paper_voc.py: sr_checkpoints.{name})' in err

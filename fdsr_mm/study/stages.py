"""A study spec (:class:`fdsr_mm.study.spec.StudySpec`) as a :class:`StageGraph` of the project's
public tools (``tools/train.py``, ``tools/cascade_eval.py``, the data generators) and the report.

Stages: the data (``<name>``: generated, prepared in place, or checked), the detectors trained
here (``det_<name>``), the SR pre-training or the conversion of the official weights
(``sr_pretrain``), the feature priors made here (``prior_<name>``), the SR fine-tunes
and task-driven fine-tunes (``sr_<name>``), the cascades (``cascade_<evaluator>``), with ``seeds``
> 1 the seeded fine-tunes and their cascades again (suffix ``_s<k>``), and ``report``. Insertion
order is start order: the priors and the SR pre-training first (the fine-tunes wait for them), seed
k's cascades before seed k+1's training.
"""
import functools
import os.path as osp
import re
import string
from typing import Optional

from fdsr_mm.study.launchers import launcher_settings, train_command
from fdsr_mm.study.report_stage import ReportStage
from fdsr_mm.study.spec import SR_PRETRAIN, StudySpec
from fdsr_mm.study.stage_graph import Stage, StageGraph
from fdsr_mm.utils.cli_errors import ToolError

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
CONVERTED = 'dbpn_official_converted.pth'


def read_last_checkpoint(work_dir: str) -> str:
    """The checkpoint an mmengine work dir's ``last_checkpoint`` names."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def fill(template: str, values: dict):
    """``template`` with ``{name}`` replaced from ``values``; None when a named value is None."""
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    if any(values.get(n) is None for n in names):
        return None
    return template.format(**{n: values[n] for n in names})


class Study(StageGraph, ReportStage):
    """The stages of ``spec`` under ``out``.

    Args:
        spec: The checked study spec.
        out: The study folder.
        python: The interpreter the stages run with.
        quick: Tiny sizes (``spec.sizes.quick``).
        seed: Data seed and training seed of every stage (fine-tunes of seed k: ``seed + k``).
        seeds: Training seeds of the seeded fine-tunes.
        jobs: Stages run at the same time.
        dry_run: Commands name checkpoints as ``<last checkpoint of STAGE>`` (nothing is read).
        launcher: Settings over the spec's ``launcher`` (``type``, ``gpus``, ``gpus_per_node``,
            ``partition``, ``cpus_per_task``; None values keep the spec's).
        device: The cascades' ``--device`` over the spec's ``device``.
    """

    def __init__(self, spec: StudySpec, out: str, python: str, quick: bool = False, seed: int = 0,
                 seeds: int = 1, jobs: int = 2, dry_run: bool = False,
                 launcher: Optional[dict] = None, device: Optional[str] = None):
        # one cascade at a time per image set: the next one reuses the SR images the first one
        # cached; cascades of different data (the VOC one beside the COCO ones) run side by side
        super().__init__(out, jobs, spec.root, exclusive_prefix='cascade_',
                         exclusive_group=self.cascade_data)
        self.spec, self.python, self.quick, self.seed, self.seeds = spec, python, quick, seed, seeds
        self.dry_run = dry_run
        self.launcher = launcher_settings(spec.launcher, **(launcher or {}))
        if self.launcher['type'] == 'slurm' and not self.launcher['partition']:
            raise ToolError('the slurm launcher needs a partition', f'{spec.path}: launcher',
                            'set launcher.partition in the spec or pass --partition')
        self.device = device or spec.device
        self.sizes = dict(spec.sizes['quick' if quick else 'full'])
        self.evaluators = list(spec.evaluators)
        self.build_stages()

    # -- helpers ---------------------------------------------------------------------------------
    def data_dir(self, data: str) -> str:
        d = self.spec.data[data]
        return self.spec.path_of(d['root']) if 'root' in d else osp.join(self.out, d['folder'])

    def cascade_data(self, stage_name: str) -> str:
        """The data stage a ``cascade_<evaluator>[_s<k>]`` stage evaluates on."""
        det = re.sub(r'_s\d+$', '', stage_name[len('cascade_'):])
        return self.spec.detectors[det]['data']

    def detector_checkpoint(self, det: str) -> str:
        """A detector's weights: the given file, or the last checkpoint of its training stage."""
        given = self.spec.detectors[det].get('checkpoint')
        return self.spec.path_of(given) if given else self.checkpoint(f'det_{det}')

    def detector_deps(self, det: str) -> list:
        return [f'det_{det}'] if self.spec.trained(det) else []

    def detector_reads(self, det: str) -> list:
        """The given weights file of a detector no stage trains (its stage reads it)."""
        return [] if self.spec.trained(det) else [self.detector_checkpoint(det)]

    def prior_reads(self, prior: str) -> list:
        p = self.spec.priors[prior]
        if 'checkpoint' in p:
            return [self.spec.path_of(p['checkpoint'])]
        return self.detector_reads(p['detector']) if 'detector' in p else []

    def pretrain_checkpoint(self) -> str:
        """The SR pre-training's weights (trained here, or the converted official file)."""
        if 'convert' in self.spec.sr_pretrain:
            return osp.join(self.stage_dir(SR_PRETRAIN), CONVERTED)
        return self.checkpoint(SR_PRETRAIN)

    def given_sr_checkpoint(self, method: str) -> str:
        """An ``sr_checkpoints`` file, or the last checkpoint of a work dir named there."""
        path = self.spec.path_of(self.spec.sr_checkpoints[method]['checkpoint'])
        if osp.isfile(path) or osp.splitext(path)[1] in ('.pth', '.pt'):
            return path
        if self.dry_run:
            return f'<last checkpoint in {path}>'
        last = osp.join(path, 'last_checkpoint')
        if not osp.isfile(last):
            raise ToolError(f'{path} has no last_checkpoint (is its training finished?)',
                            f'{self.spec.path}: sr_checkpoints.{method}.checkpoint',
                            'finish that training, or name a checkpoint file')
        return read_last_checkpoint(path)

    def checkpoint(self, name: str) -> str:
        """The last checkpoint of a training stage (mmengine writes its path to last_checkpoint)."""
        if self.dry_run:
            return f'<last checkpoint of {name}>'
        return read_last_checkpoint(self.stage_dir(name))

    def options(self, templates, data: str) -> list:
        out = []
        for t in templates:
            loaders = LOADERS if '{loader}' in t else (None, )
            out += [fill(t, dict(self.sizes, data=self.data_dir(data), loader=lo))
                    for lo in loaders]
        return [o for o in out if o is not None]

    def data_options(self, data: str, loaders=LOADERS, det=True) -> list:
        root = self.data_dir(data)
        opts = [f'{loader}.dataset.data_root={root}/' for loader in loaders]
        ann = self.spec.data[data].get('ann_file')
        if det and ann:
            opts += [f'{ev}_evaluator.ann_file={root}/{ann}' for ev in ('val', 'test')]
        return opts

    def sr_options(self, data: str) -> list:
        return self.options(self.spec.sr_options, data) + (
            list(self.spec.quick_sr_options) if self.quick else [])

    def train_cmd(self, config, work_dir, iters, extra=(), seed=None):
        """``tools/train.py`` under the study's launcher (:mod:`fdsr_mm.study.launchers`)."""
        seed = self.seed if seed is None else seed
        args = [config, '--work-dir', work_dir, '--cfg-options', f'randomness.seed={seed}']
        if iters is not None:
            args += [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
                     f'default_hooks.checkpoint.interval={iters}']
            if self.quick:
                args += ['default_hooks.logger.interval=1']
        return train_command(self.python, args + list(extra), self.launcher,
                             osp.basename(work_dir))

    def iters(self, key):
        return None if key is None else self.sizes[key]

    # -- the stages ------------------------------------------------------------------------------
    def build_stages(self):
        self._data_stages()
        self._model_stages()
        for k in range(self.seeds):  # seed k's cascades start before seed k+1's training
            self._sr_stages(k)
            self._cascade_stages(k)
        fig3_priors = [f'sr_{m}' for m, v in self.spec.sr_variants.items()
                       if m in self.fig3_methods() and v.get('prior')]
        self.add(Stage('report', deps=[n for n in self.stages if n.startswith('cascade_')]
                       + fig3_priors, fn=self.report, outputs=['report/summary.md'],
                       in_process=True))

    def _data_stages(self):
        """Generated data (a folder of the study), a dataset prepared in place by its tool, or a
        dataset checked in process (its ``outputs`` must exist)."""
        for name, d in self.spec.data.items():
            root = self.data_dir(name)
            outputs = [f'{root}/{o}' for o in d['outputs']]
            # a dataset where it is: its annotations (and checked lists) are read, not made
            reads = [f'{root}/{d["ann_file"]}'] if 'root' in d and d.get('ann_file') else []
            if 'tool' not in d:
                self.add(Stage(name, fn=self.check_data, params=dict(root=root),
                               outputs=outputs, in_process=True, reads=reads + outputs))
                continue
            args = [a for a in (fill(t, self.sizes) for t in d.get('args', [])) if a is not None]
            self.add(Stage(name, cmd=[self.python, d['tool'], root, *args, '--seed',
                                      str(self.seed)],
                           params=dict(self.sizes, seed=self.seed), outputs=outputs,
                           reads=reads))

    def check_data(self, stage: Stage):
        for path in stage.outputs:
            if not osp.exists(path):
                raise ToolError(f'{path} does not exist', f'{self.spec.path}: data.{stage.name}',
                                f'get the dataset, or point data.{stage.name}.root at it '
                                f'(run_study.py --cfg-options data.{stage.name}.root=PATH)')
        return None

    def _detector_stage(self, det: str):
        d = self.spec.detectors[det]
        self.add(Stage(f'det_{det}', deps=[d['data']],
                       cmd=self.train_cmd(self.spec.det_configs[det], self.stage_dir(f'det_{det}'),
                                          self.iters(d['iters']), self.data_options(d['data'])),
                       outputs=[f'det_{det}/last_checkpoint']))

    def _model_stages(self):
        """The detectors that are priors, the SR pre-training, the other priors, the detectors."""
        spec, pre = self.spec, self.spec.sr_pretrain
        prior_dets = [p['detector'] for p in spec.priors.values() if 'detector' in p]
        for det in prior_dets:
            if spec.trained(det):
                self._detector_stage(det)
        if 'convert' in pre:
            self.add(Stage(SR_PRETRAIN, cmd=[
                self.python, 'tools/convert_dbpn_official.py', spec.path_of(pre['convert']),
                self.pretrain_checkpoint(), '--config', pre['config']],
                outputs=[f'{SR_PRETRAIN}/{CONVERTED}'], reads=[spec.path_of(pre['convert'])]))
        else:
            self.add(Stage(SR_PRETRAIN, deps=[pre['data']], cmd=self.train_cmd(
                pre['config'], self.stage_dir(SR_PRETRAIN), self.iters(pre['iters']),
                self.sr_options(pre['data'])), outputs=[f'{SR_PRETRAIN}/last_checkpoint']))
        for name, p in spec.priors.items():
            stage = f'prior_{name}'
            if p.get('random_init'):
                self.add(Stage(stage, cmd=[
                    self.python, 'tools/init_detector_checkpoint.py', self.prior_config(),
                    osp.join(self.stage_dir(stage), 'random_init.pth'), '--seed',
                    str(self.seed)], outputs=[f'{stage}/random_init.pth']))
            elif 'config' in p:
                self.add(Stage(stage, deps=[p['data']], cmd=self.train_cmd(
                    spec.prior_configs[name], self.stage_dir(stage), self.iters(p['iters']),
                    self.data_options(p['data'], det=False)),
                    outputs=[f'{stage}/last_checkpoint']))
        for det in spec.detectors:
            if det not in prior_dets and spec.trained(det):
                self._detector_stage(det)

    def prior_config(self) -> str:
        return self.spec.det_configs[self.spec.prior_architecture]

    def prior_deps(self, prior: str) -> list:
        p = self.spec.priors[prior]
        if 'detector' in p:
            return self.detector_deps(p['detector'])
        return [] if 'checkpoint' in p else [f'prior_{prior}']

    def prior_checkpoint(self, prior: str) -> str:
        p = self.spec.priors[prior]
        if p.get('random_init'):
            return osp.join(self.stage_dir(f'prior_{prior}'), 'random_init.pth')
        if 'checkpoint' in p:
            return self.spec.path_of(p['checkpoint'])
        if 'detector' in p:
            return self.detector_checkpoint(p['detector'])
        return self.checkpoint(f'prior_{prior}')

    def _sr_stages(self, k: int):
        """The SR fine-tunes (and task-driven ones) with training seed ``seed + k``."""
        sfx, seed = (f'_s{k}' if k else ''), self.seed + k
        data = self.spec.sr_data
        for variant, v in self.spec.sr_variants.items():
            if k and not v.get('seeded', True):
                continue
            deps = [self.start_stage(v, k)]
            deps += [data] if 'convert' in self.spec.sr_pretrain else []  # else through it
            deps += self.prior_deps(v['prior']) if v.get('prior') else []
            params = dict(config=v['config'], iters=self.sizes['ft_iters'],
                          opts=self.sr_options(data), variant=variant, seed=seed)
            if v.get('cfg_options'):
                params['cfg_options'] = list(v['cfg_options'])
            self.add(Stage(f'sr_{variant}{sfx}', deps=deps, fn=self.run_finetune, params=params,
                           outputs=[f'sr_{variant}{sfx}/last_checkpoint'],
                           reads=self.prior_reads(v['prior']) if v.get('prior') else []))
        for name, t in self.spec.task_finetunes.items():
            det_data = self.spec.detectors[t['detector']]['data']
            self.add(Stage(f'sr_{name}{sfx}',
                           deps=[SR_PRETRAIN, *self.detector_deps(t['detector']), det_data],
                           fn=self.run_task_finetune,
                           params=dict(config=t['config'], seed=seed, iters=self.sizes['ft_iters']),
                           outputs=[f'sr_{name}{sfx}/last_checkpoint'],
                           reads=self.detector_reads(t['detector'])))

    def start_stage(self, variant: dict, k: int) -> str:
        """The stage a fine-tune of seed index ``k`` starts from: ``start_from`` (default the
        pre-training), seed k's run of it when it is a seeded fine-tune."""
        start = variant.get('start_from', SR_PRETRAIN)
        base = self.spec.sr_variants.get(start[len('sr_'):]) if start.startswith('sr_') else None
        return f'{start}_s{k}' if k and base is not None and base.get('seeded', True) else start

    def _cascade_stages(self, k: int):
        """Seed 0: the paper's tables; seed k > 0: the seeded methods only, named ``<m>_s<k>``."""
        sfx = f'_s{k}' if k else ''
        fixed = ('hr', 'bicubic', self.spec.sr_pretrain['method'])
        for i, det in enumerate(self.evaluators):
            if k:
                methods = tuple(m + sfx for m in self.spec.seeded_methods(det))
            else:
                methods = self.spec.cascade_methods(det)
            deps = [self.spec.detectors[det]['data'], *self.detector_deps(det), SR_PRETRAIN]
            deps += [f'sr_{m}' for m in methods
                     if m not in fixed and m not in self.spec.sr_checkpoints]
            panels = self.sizes['panels'] if i == 0 and not k else 0
            self.add(Stage(f'cascade_{det}{sfx}', deps=deps, fn=self.run_cascade,
                           params=dict(det=det, methods=methods, panels=panels,
                                       detector_config=self.spec.det_configs[det]),
                           outputs=[f'cascade_{det}{sfx}/results.json'],
                           reads=functools.partial(self.cascade_reads, det, methods)))

    def cascade_reads(self, det: str, methods) -> list:
        """The given files a cascade reads: its detector's weights, the SR models trained
        elsewhere (a work dir's current last checkpoint: resolved when the run starts)."""
        return self.detector_reads(det) + [self.given_sr_checkpoint(m) for m in methods
                                           if m in self.spec.sr_checkpoints]

    # -- commands built once the dependencies exist ------------------------------------------------
    def run_finetune(self, stage: Stage):
        p = stage.params
        v = self.spec.sr_variants[p['variant']]
        start = self.start_stage(v, p['seed'] - self.seed)
        start = self.pretrain_checkpoint() if start == SR_PRETRAIN else self.checkpoint(start)
        extra = list(p['opts']) + [f'load_from={start}']
        prior = self.spec.priors.get(v.get('prior'), {})
        if v.get('prior') and 'checkpoint' not in prior:  # the prior architecture's config
            extra.append(f'model.feature_loss.detector_config={self.prior_config()}')
        if v.get('prior'):  # the weights of the prior
            extra.append(f'model.feature_loss.checkpoint={self.prior_checkpoint(v["prior"])}')
        extra += p.get('cfg_options', [])
        return self.train_cmd(p['config'], self.stage_dir(stage.name), p['iters'], extra,
                              p['seed'])

    def run_task_finetune(self, stage: Stage):
        """TDSR: from the pre-trained SR weights, through the trained detector's own loss."""
        name = re.sub(r'_s\d+$', '', stage.name[len('sr_'):])
        task = self.spec.task_finetunes[name]
        det = task['detector']
        root = self.data_dir(self.spec.detectors[det]['data'])
        data_opts = ([fill(t, dict(self.sizes, data=root)) for t in task['options']]
                     if 'options' in task else
                     [f'{lo}.dataset.det_dataset.data_root={root}/' for lo in LOADERS])
        extra = [f'load_from={self.pretrain_checkpoint()}',
                 f'model.task_loss.detector_config={self.spec.det_configs[det]}',
                 f'model.task_loss.checkpoint={self.detector_checkpoint(det)}', *data_opts]
        extra += list(self.spec.quick_sr_options) if self.quick else []
        return self.train_cmd(stage.params['config'], self.stage_dir(stage.name),
                              stage.params['iters'], extra, stage.params['seed'])

    def sr_spec(self, method: str) -> str:
        """``--methods`` entry: built-in, the pre-trained SR, a fine-tune (``_s<k>``: seed k)."""
        base = re.sub(r'_s\d+$', '', method)
        pre = self.spec.sr_pretrain
        if method == pre['method']:
            return f'{method}={pre["config"]}:{self.pretrain_checkpoint()}'
        if method in self.spec.sr_checkpoints:
            config = self.spec.sr_checkpoints[method]['config']
            return f'{method}={config}:{self.given_sr_checkpoint(method)}'
        for table in (self.spec.sr_variants, self.spec.task_finetunes):
            if base in table:
                return f'{method}={table[base]["config"]}:{self.checkpoint("sr_" + method)}'
        return method

    def run_cascade(self, stage: Stage):
        det, methods = stage.params['det'], stage.params['methods']
        data = self.spec.detectors[det]['data']
        cmd = [self.python, 'tools/cascade_eval.py', self.spec.det_configs[det],
               self.detector_checkpoint(det), '--methods', *map(self.sr_spec, methods),
               '--out-dir', self.stage_dir(stage.name),
               '--cache-dir', osp.join(self.out, 'sr_cache'),
               *(['--device', self.device] if self.device else []),
               '--cfg-options', *self.data_options(data, ['test_dataloader']),
               *self.spec.evaluators[det].get('cfg_options', [])]
        if stage.params['panels']:
            cmd += ['--show-dir', osp.join(self.stage_dir(stage.name), 'panels'),
                    '--show-num', str(stage.params['panels'])]
        return cmd + list(self.spec.cascade_options)

    def check_given_files(self) -> None:
        """Every dataset and weights file the spec names but no stage makes exists."""
        for key, path in self.spec.given_files():
            if not osp.exists(path):
                raise ToolError(f'{path} does not exist', f'{self.spec.path}: {key}',
                                f'put the file there, or point {key} at it (run_study.py '
                                f'--cfg-options {key}=PATH)')
        for method in self.spec.sr_checkpoints:  # a work dir: its last checkpoint, now
            self.given_sr_checkpoint(method)

    def run(self) -> int:
        self.check_given_files()
        self.log(f'{"quick" if self.quick else "full"} study in {self.out} '
                 f'({self.jobs} jobs at a time)')
        rc = super().run()
        if rc == 0:
            self.log(f'results in {self.stage_dir("report")}')
        return rc

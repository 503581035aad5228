"""A study spec (:class:`fdsr_mm.study.spec.StudySpec`) as a :class:`StageGraph` of the project's
public tools (``tools/train.py``, ``tools/cascade_eval.py``, the data generators) and the report.

Stages: the data (``<name>``: generated, prepared in place, or checked), the detectors trained
here (``det_<name>``), the SR pre-training or the conversion of the official weights
(``sr_pretrain``), the feature priors made here (``prior_<name>``), the SR fine-tunes,
task-driven and joint (SR4IR) fine-tunes (``sr_<name>``), the cascades (``cascade_<evaluator>``), with ``seeds``
> 1 the seeded fine-tunes and their cascades again (suffix ``_s<k>``), and ``report``. Insertion
order is start order: the priors and the SR pre-training first (the fine-tunes wait for them), seed
k's cascades before seed k+1's training.
"""
import functools
import os.path as osp
import re
from typing import Optional

from fdsr_mm.study.launchers import launcher_settings
from fdsr_mm.study.report_stage import ReportStage
from fdsr_mm.study.spec import BUILTIN_METHODS, SR_PRETRAIN, StudySpec
from fdsr_mm.study.stage_commands import StageCommands
from fdsr_mm.study.stage_graph import Stage, StageGraph
from fdsr_mm.study.stage_inputs import CONVERTED, StageInputs, fill
from fdsr_mm.utils.cli_errors import ToolError


class Study(StageGraph, StageInputs, StageCommands, ReportStage):
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

    def cascade_data(self, stage_name: str) -> str:
        """The data stage a ``cascade_<evaluator>[_s<k>]`` stage evaluates on."""
        det = re.sub(r'_s\d+$', '', stage_name[len('cascade_'):])
        return self.spec.detectors[det]['data']

    # -- the stages ------------------------------------------------------------------------------
    def build_stages(self):
        self._data_stages()
        self._model_stages()
        for k in range(self.seeds):  # seed k's cascades start before seed k+1's training
            self._sr_stages(k)
            self._cascade_stages(k)
        fig3_priors = [f'sr_{m}' for m, v in self.spec.sr_variants.items()
                       if m in self.fig3_methods() and v.get('prior')]
        # what the report judges and shows is part of its inputs: a changed claim reruns it
        judged = {k: self.spec.cfg.to_dict().get(k) for k in ('claims', 'report')}
        self.add(Stage('report', deps=[n for n in self.stages if n.startswith('cascade_')]
                       + fig3_priors, fn=self.report, outputs=['report/summary.md'],
                       in_process=True, params=dict(spec=judged,
                                                    resamples=self.sizes['resamples'])))

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
        """A detector trained from its config's weights, or from another detector's
        (``start_from``: the command names that checkpoint, so it is built when it starts)."""
        d, name = self.spec.detectors[det], f'det_{det}'
        config, iters = self.spec.det_configs[det], self.iters(d['iters'])
        start = d.get('start_from')
        if start is None:
            self.add(Stage(name, deps=[d['data']], cmd=self.train_cmd(
                config, self.stage_dir(name), iters, self.data_options(d['data'])),
                outputs=[f'{name}/last_checkpoint']))
            return
        self.add(Stage(name, deps=[d['data'], *self.detector_deps(start)], fn=self.run_detector,
                       params=dict(config=config, iters=iters, start_from=start,
                                   opts=self.data_options(d['data'])),
                       outputs=[f'{name}/last_checkpoint'], reads=self.detector_reads(start)))

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

    def _sr_stages(self, k: int):
        """The SR fine-tunes (task-driven and, for k = 0, joint ones) with training seed
        ``seed + k``."""
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
        tables = [(self.spec.task_finetunes, self.run_task_finetune)]
        if not k:  # joint fine-tunes (SR4IR) train once: their detector is an evaluator
            tables.append((self.spec.joint_finetunes, self.run_joint_finetune))
        for table, fn in tables:
            for name, t in table.items():
                det_data = self.spec.detectors[t['detector']]['data']
                self.add(Stage(f'sr_{name}{sfx}',
                               deps=[SR_PRETRAIN, *self.detector_deps(t['detector']), det_data],
                               fn=fn, params=dict(config=t['config'], seed=seed,
                                                  iters=self.sizes['ft_iters']),
                               outputs=[f'sr_{name}{sfx}/last_checkpoint'],
                               reads=self.detector_reads(t['detector'])))

    def _cascade_stages(self, k: int):
        """Seed 0: the paper's tables; seed k > 0: the seeded methods only, named ``<m>_s<k>``."""
        sfx = f'_s{k}' if k else ''
        fixed = (*BUILTIN_METHODS, self.spec.sr_pretrain['method'])
        for i, det in enumerate(self.evaluators):
            if k:
                methods = tuple(m + sfx for m in self.spec.seeded_methods(det))
            else:
                methods = self.spec.cascade_methods(det)
            deps = [self.spec.detectors[det]['data'], *self.detector_deps(det), SR_PRETRAIN]
            deps += [f'sr_{m}' for m in methods
                     if m not in fixed and m not in self.spec.sr_checkpoints]
            deps = list(dict.fromkeys(deps))  # the pair's detector and SR: one stage
            panels = self.sizes['panels'] if i == 0 and not k else 0
            self.add(Stage(f'cascade_{det}{sfx}', deps=deps, fn=self.run_cascade,
                           params=dict(det=det, methods=methods, panels=panels,
                                       detector_config=self.spec.det_configs[det]),
                           outputs=[f'cascade_{det}{sfx}/results.json'],
                           reads=functools.partial(self.cascade_reads, det, methods)))

    def run(self) -> int:
        self.check_given_files()
        self.log(f'{"quick" if self.quick else "full"} study in {self.out} '
                 f'({self.jobs} jobs at a time)')
        rc = super().run()
        if rc == 0:
            self.log(f'results in {self.stage_dir("report")}')
        return rc

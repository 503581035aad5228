"""A study spec: an mmengine Python config (``configs/study/miniature.py`` and its children) that
declares a study's data, models, evaluators, cascades, claims and report; :func:`load_spec` reads
and checks it, :class:`fdsr_mm.study.stages.Study` turns it into a stage graph.

Every fault of a spec is one line naming the spec file and the key (:class:`ToolError`): a missing
config file, a stage or method nobody defines, a claim on a method its evaluator does not run.
The keys (see the comments of ``configs/study/miniature.py`` and ``paper_coco.py``)::

    sizes            full=dict(...), quick=dict(...): images, iterations, panels, resamples
    data             name -> dict(tool, folder, args, outputs[, ann_file]): generated under the
                     study (stage <name>) | dict(root, outputs[, tool, args, ann_file]): a dataset
                     where it is (``tool`` prepares it in place; without one the stage checks
                     that ``outputs`` exist)
    detectors        name -> dict(config (a glob: one file), data, iters[, start_from]): trained
                     (stage det_<name>; start_from: another detector whose weights it starts
                     from, ``load_from``) | dict(config, data, checkpoint): given weights
    prior_architecture  the detector whose backbone the random-init and classifier priors fill
    priors           name -> dict(detector=...): that detector's backbone | dict(random_init=True)
                     | dict(config, data, iters): a classifier trained here (stage prior_<name>)
                     | dict(checkpoint=...): the SR config's own feature extractor, these weights
    sr_pretrain      dict(config, method, data, iters): trained (stage sr_pretrain)
                     | dict(config, method, convert=OFFICIAL_FILE): the official D-DBPN weights
                     converted by tools/convert_dbpn_official.py (stage sr_pretrain)
    sr_data          the SR fine-tunes' data stage (default: sr_pretrain's)
    sr_options, quick_sr_options   cfg-options of every SR training (``{loader}``, ``{data}``)
    cascade_options  extra arguments of every ``tools/cascade_eval.py`` stage
    device           the cascades' ``--device`` (absent: the tool's default, cuda when present)
    launcher         dict(type='none' | 'pytorch' | 'slurm', gpus, gpus_per_node, partition,
                     cpus_per_task): how the training stages start (``run_study.py --launcher``)
    sr_variants      name -> dict(config, alpha, beta, prior[, start_from, seeded, cfg_options])
    task_finetunes   name -> dict(config, detector[, options]): the pre-trained SR through a
                     detector's loss; ``options``: cfg-options templates (``{data}``) pointing
                     the config's datasets at the detector's data
    joint_finetunes  name -> dict(config, detector[, options]): the pre-trained SR and a copy of
                     the trained detector trained in turns (SR4IR; stage sr_<name>); the SR
                     method ``name``, and the detector ``name`` (that copy, its config and data
                     those of ``detector``): an evaluator like any other (the pair)
    sr_checkpoints   name -> dict(config, checkpoint): SR models trained outside this study (a
                     file, or a work dir whose ``last_checkpoint`` names one)
    evaluators       detector -> dict(methods, seeded[, table3, cfg_options]); the first also
                     runs every other SR variant and writes the Fig. 1 panels (stage cascade_<det>);
                     methods: SR methods and the built-ins hr, bicubic, lr_native (the LR image
                     itself through the detector); seeded: fine-tunes only
    claims           id -> dict(evaluator, a, b, metric, text, paper[, evaluator_b, relative_to]):
                     "b > a" on the evaluator's run (:mod:`fdsr_mm.study.spec_claims`;
                     relative_to: "b loses less than a" against that evaluator's run);
                     evaluator_b: b's run is that evaluator's (same data:
                     the images are paired by id), e.g. FDSR through the plain detector against
                     bicubic through one adapted to LR images
    report           dict(fig3_methods, other_priors[, title, description, table_methods,
                     transfer]); transfer: dict(rows=dict(method=(objective, trained_with)),
                     evaluators=[...]): the transfer matrix (:mod:`fdsr_mm.study.transfer`)

Keys starting with ``_`` are the spec's own helper variables.
"""
import glob
import os.path as osp
from typing import List, Optional

from mmengine.config import Config

from fdsr_mm.study.spec_claims import ClaimChecks
from fdsr_mm.utils.cli_errors import ToolError

DEFAULT_SPEC = 'configs/study/miniature.py'
REQUIRED = ('sizes', 'data', 'detectors', 'sr_pretrain', 'evaluators', 'claims', 'report')
OPTIONAL = ('prior_architecture', 'priors', 'sr_data', 'sr_variants', 'sr_options',
            'quick_sr_options',
            'task_finetunes', 'joint_finetunes', 'sr_checkpoints', 'cascade_options', 'device',
            'launcher')
LAUNCHERS = ('none', 'pytorch', 'slurm')
#: methods of the cascade tool itself (``lr_native``: the detector on the LR image as it is)
BUILTIN_METHODS = ('hr', 'bicubic', 'lr_native')
#: table key -> the fields each of its entries needs; ENTRY_FIELDS: keys that are one entry.
FIELDS = {'data': ('outputs', ), 'detectors': ('config', 'data'),
          'sr_variants': ('config', 'alpha', 'beta'), 'task_finetunes': ('config', 'detector'),
          'joint_finetunes': ('config', 'detector'),
          'sr_checkpoints': ('config', 'checkpoint'), 'evaluators': ('methods', ),
          'claims': ('evaluator', 'a', 'b')}
ENTRY_FIELDS = {'sr_pretrain': ('config', 'method')}
#: table key -> (alternatives: one of these field sets completes an entry)
ONE_OF = {'data': (('tool', 'folder', 'args'), ('root', )),
          'detectors': (('iters', ), ('checkpoint', )),
          'sr_pretrain': (('data', 'iters'), ('convert', ))}
SR_PRETRAIN = 'sr_pretrain'


class SpecError(ToolError):
    """A fault of the spec file ``path`` at ``key``."""

    def __init__(self, path: str, key: str, what: str, fix: str = None):
        super().__init__(what, f'{path}: {key}', fix)


class StudySpec(ClaimChecks):
    """A checked spec: the config, the files its globs name, the methods of each cascade.

    Args:
        path: The spec file.
        repo_root: The folder configs (and relative dataset and checkpoint paths) are
            relative to.
        overrides: ``key=value`` settings merged into the spec (``run_study.py --cfg-options``,
            as mmengine's ``--cfg-options``: ``data.coco.root=/data/coco``).
    """

    def __init__(self, path: str, repo_root: str, overrides: Optional[dict] = None):
        self.path, self.root = path, repo_root
        self.cfg = _load(path)
        if overrides:
            self.cfg.merge_from_dict(overrides)
        self.check()

    def __getattr__(self, key):
        if key in ('cfg', 'path', 'root'):
            raise AttributeError(key)
        if key in ('device', 'prior_architecture'):
            return self.cfg.get(key)
        if key == 'sr_data':  # the SR fine-tunes' data: the pre-training's unless given
            return self.cfg.get(key, self.sr_pretrain.get('data'))
        return self.cfg.get(key, [] if key.endswith('options') else {})

    def path_of(self, path: str) -> str:
        """A dataset or weights path of the spec: absolute, or relative to the repository."""
        return path if osp.isabs(path) else osp.normpath(osp.join(self.root, path))

    def trained(self, det: str) -> bool:
        """Whether detector ``det`` has its own training stage (else its checkpoint is given, or
        it is a joint fine-tune's detector)."""
        return not {'checkpoint', 'joint'} & set(self.detectors[det])

    def fail(self, key: str, what: str, fix: str = None):
        raise SpecError(self.path, key, what, fix)

    def find_config(self, key: str, pattern: str) -> str:
        """The one config matching ``pattern`` (relative to the repository)."""
        hits = sorted(glob.glob(osp.join(self.root, pattern)))
        if len(hits) != 1:
            self.fail(key, f'expected one config file matching {pattern}, found {len(hits)}',
                      'name one existing file (a glob may match only one)')
        return osp.relpath(hits[0], self.root)

    # -- what the spec defines -------------------------------------------------------------------
    def stage_names(self) -> List[str]:
        return [*self.data, *(f'det_{d}' for d in self.detectors if self.trained(d)), SR_PRETRAIN,
                *(f'prior_{p}' for p, v in self.priors.items() if self.prior_has_stage(v)),
                *(f'sr_{v}' for v in (*self.sr_variants, *self.task_finetunes,
                                      *self.joint_finetunes))]

    @staticmethod
    def prior_has_stage(prior: dict) -> bool:
        """Random-init and classifier priors are made by a stage; the others exist already."""
        return 'detector' not in prior and 'checkpoint' not in prior

    def methods(self) -> List[str]:
        return [*BUILTIN_METHODS, self.sr_pretrain['method'], *self.sr_variants,
                *self.task_finetunes, *self.joint_finetunes, *self.sr_checkpoints]

    def given_files(self) -> List[tuple]:
        """(spec key, path) of every file or folder the study reads but does not make: datasets
        (their root), detector and prior weights, the official SR weights, SR models trained
        elsewhere. :meth:`fdsr_mm.study.stages.Study.run` checks them before any stage starts."""
        out = [(f'data.{n}.root', d['root']) for n, d in self.data.items() if 'root' in d]
        out += [(f'detectors.{n}.checkpoint', d['checkpoint'])
                for n, d in self.detectors.items() if 'checkpoint' in d]
        out += [(f'priors.{n}.checkpoint', p['checkpoint'])
                for n, p in self.priors.items() if 'checkpoint' in p]
        if 'convert' in self.sr_pretrain:
            out.append(('sr_pretrain.convert', self.sr_pretrain['convert']))
        out += [(f'sr_checkpoints.{n}.checkpoint', c['checkpoint'])
                for n, c in self.sr_checkpoints.items()]
        return [(key, self.path_of(path)) for key, path in out]

    def cascade_methods(self, det: str) -> tuple:
        """The first evaluator runs every SR variant (the Fig. 3 points) besides its methods."""
        methods = tuple(self.evaluators[det]['methods'])
        if det == next(iter(self.evaluators)):
            methods += tuple(m for m in self.sr_variants if m not in methods)
        return methods

    def seeded_methods(self, det: str) -> tuple:
        seeded = self.evaluators[det].get('seeded', ())
        if seeded == 'variants':
            return tuple(v for v, s in self.sr_variants.items() if s.get('seeded', True))
        return tuple(seeded)

    def seeded_finetunes(self) -> List[str]:
        return [v for v, s in self.sr_variants.items() if s.get('seeded', True)]

    # -- checks ----------------------------------------------------------------------------------
    def check(self) -> None:
        for key in REQUIRED:
            if key not in self.cfg:
                self.fail(key, 'missing', 'every study spec declares it (or inherits it)')
        for key in self.cfg:
            if not key.startswith('_') and key not in REQUIRED + OPTIONAL:
                self.fail(key, 'unknown key', f'the keys are {", ".join(REQUIRED + OPTIONAL)}')
        for mode in ('full', 'quick'):
            if mode not in self.sizes:
                self.fail('sizes', f'no {mode} sizes')
        self._check_fields()
        self._add_joint_detectors()
        self.det_configs = {d: self.find_config(f'detectors.{d}.config', v['config'])
                            for d, v in self.detectors.items()}
        for d, v in self.detectors.items():
            self._need(f'detectors.{d}.data', v.get('data'), self.data, 'data stage')
            self._size(f'detectors.{d}.iters', v.get('iters'))
        self._check_detector_starts()
        if self.launcher:
            self._need('launcher.type', self.launcher.get('type'), LAUNCHERS, 'launcher')
        self._check_priors()
        self._check_sr()
        self._check_evaluators()
        self._check_claims()

    def _check_fields(self) -> None:
        entries = [(f'{key}.{name}', entry, fields) for key, fields in FIELDS.items()
                   for name, entry in self.cfg.get(key, {}).items()]
        entries += [(key, self.cfg[key], fields) for key, fields in ENTRY_FIELDS.items()]
        for where, entry, fields in entries:
            if not isinstance(entry, dict):
                self.fail(where, f'expected a dict, got {type(entry).__name__}')
            for field in fields:
                if field not in entry:
                    self.fail(where, f'no {field}', f'give {", ".join(fields)}')
        for key, sets in ONE_OF.items():
            named = {key: self.cfg[key]} if key in ENTRY_FIELDS else self.cfg.get(key, {})
            for name, entry in named.items():
                where = key if key in ENTRY_FIELDS else f'{key}.{name}'
                if not any(all(f in entry for f in fields) for fields in sets):
                    self.fail(where, 'incomplete entry', 'give ' + ' or '.join(
                        ', '.join(fields) for fields in sets))

    def _need(self, key: str, value, known, what: str) -> None:
        if value not in known:
            self.fail(key, f'unknown {what} {value!r}', f'one of: {", ".join(map(str, known))}')

    def _size(self, key: str, value) -> None:
        for mode in ('full', 'quick'):
            if value is not None and value not in self.sizes[mode]:
                self.fail(key, f'{value!r} is not in sizes.{mode}')

    def _check_detector_starts(self) -> None:
        """``start_from``: another detector (trained here or given), no cycle; only a detector
        trained here starts from one."""
        for d, v in self.detectors.items():
            if 'start_from' not in v:
                continue
            key = f'detectors.{d}.start_from'
            if not self.trained(d):
                self.fail(key, 'a detector with given weights (checkpoint) is not trained here',
                          'give iters instead of checkpoint, or drop start_from')
            if v['start_from'] == d:
                self.fail(key, f'detector {d!r} starts from itself', 'name another detector')
            self._need(key, v['start_from'], self.detectors, 'detector')
            chain = [d, v['start_from']]
            while self.detectors[chain[-1]].get('start_from') is not None:
                chain.append(self.detectors[chain[-1]]['start_from'])
                if chain[-1] in chain[:-1]:
                    self.fail(key, 'start_from cycle ' + ' -> '.join(chain),
                              "let one of them start from its config's own weights")

    def _add_joint_detectors(self) -> None:
        """Each joint fine-tune's own detector, under the fine-tune's name (``joint=name``)."""
        for name, j in self.joint_finetunes.items():
            key = f'joint_finetunes.{name}'
            if name in self.detectors:
                self.fail(key, f'{name!r} is also a detector',
                          'give the joint fine-tune its own name: it names its detector too')
            self._need(f'{key}.detector', j['detector'], self.detectors, 'detector')
            base = self.detectors[j['detector']]
            if 'joint' in base:
                self.fail(f'{key}.detector', f'{j["detector"]!r} is a joint fine-tune\'s detector',
                          'start from a detector trained or given in `detectors`')
            self.cfg.detectors[name] = dict(config=base['config'], data=base['data'], joint=name)

    def _check_priors(self) -> None:
        self.prior_configs = {}
        if any('config' in v or v.get('random_init') for v in self.priors.values()):
            self._need('prior_architecture', self.prior_architecture, self.detectors, 'detector')
        for p, v in self.priors.items():
            if 'checkpoint' in v:
                continue
            if 'detector' in v:
                self._need(f'priors.{p}.detector', v['detector'], self.detectors, 'detector')
            elif 'config' in v:
                self.prior_configs[p] = self.find_config(f'priors.{p}.config', v['config'])
                self._need(f'priors.{p}.data', v.get('data'), self.data, 'data stage')
                self._size(f'priors.{p}.iters', v.get('iters'))
            elif not v.get('random_init'):
                self.fail(f'priors.{p}', 'a prior is a detector=, a random_init=True, a '
                          'classifier config= or a checkpoint=')

    def _check_sr(self) -> None:
        """The SR entries; each config glob is replaced by the one file it matches."""
        pre = self.sr_pretrain
        pre['config'] = self.find_config('sr_pretrain.config', pre['config'])
        if 'convert' not in pre:
            self._need('sr_pretrain.data', pre.get('data'), self.data, 'data stage')
        stages = self.stage_names()
        if self.sr_variants:
            self._need('sr_data', self.sr_data, self.data, 'data stage')
        for v, s in self.sr_variants.items():
            s['config'] = self.find_config(f'sr_variants.{v}.config', s['config'])
            if s.get('prior') is not None:
                self._need(f'sr_variants.{v}.prior', s['prior'], self.priors, 'prior')
            self._need(f'sr_variants.{v}.start_from', s.get('start_from', SR_PRETRAIN), stages,
                       'stage')
        for t, s in self.task_finetunes.items():
            s['config'] = self.find_config(f'task_finetunes.{t}.config', s['config'])
            self._need(f'task_finetunes.{t}.detector', s.get('detector'), self.detectors,
                       'detector')
        for j, s in self.joint_finetunes.items():
            s['config'] = self.find_config(f'joint_finetunes.{j}.config', s['config'])
        for m, s in self.sr_checkpoints.items():
            s['config'] = self.find_config(f'sr_checkpoints.{m}.config', s['config'])
        self._check_unique_methods()

    def _check_unique_methods(self) -> None:
        """One SR method per name: a name in two tables would silently score one of them."""
        where = {'built-in': BUILTIN_METHODS, 'sr_pretrain.method': [self.sr_pretrain['method']],
                 'sr_variants': self.sr_variants, 'task_finetunes': self.task_finetunes,
                 'joint_finetunes': self.joint_finetunes, 'sr_checkpoints': self.sr_checkpoints}
        for m in self.methods():
            keys = [k for k, names in where.items() if m in names]
            if len(keys) > 1:
                self.fail(f'{keys[-1]}.{m}', f'the method name {m!r} is also in {keys[0]}',
                          'give each SR method its own name')

    def _check_evaluators(self) -> None:
        if not self.evaluators:
            self.fail('evaluators', 'no evaluator', 'name at least one trained detector')
        methods = self.methods()
        for det, e in self.evaluators.items():
            self._need(f'evaluators.{det}', det, self.detectors, 'detector')
            for m in self.cascade_methods(det):
                self._need(f'evaluators.{det}.methods', m, methods, 'method')
            for m in self.seeded_methods(det):  # trained here with each seed: fine-tunes only
                self._need(f'evaluators.{det}.seeded', m,
                           [*self.sr_variants, *self.task_finetunes], 'fine-tune')
        for m in self.report.get('fig3_methods', []) + list(self.report.get('other_priors', {})):
            self._need('report', m, self.sr_variants, 'SR variant')
        self._check_transfer(self.report.get('transfer'))


def _load(path: str) -> Config:
    if not osp.isfile(path):
        raise ToolError('no such study spec', path, 'pass a file such as configs/study/'
                        'miniature.py')
    try:
        return Config.fromfile(path)
    except Exception as err:  # noqa: BLE001 - a spec that does not load is the user's to fix
        raise ToolError(f'the study spec does not load: {type(err).__name__}: {err}', path,
                        'fix the file') from None

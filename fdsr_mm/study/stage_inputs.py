"""Where a :class:`fdsr_mm.study.stages.Study`'s stages find their inputs: data folders, the
checkpoints of other stages (or the given files), the cfg-options pointing a config at its data,
and the files from outside the study each stage reads. Mixed into ``Study`` (uses its ``spec``,
``out``, ``sizes``, ``quick``, ``seed``, ``dry_run`` and ``stage_dir``)."""
import os.path as osp
import string
from typing import Optional

from fdsr_mm.study.spec import SR_PRETRAIN
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


class StageInputs:
    """Paths, checkpoints, options and reads of the study's stages."""

    def data_dir(self, data: str) -> str:
        d = self.spec.data[data]
        return self.spec.path_of(d['root']) if 'root' in d else osp.join(self.out, d['folder'])

    def detector_checkpoint(self, det: str) -> str:
        """A detector's weights: the given file, the last checkpoint of its training stage, or
        for a joint fine-tune's detector that of the fine-tune (its ``detector.*`` part)."""
        d = self.spec.detectors[det]
        if 'joint' in d:
            return self.checkpoint(f'sr_{d["joint"]}')
        return self.spec.path_of(d['checkpoint']) if 'checkpoint' in d else \
            self.checkpoint(f'det_{det}')

    def detector_deps(self, det: str) -> list:
        d = self.spec.detectors[det]
        if 'joint' in d:
            return [f'sr_{d["joint"]}']
        return [f'det_{det}'] if self.spec.trained(det) else []

    def detector_reads(self, det: str) -> list:
        """The given weights file of a detector no stage of the study makes (its stage reads
        it)."""
        d = self.spec.detectors[det]
        return [] if self.spec.trained(det) or 'joint' in d else [self.detector_checkpoint(det)]

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

    def iters(self, key):
        return None if key is None else self.sizes[key]

    def prior_config(self, prior: Optional[str] = None) -> str:
        """The config of a prior's network: its own detector's (``detector=`` priors), else the
        ``prior_architecture`` whose backbone random-init and classifier weights fill."""
        det = self.spec.priors.get(prior, {}).get('detector', self.spec.prior_architecture)
        return self.spec.det_configs[det]

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

    def start_stage(self, variant: dict, k: int) -> str:
        """The stage a fine-tune of seed index ``k`` starts from: ``start_from`` (default the
        pre-training), seed k's run of it when it is a seeded fine-tune."""
        start = variant.get('start_from', SR_PRETRAIN)
        base = self.spec.sr_variants.get(start[len('sr_'):]) if start.startswith('sr_') else None
        return f'{start}_s{k}' if k and base is not None and base.get('seeded', True) else start

    def cascade_reads(self, det: str, methods) -> list:
        """The given files a cascade reads: its detector's weights, the SR models trained
        elsewhere (a work dir's current last checkpoint: resolved when the run starts)."""
        return self.detector_reads(det) + [self.given_sr_checkpoint(m) for m in methods
                                           if m in self.spec.sr_checkpoints]

    def check_given_files(self) -> None:
        """Every dataset and weights file the spec names but no stage makes exists."""
        for key, path in self.spec.given_files():
            if not osp.exists(path):
                raise ToolError(f'{path} does not exist', f'{self.spec.path}: {key}',
                                f'put the file there, or point {key} at it (run_study.py '
                                f'--cfg-options {key}=PATH)')
        for method in self.spec.sr_checkpoints:  # a work dir: its last checkpoint, now
            self.given_sr_checkpoint(method)

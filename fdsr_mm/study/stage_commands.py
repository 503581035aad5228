"""The commands of a :class:`fdsr_mm.study.stages.Study`'s stages that are built when the stage
starts (``Stage.fn``): the checkpoints they name exist only once their dependencies have run.
Mixed into ``Study`` (uses :class:`fdsr_mm.study.stage_inputs.StageInputs` and its settings)."""
import os.path as osp
import re

from fdsr_mm.study.launchers import train_command
from fdsr_mm.study.spec import BUILTIN_METHODS, SR_PRETRAIN
from fdsr_mm.study.stage_graph import Stage
from fdsr_mm.study.stage_inputs import LOADERS, fill


class StageCommands:
    """``tools/train.py`` and ``tools/cascade_eval.py`` commands of the study's stages."""


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


    def run_detector(self, stage: Stage):
        """A detector that starts from another detector's weights (``start_from``)."""
        p = stage.params
        extra = [*p['opts'], f'load_from={self.detector_checkpoint(p["start_from"])}']
        return self.train_cmd(p['config'], self.stage_dir(stage.name), p['iters'], extra)

    def run_finetune(self, stage: Stage):
        p = stage.params
        v = self.spec.sr_variants[p['variant']]
        start = self.start_stage(v, p['seed'] - self.seed)
        start = self.pretrain_checkpoint() if start == SR_PRETRAIN else self.checkpoint(start)
        extra = list(p['opts']) + [f'load_from={start}']
        prior = self.spec.priors.get(v.get('prior'), {})
        if v.get('prior') and 'checkpoint' not in prior:  # its detector's or architecture's
            extra.append(f'model.feature_loss.detector_config={self.prior_config(v["prior"])}')
        if v.get('prior'):  # the weights of the prior
            extra.append(f'model.feature_loss.checkpoint={self.prior_checkpoint(v["prior"])}')
        extra += p.get('cfg_options', [])
        return self.train_cmd(p['config'], self.stage_dir(stage.name), p['iters'], extra,
                              p['seed'])

    def run_task_finetune(self, stage: Stage):
        """TDSR: from the pre-trained SR weights, through the trained detector's own loss."""
        return self._through_detector(stage, self.spec.task_finetunes, 'model.task_loss')

    def run_joint_finetune(self, stage: Stage):
        """SR4IR: the pre-trained SR weights and a trained detector, trained in turns (the
        generator load is partial by design: the detector comes from ``model.detector``)."""
        return self._through_detector(stage, self.spec.joint_finetunes, 'model.detector')

    def _through_detector(self, stage: Stage, table: dict, key: str):
        """The command of a fine-tune through a study detector: ``key.config`` / ``key.
        checkpoint`` name the detector, the datasets point at its data."""
        name = re.sub(r'_s\d+$', '', stage.name[len('sr_'):])
        task = table[name]
        det = task['detector']
        root = self.data_dir(self.spec.detectors[det]['data'])
        data_opts = ([fill(t, dict(self.sizes, data=root)) for t in task['options']]
                     if 'options' in task else
                     [f'{lo}.dataset.det_dataset.data_root={root}/' for lo in LOADERS])
        cfg_key = 'config' if key == 'model.detector' else 'detector_config'
        extra = [f'load_from={self.pretrain_checkpoint()}',
                 f'{key}.{cfg_key}={self.spec.det_configs[det]}',
                 f'{key}.checkpoint={self.detector_checkpoint(det)}', *data_opts]
        extra += list(self.spec.quick_sr_options) if self.quick else []
        return self.train_cmd(stage.params['config'], self.stage_dir(stage.name),
                              stage.params['iters'], extra, stage.params['seed'])

    def sr_spec(self, method: str) -> str:
        """``--methods`` entry: built-in, the pre-trained SR, a fine-tune (``_s<k>``: seed k)."""
        if method in BUILTIN_METHODS:  # hr, bicubic, lr_native: the cascade tool's own
            return method
        base = re.sub(r'_s\d+$', '', method)
        pre = self.spec.sr_pretrain
        if method == pre['method']:
            return f'{method}={pre["config"]}:{self.pretrain_checkpoint()}'
        if method in self.spec.sr_checkpoints:
            config = self.spec.sr_checkpoints[method]['config']
            return f'{method}={config}:{self.given_sr_checkpoint(method)}'
        for table in (self.spec.sr_variants, self.spec.task_finetunes, self.spec.joint_finetunes):
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

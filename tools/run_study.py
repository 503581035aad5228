"""The miniature FDSR study: the whole method, end to end, on generated data and a CPU.

Stages (each a folder under ``--out-dir``; only the project's public tools and configs are used):

    data              tools/make_synthetic_coco.py: COCO-format detection data (HR train/val)
    det_<name>        tools/train.py on configs/study/detectors/*: Faster R-CNN FPN, RetinaNet FPN,
                      Cascade R-CNN FPN (the evaluators) and a C4 Faster R-CNN (the feature prior)
    sr_pretrain       tools/train.py: a small DBPN trained pixel-only (stands in for D-DBPN; also
                      evaluated as it is: the "dbpn_pretrained" column, the paper's official row)
    prior_random      tools/init_detector_checkpoint.py: the C4 backbone, random init (a prior type)
    prior_classifier  tools/train.py on configs/study/classifiers/*: the C4 backbone trained to
                      classify object crops (the miniature's ImageNet classifier prior)
    sr_<variant>      tools/train.py from the same pre-trained weights, same schedule: pixel-only
                      ("dbpn", the fair control), FDSR (alpha 0.5, beta 1, C4 detector prior), the
                      Fig. 3 points (other alpha/beta; the random and classifier priors)
    cascade_<det>     tools/cascade_eval.py: HR, bicubic, DBPN pre-trained, DBPN, FDSR (+ Fig. 3
                      points on the first detector) through each evaluator; SR images cached once
    data_voc, det_ssd Table 3: tools/make_synthetic_voc.py (VOC-format data whose generator
                      settings differ from the COCO-format set), a small SSD trained on it
    sr_tdsr           TDSR: the pre-trained DBPN fine-tuned through the frozen SSD's own loss on
                      the VOC trainval boxes (same start and schedule as the other fine-tunes)
    cascade_ssd       Table 3: HR, bicubic, DBPN pre-trained, DBPN, TDSR and the COCO-trained FDSR
                      (no fine-tune) through the SSD on the VOC test split
    *_s<k>            with --seeds N: the SR fine-tunes and TDSR again with training seed seed+k,
                      and cascades of those methods only
    report            Tables 1-3 with paired bootstrap 95% CIs of every stated difference
                      (differences.md, verdicts.json), Fig. 3 with the prior types, Fig. 1 panels,
                      summary.md (verdicts, seeds' mean +- std, loss-term scales), timings.json

Every training stage gets an explicit ``randomness.seed`` (``--seed``; fine-tunes seed+k).
Resumable: a stage whose ``stage.json`` records the same inputs (settings + the fingerprints of
the stages it depends on) and whose outputs exist is skipped; deleting a stage folder recomputes it
and everything downstream of it, nothing else. Stages run as subprocesses, ``--jobs`` at a time
(two 1-thread jobs use a 2-core machine best).

    python tools/run_study.py                  # the full study (<= 40 min on 2 CPU cores)
    python tools/run_study.py --seeds 3        # + SR fine-tunes with 3 training seeds
    python tools/run_study.py --quick          # every stage, tiny sizes (CI, <= 3 min)

One run per study folder: a second run on the same --out-dir is refused with one line while the
first (or a stage it started) is alive; stage processes end with the run, even after kill -9 of
run_study (Linux). A fault the user can fix is one line, ``run_study: error: ...``, exit code 2.
"""
import argparse
import glob
import re
import os.path as osp
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from quiet_imports import quiet_third_party_warnings  # noqa: E402  (stdlib only)

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from fdsr_mm.utils.cli_errors import run_tool  # noqa: E402
from fdsr_mm.study.stage_graph import Stage, StageGraph  # noqa: E402

DET_DIR = 'configs/study/detectors'
SR_DIR = 'configs/study/sr'
# name -> config file pattern in configs/study/detectors/ (exactly one file each); the first three
# are the evaluators (Table 2 rows; the first is Table 1's and Fig. 3's), the last is the prior.
DETECTOR_PATTERNS = {
    'faster_rcnn': 'faster-rcnn_*-fpn_*.py',
    'retinanet': 'retinanet_*-fpn_*.py',
    'cascade_rcnn': 'cascade-rcnn_*-fpn_*.py',
    'c4_prior': 'faster-rcnn_*-c4_*.py',
    'ssd': 'ssd*_synthetic-voc.py',
}
EVALUATORS = ('faster_rcnn', 'retinanet', 'cascade_rcnn')
PRIOR = 'c4_prior'
SR_PRETRAIN = f'{SR_DIR}/dbpn-small_x4_pixel_1xb8-600i_synthetic-coco.py'
CLASSIFIER = 'configs/study/classifiers/r18-c16-c4_crop-cls_1xb32-*i_synthetic-coco.py'
# Feature priors of the same architecture (the C4 detector's backbone): stage -> how it is made.
PRIOR_STAGES = {'c4': f'det_{PRIOR}', 'random': 'prior_random', 'classifier': 'prior_classifier'}
# variant -> (config, alpha, beta, prior); 'dbpn' and 'fdsr' are the Table 1/2 columns.
SR_VARIANTS = {
    'dbpn': (f'{SR_DIR}/dbpn-small_x4_a0.5b0_1xb8-300i_synthetic-coco-ft.py', 0.5, 0., None),
    'fdsr': (f'{SR_DIR}/fdsr_dbpn-small_x4_c4prior-a0.5b1_1xb8-300i_synthetic-coco-ft.py',
             0.5, 1., 'c4'),
    'fdsr_a0b1': (f'{SR_DIR}/fdsr_dbpn-small_x4_c4prior-a0b1_1xb8-300i_synthetic-coco-ft.py',
                  0., 1., 'c4'),
    'fdsr_a1b1': (f'{SR_DIR}/fdsr_dbpn-small_x4_c4prior-a1b1_1xb8-300i_synthetic-coco-ft.py',
                  1., 1., 'c4'),
    'fdsr_randprior': (f'{SR_DIR}/fdsr_dbpn-small_x4_randprior-a0.5b1_1xb8-300i_synthetic-coco-ft'
                       '.py', 0.5, 1., 'random'),
    'fdsr_clsprior': (f'{SR_DIR}/fdsr_dbpn-small_x4_clsprior-a0.5b1_1xb8-300i_synthetic-coco-ft'
                      '.py', 0.5, 1., 'classifier'),
}
# The paper's official D-DBPN row: the pre-trained weights, no fine-tune ('dbpn' is the control).
TABLE_METHODS = ('hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'fdsr')
# Table 3 (VOC-format data, SSD): TDSR fine-tuned through the SSD; DBPN and FDSR as trained on the
# COCO-format data (FDSR "without fine-tune", as in the paper).
VOC_DETECTOR = 'ssd'
TDSR_CONFIG = f'{SR_DIR}/tdsr_dbpn-small_x4_ssd-a1g0.1_1xb4-300i_synthetic-voc-ft.py'
TABLE3_METHODS = ('hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'tdsr', 'fdsr')
FIG3_METHODS = ('dbpn', 'fdsr_a0b1', 'fdsr', 'fdsr_a1b1')
OTHER_PRIORS = {'fdsr_randprior': 'random-init backbone',
                'fdsr_clsprior': 'crop-classifier backbone'}
# What seeds repeat: the SR fine-tunes (and TDSR), evaluated by these cascades on these methods.
SEEDED_METHODS = {'faster_rcnn': tuple(SR_VARIANTS), 'retinanet': ('dbpn', 'fdsr'),
                  'cascade_rcnn': ('dbpn', 'fdsr'), VOC_DETECTOR: ('dbpn', 'tdsr', 'fdsr')}

# *_iters None: the config's own schedule. The prior only has to be a trained detector backbone.
FULL = dict(train_images=1000, val_images=200, image_size=256, det_iters=None, prior_iters=None,
            sr_iters=None, ft_iters=None, panels=6, voc_trainval=None, voc_test=None,
            ssd_iters=None)
QUICK = dict(train_images=48, val_images=8, image_size=128, det_iters=150, prior_iters=20,
             sr_iters=2, ft_iters=2, panels=2, voc_trainval=32, voc_test=8, ssd_iters=100,
             cls_iters=5, resamples=200)
FULL.update(cls_iters=None, resamples=1000)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('--out-dir', default=None,
                   help='study folder (default: work_dirs/study, or work_dirs/study_quick)')
    p.add_argument('--quick', action='store_true', help='tiny sizes: proves every stage connects')
    p.add_argument('--jobs', type=int, default=2, help='stages run at the same time (default 2)')
    p.add_argument('--seed', type=int, default=0,
                   help='data seed, and the training seed of every stage (default 0)')
    p.add_argument('--seeds', type=int, default=1,
                   help='repeat the SR fine-tunes (and TDSR) with training seeds seed, seed+1, '
                        '...; the report adds mean +- std across seeds (default 1)')
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error(f'--seeds must be >= 1, got {args.seeds}')
    return args


# ------------------------------------------------------------------------------------------------
def find_one(pattern: str, what: str = '') -> str:
    """The one config matching ``pattern`` (relative to the repository)."""
    hits = sorted(glob.glob(osp.join(REPO_ROOT, pattern)))
    if len(hits) != 1:
        raise FileNotFoundError(f'expected one {pattern}{what}, found {len(hits)}: {hits}')
    return osp.relpath(hits[0], REPO_ROOT)


def find_detector_configs() -> dict:
    """name -> config path (relative to the repository) of the study's detectors."""
    return {name: find_one(f'{DET_DIR}/{pattern}', f' for the {name} detector')
            for name, pattern in DETECTOR_PATTERNS.items()}


class Study(StageGraph):
    """The study's stages (see the module docstring) on a :class:`StageGraph`."""

    def __init__(self, args):
        self.args = args
        self.sizes = QUICK if args.quick else FULL
        default = 'work_dirs/study_quick' if args.quick else 'work_dirs/study'
        # one cascade at a time: the next one reuses the SR images the first one cached
        super().__init__(osp.abspath(args.out_dir or osp.join(REPO_ROOT, default)), args.jobs,
                         REPO_ROOT, exclusive_prefix='cascade_')
        self.data = osp.join(self.out, 'data', 'synthetic_coco')
        self.voc_data = osp.join(self.out, 'data', 'synthetic_voc')
        self.python = sys.executable
        self.detectors = find_detector_configs()
        self.classifier = find_one(CLASSIFIER)
        self.build_stages()

    def checkpoint(self, name: str) -> str:
        """The last checkpoint of a training stage (mmengine writes its path to last_checkpoint)."""
        with open(osp.join(self.stage_dir(name), 'last_checkpoint')) as f:
            return f.read().strip()

    # -- the stages ------------------------------------------------------------------------------
    def data_options(self, loaders, det=True):
        opts = []
        for loader in loaders:
            opts.append(f'{loader}.dataset.data_root={self.data}/')
        if det:
            ann = f'{self.data}/annotations/instances_val.json'
            opts += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
        return opts

    def train_cmd(self, config, work_dir, iters, extra=(), seed=None):
        seed = self.args.seed if seed is None else seed
        cmd = [self.python, 'tools/train.py', config, '--work-dir', work_dir, '--cfg-options',
               f'randomness.seed={seed}']
        if iters is not None:
            cmd += [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
                    f'default_hooks.checkpoint.interval={iters}']
            if self.args.quick:
                cmd += ['default_hooks.logger.interval=1']
        return cmd + list(extra)

    def build_stages(self):
        self._data_stages()
        self._model_stages()
        for k in range(self.args.seeds):  # seed k's cascades start before seed k+1's training
            self._sr_stages(k)
            self._cascade_stages(k)
        self.add(Stage('report', deps=[n for n in self.stages if n.startswith('cascade_')]
                       + ['sr_fdsr', 'sr_fdsr_a0b1', 'sr_fdsr_a1b1'],
                       fn=self.report, outputs=['report/summary.md'], in_process=True))

    def _data_stages(self):
        s = self.sizes
        self.add(Stage('data', cmd=[self.python, 'tools/make_synthetic_coco.py', self.data,
                                    '--train', str(s['train_images']), '--val',
                                    str(s['val_images']), '--size', str(s['image_size']),
                                    '--seed', str(self.args.seed)],
                       params=dict(s, seed=self.args.seed),
                       outputs=[f'{self.data}/annotations/instances_train.json',
                                f'{self.data}/annotations/instances_val.json']))
        voc_sizes = [f'--{k}={s["voc_" + k]}' for k in ('trainval', 'test') if s['voc_' + k]]
        self.add(Stage('data_voc', cmd=[self.python, 'tools/make_synthetic_voc.py', self.voc_data,
                                        *voc_sizes, '--seed', str(self.args.seed)],
                       params=dict(s, seed=self.args.seed),
                       outputs=[f'{self.voc_data}/VOC2007/ImageSets/Main/test.txt']))

    def _model_stages(self):
        """Detectors, the SR pre-training and the feature priors. Insertion order is start order:
        the priors and the SR pre-training first (the fine-tunes wait for them)."""
        s, loaders = self.sizes, ('train_dataloader', 'val_dataloader', 'test_dataloader')
        add = self.add
        add(Stage(f'det_{PRIOR}', deps=['data'],
                  cmd=self.train_cmd(self.detectors[PRIOR], self.stage_dir(f'det_{PRIOR}'),
                                     s['prior_iters'], self.data_options(loaders)),
                  outputs=[f'det_{PRIOR}/last_checkpoint']))
        add(Stage('sr_pretrain', deps=['data'],
                  cmd=self.train_cmd(SR_PRETRAIN, self.stage_dir('sr_pretrain'), s['sr_iters'],
                                     self.sr_options()),
                  outputs=['sr_pretrain/last_checkpoint']))
        add(Stage('prior_random', cmd=[
            self.python, 'tools/init_detector_checkpoint.py', self.detectors[PRIOR],
            osp.join(self.stage_dir('prior_random'), 'random_init.pth'), '--seed',
            str(self.args.seed)], outputs=['prior_random/random_init.pth']))
        add(Stage('prior_classifier', deps=['data'],
                  cmd=self.train_cmd(self.classifier, self.stage_dir('prior_classifier'),
                                     s['cls_iters'], self.data_options(loaders, det=False)),
                  outputs=['prior_classifier/last_checkpoint']))
        for name in EVALUATORS:
            add(Stage(f'det_{name}', deps=['data'],
                      cmd=self.train_cmd(self.detectors[name], self.stage_dir(f'det_{name}'),
                                         s['det_iters'], self.data_options(loaders)),
                      outputs=[f'det_{name}/last_checkpoint']))
        add(Stage('det_ssd', deps=['data_voc'],
                  cmd=self.train_cmd(self.detectors[VOC_DETECTOR], self.stage_dir('det_ssd'),
                                     s['ssd_iters'], self.voc_options(loaders)),
                  outputs=['det_ssd/last_checkpoint']))

    def sr_options(self):
        opts = [f'{lo}.dataset.data_root={self.data}'
                for lo in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
        return opts + (['train_dataloader.batch_size=2'] if self.args.quick else [])

    def _sr_stages(self, k: int):
        """The SR fine-tunes (and TDSR) with training seed ``seed + k`` (suffix ``_s<k>``)."""
        sfx, seed = (f'_s{k}' if k else ''), self.args.seed + k
        for variant, (cfg, _, _, prior) in SR_VARIANTS.items():
            deps = ['sr_pretrain'] + ([PRIOR_STAGES[prior]] if prior else [])
            self.add(Stage(f'sr_{variant}{sfx}', deps=deps, fn=self.run_finetune,
                           params=dict(config=cfg, iters=self.sizes['ft_iters'],
                                       opts=self.sr_options(), variant=variant, seed=seed),
                           outputs=[f'sr_{variant}{sfx}/last_checkpoint']))
        self.add(Stage(f'sr_tdsr{sfx}', deps=['sr_pretrain', 'det_ssd', 'data_voc'],
                       fn=self.run_tdsr, params=dict(config=TDSR_CONFIG, seed=seed,
                                                     iters=self.sizes['ft_iters']),
                       outputs=[f'sr_tdsr{sfx}/last_checkpoint']))

    def _cascade_stages(self, k: int):
        """Seed 0: the paper's tables; seed k > 0: the seeded methods only, named ``<m>_s<k>``."""
        sfx = f'_s{k}' if k else ''
        for i, det in enumerate(EVALUATORS + (VOC_DETECTOR,)):
            if k:
                methods = tuple(m + sfx for m in SEEDED_METHODS[det])
            elif det == VOC_DETECTOR:
                methods = TABLE3_METHODS
            else:
                methods = TABLE_METHODS + (tuple(m for m in SR_VARIANTS if m not in TABLE_METHODS)
                                           if i == 0 else ())
            deps = ['data_voc' if det == VOC_DETECTOR else 'data', f'det_{det}', 'sr_pretrain']
            deps += [f'sr_{m}' for m in methods if m not in ('hr', 'bicubic', 'dbpn_pretrained')]
            panels = self.sizes['panels'] if i == 0 and not k else 0
            self.add(Stage(f'cascade_{det}{sfx}', deps=deps, fn=self.run_cascade,
                           params=dict(det=det, methods=methods, panels=panels,
                                       detector_config=self.detectors[det]),
                           outputs=[f'cascade_{det}{sfx}/results.json']))

    def prior_checkpoint(self, prior: str) -> str:
        if prior == 'random':
            return osp.join(self.stage_dir('prior_random'), 'random_init.pth')
        return self.checkpoint(PRIOR_STAGES[prior])

    def run_finetune(self, stage: Stage):
        p = stage.params
        extra = list(p['opts']) + [f'load_from={self.checkpoint("sr_pretrain")}']
        prior = SR_VARIANTS[p['variant']][3]
        if prior:  # the C4 detector's config; weights of the trained detector or another prior
            extra += [f'model.feature_loss.detector_config={self.detectors[PRIOR]}',
                      f'model.feature_loss.checkpoint={self.prior_checkpoint(prior)}']
        return self.train_cmd(p['config'], self.stage_dir(stage.name), p['iters'], extra,
                              p['seed'])

    def voc_options(self, loaders):
        return [f'{loader}.dataset.data_root={self.voc_data}/' for loader in loaders]

    def run_tdsr(self, stage: Stage):
        """TDSR: from the pre-trained SR weights, through the trained study SSD's own loss."""
        loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
        extra = [f'load_from={self.checkpoint("sr_pretrain")}',
                 f'model.task_loss.detector_config={self.detectors[VOC_DETECTOR]}',
                 f'model.task_loss.checkpoint={self.checkpoint("det_" + VOC_DETECTOR)}',
                 *[f'{lo}.dataset.det_dataset.data_root={self.voc_data}/' for lo in loaders]]
        if self.args.quick:
            extra.append('train_dataloader.batch_size=2')
        return self.train_cmd(stage.params['config'], self.stage_dir(stage.name),
                              stage.params['iters'], extra, stage.params['seed'])

    def sr_spec(self, method: str) -> str:
        """``--methods`` entry: built-in, the pre-trained DBPN, a fine-tune (``_s<k>``: seed k)."""
        base = re.sub(r'_s\d+$', '', method)
        if method == 'dbpn_pretrained':
            return f'{method}={SR_PRETRAIN}:{self.checkpoint("sr_pretrain")}'
        if base in SR_VARIANTS:
            return f'{method}={SR_VARIANTS[base][0]}:{self.checkpoint("sr_" + method)}'
        if base == 'tdsr':
            return f'{method}={TDSR_CONFIG}:{self.checkpoint("sr_" + method)}'
        return method

    def run_cascade(self, stage: Stage):
        det, methods = stage.params['det'], stage.params['methods']
        data = (self.voc_options(['test_dataloader']) if det == VOC_DETECTOR
                else self.data_options(['test_dataloader']))
        cmd = [self.python, 'tools/cascade_eval.py', self.detectors[det],
               self.checkpoint(f'det_{det}'), '--methods', *map(self.sr_spec, methods),
               '--out-dir', self.stage_dir(stage.name),
               '--cache-dir', osp.join(self.out, 'sr_cache'), '--device', 'cpu',
               '--cfg-options', *data]
        if stage.params['panels']:
            cmd += ['--show-dir', osp.join(self.stage_dir(stage.name), 'panels'),
                    '--show-num', str(stage.params['panels'])]
        return cmd

    def report(self, stage: Stage):
        from fdsr_mm.study.extras import loss_scale_section, seeds_section
        from fdsr_mm.study.report import write_study_report
        results = {d: osp.join(self.stage_dir(f'cascade_{d}'), 'results.json') for d in EVALUATORS}
        fig3 = {m: SR_VARIANTS[m][1:3] for m in FIG3_METHODS}
        timings = {n: (self.read_stage(n) or {}).get('seconds') for n in self.stages
                   if n != 'report'}
        seeded = {f'{det}': [osp.join(self.stage_dir(f'cascade_{det}' + (f'_s{k}' if k else '')),
                                      'results.json') for k in range(self.args.seeds)]
                  for det in EVALUATORS + (VOC_DETECTOR,)}
        extras = [loss_scale_section({m: self.stage_dir(f'sr_{m}') for m in FIG3_METHODS
                                      if SR_VARIANTS[m][3]}, fig3),
                  seeds_section(seeded, SEEDED_METHODS, self.args.seed)]
        write_study_report(self.stage_dir('report'), results, fig3_settings=fig3,
                           panels_dir=osp.join(self.stage_dir(f'cascade_{EVALUATORS[0]}'),
                                               'panels'),
                           timings=timings, quick=self.args.quick,
                           total_seconds=time.time() - self.t0,
                           table3_file=osp.join(self.stage_dir(f'cascade_{VOC_DETECTOR}'),
                                                'results.json'),
                           priors=OTHER_PRIORS, num_resamples=self.sizes['resamples'],
                           extra_sections=extras, seeded_files=seeded)
        return None

    def run(self) -> int:
        self.log(f'{"quick" if self.args.quick else "full"} study in {self.out} '
                 f'({self.args.jobs} jobs at a time)')
        rc = super().run()
        if rc == 0:
            self.log(f'results in {self.stage_dir("report")}')
        return rc


def main(argv=None) -> int:
    args = parse_args(argv)
    return Study(args).run()


if __name__ == '__main__':
    sys.exit(run_tool('run_study', main))

"""The miniature FDSR study: the whole method, end to end, on generated data and a CPU.

Stages (each a folder under ``--out-dir``; only the project's public tools and configs are used):

    data              tools/make_synthetic_coco.py: COCO-format detection data (HR train/val)
    det_<name>        tools/train.py on configs/study/detectors/*: Faster R-CNN FPN, RetinaNet FPN,
                      Cascade R-CNN FPN (the evaluators) and a C4 Faster R-CNN (the feature prior)
    sr_pretrain       tools/train.py: a small DBPN trained pixel-only (stands in for D-DBPN)
    sr_<variant>      tools/train.py from the same pre-trained weights, same schedule: pixel-only
                      (the "D-DBPN" row), FDSR (alpha 0.5, beta 1, C4 prior) and the Fig. 3 points
    cascade_<det>     tools/cascade_eval.py: HR, bicubic, DBPN, FDSR (+ Fig. 3 points on the first
                      detector) through each evaluator; SR images cached once in sr_cache/
    data_voc, det_ssd Table 3: tools/make_synthetic_voc.py (VOC-format data whose generator
                      settings differ from the COCO-format set), a small SSD trained on it
    sr_tdsr           TDSR: the pre-trained DBPN fine-tuned through the frozen SSD's own loss on
                      the VOC trainval boxes (same start and schedule as the other fine-tunes)
    cascade_ssd       Table 3: HR, bicubic, DBPN, TDSR and the COCO-trained FDSR (no fine-tune)
                      through the SSD on the VOC test split
    report            Table 1, Table 2 (tools/merge_cascade_tables.py), Fig. 3 plot, Fig. 1 panels,
                      summary.md (did the paper's orderings hold?), timings.json

Resumable: a stage whose ``stage.json`` records the same inputs (settings + the fingerprints of
the stages it depends on) and whose outputs exist is skipped; deleting a stage folder recomputes it
and everything downstream of it, nothing else. Stages run as subprocesses, ``--jobs`` at a time
(two 1-thread jobs use a 2-core machine best).

    python tools/run_study.py                  # the full study (<= 30 min on 2 CPU cores)
    python tools/run_study.py --quick          # every stage, tiny sizes (CI, <= 3 min)
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

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
# variant -> (config, alpha, beta); 'dbpn' and 'fdsr' are the Table 1/2 columns.
SR_VARIANTS = {
    'dbpn': (f'{SR_DIR}/dbpn-small_x4_a0.5b0_1xb8-300i_synthetic-coco-ft.py', 0.5, 0.),
    'fdsr': (f'{SR_DIR}/fdsr_dbpn-small_x4_c4prior-a0.5b1_1xb8-300i_synthetic-coco-ft.py', 0.5, 1.),
    'fdsr_a0b1': (f'{SR_DIR}/fdsr_dbpn-small_x4_c4prior-a0b1_1xb8-300i_synthetic-coco-ft.py', 0., 1.),
    'fdsr_a1b1': (f'{SR_DIR}/fdsr_dbpn-small_x4_c4prior-a1b1_1xb8-300i_synthetic-coco-ft.py', 1., 1.),
}
TABLE_METHODS = ('hr', 'bicubic', 'dbpn', 'fdsr')
# Table 3 (VOC-format data, SSD): TDSR fine-tuned through the SSD; DBPN and FDSR as trained on the
# COCO-format data (FDSR "without fine-tune", as in the paper).
VOC_DETECTOR = 'ssd'
TDSR_CONFIG = f'{SR_DIR}/tdsr_dbpn-small_x4_ssd-a1g0.1_1xb4-300i_synthetic-voc-ft.py'
TABLE3_METHODS = ('hr', 'bicubic', 'dbpn', 'tdsr', 'fdsr')
FIG3_METHODS = ('dbpn', 'fdsr_a0b1', 'fdsr', 'fdsr_a1b1')

# *_iters None: the config's own schedule. The prior only has to be a trained detector backbone.
FULL = dict(train_images=1000, val_images=200, image_size=256, det_iters=None, prior_iters=None,
            sr_iters=None, ft_iters=None, panels=6, voc_trainval=None, voc_test=None,
            ssd_iters=None)
QUICK = dict(train_images=48, val_images=8, image_size=128, det_iters=150, prior_iters=20,
             sr_iters=2, ft_iters=2, panels=2, voc_trainval=32, voc_test=8, ssd_iters=100)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('--out-dir', default=None,
                   help='study folder (default: work_dirs/study, or work_dirs/study_quick)')
    p.add_argument('--quick', action='store_true', help='tiny sizes: proves every stage connects')
    p.add_argument('--jobs', type=int, default=2, help='stages run at the same time (default 2)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


# ------------------------------------------------------------------------------------------------
def find_detector_configs() -> dict:
    """name -> config path (relative to the repository) of the study's detectors."""
    import glob
    found = {}
    for name, pattern in DETECTOR_PATTERNS.items():
        hits = sorted(glob.glob(osp.join(REPO_ROOT, DET_DIR, pattern)))
        if len(hits) != 1:
            raise FileNotFoundError(f'expected one {DET_DIR}/{pattern} for the {name} detector, '
                                    f'found {len(hits)}: {hits}')
        found[name] = osp.relpath(hits[0], REPO_ROOT)
    return found


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _atomic_json(path: str, obj) -> None:
    from fdsr_mm.evaluation.tables import dump_json
    dump_json(obj, path)


def _fmt_time(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f'{m}m{s:02d}s'


class Stage:
    """A unit of the study: a command (or a Python callable), its inputs and its outputs."""

    def __init__(self, name, deps=(), cmd=None, fn=None, params=None, outputs=(),
                 in_process=False):
        self.name, self.deps, self.cmd, self.fn = name, tuple(deps), cmd, fn
        self.params, self.outputs = params or {}, tuple(outputs)
        self.in_process = in_process  # fn does the work itself (else it returns a command)


class Study:

    def __init__(self, args):
        self.args = args
        self.sizes = QUICK if args.quick else FULL
        default = 'work_dirs/study_quick' if args.quick else 'work_dirs/study'
        self.out = osp.abspath(args.out_dir or osp.join(REPO_ROOT, default))
        self.data = osp.join(self.out, 'data', 'synthetic_coco')
        self.voc_data = osp.join(self.out, 'data', 'synthetic_voc')
        self.t0 = time.time()
        self.python = sys.executable
        self.detectors = find_detector_configs()
        self.stages = {}
        self.build_stages()

    # -- helpers ---------------------------------------------------------------------------------
    def log(self, msg: str) -> None:
        print(f'[study {_fmt_time(time.time() - self.t0):>7}] {msg}', flush=True)

    def stage_dir(self, name: str) -> str:
        return osp.join(self.out, name)

    def stage_file(self, name: str) -> str:
        return osp.join(self.stage_dir(name), 'stage.json')

    def read_stage(self, name: str):
        try:
            with open(self.stage_file(name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def inputs_key(self, stage: Stage) -> str:
        deps = {d: (self.read_stage(d) or {}).get('fingerprint') for d in stage.deps}
        return _hash(dict(params=stage.params, cmd=stage.cmd, deps=deps))

    def up_to_date(self, stage: Stage) -> bool:
        rec = self.read_stage(stage.name)
        if not rec or rec.get('inputs') != self.inputs_key(stage):
            return False
        return all(osp.exists(self.resolve(o)) for o in rec.get('outputs', []))

    def resolve(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.out, path)

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

    def train_cmd(self, config, work_dir, iters, extra=()):
        cmd = [self.python, 'tools/train.py', config, '--work-dir', work_dir, '--cfg-options']
        if iters is not None:
            cmd += [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
                    f'default_hooks.checkpoint.interval={iters}']
            if self.args.quick:
                cmd += ['default_hooks.logger.interval=1']
        return cmd + list(extra)

    def build_stages(self):
        s, add = self.sizes, self._add
        add(Stage('data', cmd=[self.python, 'tools/make_synthetic_coco.py', self.data,
                               '--train', str(s['train_images']), '--val', str(s['val_images']),
                               '--size', str(s['image_size']), '--seed', str(self.args.seed)],
                  params=dict(s, seed=self.args.seed),
                  outputs=[f'{self.data}/annotations/instances_train.json',
                           f'{self.data}/annotations/instances_val.json']))
        voc_sizes = [f'--{k}={s["voc_" + k]}' for k in ('trainval', 'test') if s['voc_' + k]]
        add(Stage('data_voc', cmd=[self.python, 'tools/make_synthetic_voc.py', self.voc_data,
                                   *voc_sizes, '--seed', str(self.args.seed)],
                  params=dict(s, seed=self.args.seed),
                  outputs=[f'{self.voc_data}/VOC2007/ImageSets/Main/test.txt']))
        loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
        sr_opts = [f'{lo}.dataset.data_root={self.data}' for lo in loaders]
        if self.args.quick:
            sr_opts += ['train_dataloader.batch_size=2']
        # Insertion order is start order: the prior and the SR pre-training first (the SR
        # fine-tunes wait for them), the evaluators' training alongside.
        for name in [PRIOR, 'sr_pretrain'] + list(EVALUATORS):
            if name == 'sr_pretrain':
                add(Stage('sr_pretrain', deps=['data'],
                          cmd=self.train_cmd(SR_PRETRAIN, self.stage_dir('sr_pretrain'),
                                             s['sr_iters'], sr_opts),
                          outputs=['sr_pretrain/last_checkpoint']))
                continue
            iters = s['prior_iters'] if name == PRIOR else s['det_iters']
            add(Stage(f'det_{name}', deps=['data'],
                      cmd=self.train_cmd(self.detectors[name], self.stage_dir(f'det_{name}'),
                                         iters, self.data_options(loaders)),
                      outputs=[f'det_{name}/last_checkpoint']))
        add(Stage('det_ssd', deps=['data_voc'],
                  cmd=self.train_cmd(self.detectors[VOC_DETECTOR], self.stage_dir('det_ssd'),
                                     s['ssd_iters'], self.voc_options(loaders)),
                  outputs=['det_ssd/last_checkpoint']))
        for variant, (cfg, _, beta) in SR_VARIANTS.items():
            deps = ['sr_pretrain'] + ([f'det_{PRIOR}'] if beta else [])
            add(Stage(f'sr_{variant}', deps=deps, fn=self.run_finetune,
                      params=dict(config=cfg, iters=s['ft_iters'], opts=sr_opts),
                      outputs=[f'sr_{variant}/last_checkpoint']))
        add(Stage('sr_tdsr', deps=['sr_pretrain', 'det_ssd', 'data_voc'], fn=self.run_tdsr,
                  params=dict(config=TDSR_CONFIG, iters=s['ft_iters']),
                  outputs=['sr_tdsr/last_checkpoint']))
        for i, det in enumerate(EVALUATORS):
            methods = TABLE_METHODS + (tuple(m for m in FIG3_METHODS if m not in TABLE_METHODS)
                                       if i == 0 else ())
            deps = ['data', f'det_{det}'] + [f'sr_{m}' for m in methods if m in SR_VARIANTS]
            add(Stage(f'cascade_{det}', deps=deps, fn=self.run_cascade,
                      params=dict(det=det, methods=methods, panels=s['panels'] if i == 0 else 0),
                      outputs=[f'cascade_{det}/results.json']))
        add(Stage('cascade_ssd', deps=['data_voc', 'det_ssd', 'sr_dbpn', 'sr_fdsr', 'sr_tdsr'],
                  fn=self.run_cascade, params=dict(det=VOC_DETECTOR, methods=TABLE3_METHODS,
                                                   panels=0),
                  outputs=['cascade_ssd/results.json']))
        add(Stage('report', deps=[f'cascade_{d}' for d in EVALUATORS + (VOC_DETECTOR,)],
                  fn=self.report,
                  outputs=['report/summary.md'], in_process=True))

    def _add(self, stage: Stage):
        self.stages[stage.name] = stage

    def run_finetune(self, stage: Stage):
        cfg = stage.params['config']
        extra = list(stage.params['opts']) + [f'load_from={self.checkpoint("sr_pretrain")}']
        if SR_VARIANTS[stage.name[3:]][2]:  # the prior: the study's C4 detector, trained
            extra += [f'model.feature_loss.detector_config={self.detectors[PRIOR]}',
                      f'model.feature_loss.checkpoint={self.checkpoint("det_" + PRIOR)}']
        return self.train_cmd(cfg, self.stage_dir(stage.name), stage.params['iters'], extra)

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
                              stage.params['iters'], extra)

    def sr_spec(self, method: str) -> str:
        """``--methods`` entry of a method: built-in, a fine-tune of SR_VARIANTS, or TDSR."""
        if method in SR_VARIANTS:
            return f'{method}={SR_VARIANTS[method][0]}:{self.checkpoint("sr_" + method)}'
        if method == 'tdsr':
            return f'tdsr={TDSR_CONFIG}:{self.checkpoint("sr_tdsr")}'
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
        from fdsr_mm.evaluation.study_report import write_study_report
        results = {d: osp.join(self.stage_dir(f'cascade_{d}'), 'results.json') for d in EVALUATORS}
        fig3 = {m: SR_VARIANTS[m][1:] for m in FIG3_METHODS}
        timings = {n: (self.read_stage(n) or {}).get('seconds') for n in self.stages if n != 'report'}
        write_study_report(self.stage_dir('report'), results, fig3_settings=fig3,
                           panels_dir=osp.join(self.stage_dir(f'cascade_{EVALUATORS[0]}'),
                                               'panels'),
                           timings=timings, quick=self.args.quick,
                           total_seconds=time.time() - self.t0,
                           table3_file=osp.join(self.stage_dir(f'cascade_{VOC_DETECTOR}'),
                                                'results.json'))
        return None

    # -- scheduling ------------------------------------------------------------------------------
    def finish(self, stage: Stage, inputs: str, seconds: float):
        rec = dict(stage=stage.name, inputs=inputs, seconds=round(seconds, 1),
                   finished=time.strftime('%Y-%m-%dT%H:%M:%S'), outputs=list(stage.outputs))
        rec['fingerprint'] = _hash(rec)
        _atomic_json(self.stage_file(stage.name), rec)

    def run(self) -> int:
        os.makedirs(self.out, exist_ok=True)
        self.log(f'{"quick" if self.args.quick else "full"} study in {self.out} '
                 f'({self.args.jobs} jobs at a time)')
        done, failed, running = set(), None, {}
        pending = list(self.stages)
        threads = '1' if self.args.jobs > 1 else '2'
        env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
                   PYTHONWARNINGS='ignore')
        while pending or running:
            for name in list(pending):
                stage = self.stages[name]
                if not all(d in done for d in stage.deps):
                    continue
                if self.up_to_date(stage):
                    self.log(f'{name}: up to date, skipped')
                    pending.remove(name)
                    done.add(name)
                    continue
                if failed or len(running) >= max(1, self.args.jobs):
                    continue
                if name.startswith('cascade_') and any(r.startswith('cascade_') for r in running):
                    continue  # one cascade at a time: the next one reuses the cached SR images
                pending.remove(name)
                inputs = self.inputs_key(stage)
                os.makedirs(self.stage_dir(name), exist_ok=True)
                if os.path.exists(self.stage_file(name)):
                    os.remove(self.stage_file(name))
                start = time.time()
                if stage.in_process:
                    self.log(f'{name}: running')
                cmd = stage.cmd if stage.fn is None else stage.fn(stage)
                if stage.in_process:
                    self.finish(stage, inputs, time.time() - start)
                    done.add(name)
                    self.log(f'{name}: done in {_fmt_time(time.time() - start)}')
                    continue
                log_path = osp.join(self.stage_dir(name), 'stage.log')
                self.log(f'{name}: running ({" ".join(osp.relpath(c, REPO_ROOT) if c.startswith(REPO_ROOT) else c for c in cmd[1:3])} ...), log {log_path}')
                logf = open(log_path, 'w')
                proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=logf,
                                        stderr=subprocess.STDOUT)
                running[name] = (proc, start, inputs, logf, log_path)
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
                self.log(f'{name}: done in {_fmt_time(time.time() - start)}')
            if failed and not running:
                self.log(f'stopped: stage {failed} failed; fix it and rerun (finished stages '
                         'are kept)')
                return 1
            if running:
                time.sleep(0.5)
        self.log(f'all stages done in {_fmt_time(time.time() - self.t0)}; results in '
                 f'{self.stage_dir("report")}')
        return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return Study(args).run()


if __name__ == '__main__':
    sys.exit(main())

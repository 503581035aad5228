"""A study end to end from its spec (default: the miniature FDSR study, generated data, CPU).

A study is a config: SPEC (an mmengine Python config; default configs/study/miniature.py) declares
the data, the models to train, the evaluators, the cascades, the claims and the report's sections
(README, "How to write a study spec"); a child spec (``_base_`` + an SR variant and its claim,
configs/study/examples/miniature_plus_variant.py) runs with no code change. The miniature's stages
(each a folder under ``--out-dir``; only the project's public tools and configs are used):

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

    python tools/run_study.py                  # the full study (35-46 min on 2 CPU cores)
    python tools/run_study.py --dry-run        # the stage graph and every command, nothing run
    python tools/run_study.py configs/study/examples/miniature_plus_variant.py  # a child spec
    python tools/run_study.py --seeds 3        # + SR fine-tunes with 3 training seeds
    python tools/run_study.py --quick          # every stage, tiny sizes (CI, <= 3 min)

The paper at scale from the same runner (README, "Run the paper at scale"): COCO 2017, the
official D-DBPN weights converted, model-zoo detectors, training stages on GPUs:

    python tools/run_study.py configs/study/paper_coco.py --dry-run
    python tools/run_study.py configs/study/paper_coco.py --launcher pytorch --gpus 8 --jobs 1
    python tools/run_study.py configs/study/paper_voc.py --launcher slurm --partition P --gpus 16
    python tools/run_study.py configs/study/paper_coco.py --cfg-options data.coco.root=/data/coco

A dataset or weights file the spec names but no stage makes is checked before any stage starts.

One run per study folder: a second run on the same --out-dir is refused with one line while the
first (or a stage it started) is alive; stage processes end with the run, even after kill -9 of
run_study (Linux). A fault the user can fix is one line, ``run_study: error: ...``, exit code 2.
"""
import argparse
import os.path as osp
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only, beside this tool

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from mmengine.config import DictAction  # noqa: E402

from fdsr_mm.study.dry_run import dry_run_lines  # noqa: E402
from fdsr_mm.study.spec import DEFAULT_SPEC, StudySpec  # noqa: E402
from fdsr_mm.study.stages import Study  # noqa: E402
from fdsr_mm.utils.cli_errors import run_tool  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('spec', nargs='?', default=None,
                   help=f'the study spec (default: {DEFAULT_SPEC})')
    p.add_argument('--out-dir', default=None,
                   help='study folder (default: work_dirs/study for the default spec, else '
                        'work_dirs/<spec name>; + _quick with --quick)')
    p.add_argument('--quick', action='store_true', help='tiny sizes: proves every stage connects')
    p.add_argument('--jobs', type=int, default=2, help='stages run at the same time (default 2)')
    p.add_argument('--seed', type=int, default=0,
                   help='data seed, and the training seed of every stage (default 0)')
    p.add_argument('--seeds', type=int, default=1,
                   help='repeat the SR fine-tunes (and TDSR) with training seeds seed, seed+1, '
                        '...; the report adds mean +- std across seeds (default 1)')
    p.add_argument('--dry-run', action='store_true',
                   help='print the stage graph (dependency order) and every command; run nothing')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default=None,
                   help='how training stages start (default: the spec\'s launcher, else none): '
                        'pytorch = torchrun on this machine, slurm = srun')
    p.add_argument('--gpus', type=int, default=None, help='GPUs (processes) per training stage')
    p.add_argument('--gpus-per-node', type=int, default=None, help='slurm: GPUs per node')
    p.add_argument('--partition', default=None, help='slurm: the partition')
    p.add_argument('--device', default=None,
                   help='the cascades\' SR device (default: the spec\'s, else the tool\'s)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='override spec settings, key=value as in mmengine configs, e.g. '
                        'data.coco.root=/data/coco detectors.faster_rcnn.checkpoint=FILE')
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error(f'--seeds must be >= 1, got {args.seeds}')
    if args.gpus is not None and args.gpus < 1:
        p.error(f'--gpus must be >= 1, got {args.gpus}')
    return args


def build_study(args) -> Study:
    """The spec's stages under ``--out-dir`` (a checked spec: a fault is one ToolError line)."""
    spec = StudySpec(args.spec or osp.join(REPO_ROOT, DEFAULT_SPEC), REPO_ROOT,
                     args.cfg_options)
    name = 'study' if args.spec is None else osp.splitext(osp.basename(args.spec))[0]
    default = f'work_dirs/{name}' + ('_quick' if args.quick else '')
    out = osp.abspath(args.out_dir or osp.join(REPO_ROOT, default))
    return Study(spec, out, sys.executable, quick=args.quick, seed=args.seed, seeds=args.seeds,
                 jobs=args.jobs, dry_run=args.dry_run, device=args.device,
                 launcher=dict(type=args.launcher, gpus=args.gpus,
                               gpus_per_node=args.gpus_per_node, partition=args.partition))


def main(argv=None) -> int:
    args = parse_args(argv)
    study = build_study(args)
    if args.dry_run:
        print('\n'.join(dry_run_lines(study)))
        return 0
    return study.run()


if __name__ == '__main__':
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc
    tune_cpu_malloc()  # freed tensor memory stays in the process (FDSR_MM_MALLOC=default: off)
    sys.exit(run_tool('run_study', main))

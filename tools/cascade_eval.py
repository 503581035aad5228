"""Cascade evaluation (FDSR paper, Tables 1-3): bicubic x1/scale -> SR -> mmdet detector.

For one detector and one or more SR methods, downsample every HR test image by ``--scale`` with
the training operator (MATLAB-like bicubic; ``--degradation realistic``: blur, bicubic/bilinear/
area resize, noise and JPEG, drawn per image from ``--degradation-seed`` and the file name, see
fdsr_mm/datasets/transforms/degradations.py), super-resolve it, run the detector with its own test
pipeline on the SR image and score detection with the config's CocoMetric / VOCMetric against the
HR annotations; score PSNR (RGB, Y; shave = scale), SSIM, FSIM and FSIMc against the mod-cropped
HR image. See :mod:`fdsr_mm.apis.cascade` for the two passes and the cache layout.

SR methods (``--methods``, table columns in this order):
    hr                          the (mod-cropped) HR images themselves
    bicubic                     MATLAB-like bicubic x``scale`` upsampling of the LR images
    lr_native                   the LR images themselves, through the detector's own test
                                resize; its boxes are mapped back to HR coordinates (no PSNR)
    NAME=CONFIG:CHECKPOINT      ``model.generator`` of an MMagic config (path or mmagic::...)
                                with the weights of an mmengine checkpoint (restorer or bare
                                generator), e.g. dbpn=configs/dbpn/x.py:work_dirs/x/iter_200.pth

Outputs in ``--out-dir``: ``results.json``, ``table1.{md,csv}`` (COCO) or ``table3.{md,csv}``
(VOC), ``methods/<name>/detections.bbox.json`` (COCO); with the tables, the paired bootstrap 95%
interval of every method's AP (AP50 ... APL; VOC: mAP) minus the ``--reference``'s (default
bicubic) and of each ``--compare A:B`` pair (B - A), ``--resamples`` draws of the test images with
``--bootstrap-seed``; SR images are cached in ``--cache-dir``
(default ``<out-dir>/sr_cache``), so a killed run resumes and other detectors reuse them
(``tools/merge_cascade_tables.py`` merges several detectors' results into Table 2).

Examples::

    python tools/cascade_eval.py configs/detectors/faster-rcnn_r50_fpn_1x_coco.py \\
        checkpoints/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth \\
        --methods hr bicubic dbpn=configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py:ckpt/dbpn.pth \\
        fdsr=configs/fdsr_x4.py:ckpt/fdsr.pth --out-dir results/faster_r50 --limit 50
    python -m torch.distributed.launch --nproc_per_node 8 tools/cascade_eval.py ... \\
        --launcher pytorch
"""
import argparse
import os.path as osp
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from mmengine.config import DictAction  # noqa: E402


def add_interval_args(parser: argparse.ArgumentParser) -> None:
    """The paired-bootstrap options: --reference, --compare, --resamples, --bootstrap-seed."""
    parser.add_argument('--reference', metavar='NAME',
                        help='method every other one is compared with (paired bootstrap 95%% '
                        'interval of AP - reference per method; default: bicubic when it is '
                        'among the methods; none: no reference)')
    parser.add_argument('--compare', action='append', default=[], metavar='A:B',
                        help='also give the paired bootstrap interval of B - A (repeatable)')
    parser.add_argument('--resamples', type=int, default=1000,
                        help='bootstrap resamples of the test images (default 1000)')
    parser.add_argument('--bootstrap-seed', type=int, default=0,
                        help='seed of the bootstrap draws (default 0)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='mmdet detector config (path or mmdet::...)')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('--methods', nargs='+', default=['hr', 'bicubic'],
                        help="SR methods: hr, bicubic, lr_native (the LR image through the "
                        "detector's own test resize), NAME=CONFIG:CHECKPOINT (see above)")
    parser.add_argument('--out-dir', required=True, help='results folder')
    parser.add_argument('--cache-dir', help='SR image cache (default: OUT_DIR/sr_cache)')
    parser.add_argument('--scale', type=int, default=4, help='SR factor (default 4)')
    parser.add_argument('--degradation', default='bicubic', metavar='NAME',
                        help="how LR is made from HR: bicubic (default, the paper's: MATLAB's "
                        'antialiased cubic kernel in float, rounded once), bicubic-matlab-uint8 '
                        "(MATLAB's imresize on uint8 input: rounded between its two passes) or "
                        'realistic (fdsr_mm.datasets.DEGRADATIONS); each has its own SR cache')
    parser.add_argument('--degradation-seed', type=int, default=0,
                        help='seed of the realistic degradation (default 0): the same seed '
                        'gives every method and run the same LR image of a file')
    parser.add_argument('--hr-size', type=int, nargs=2, metavar=('W', 'H'),
                        help="resize HR images to W H first (default: the config's "
                        'cascade_hr_size, e.g. 300 300 for SSD300/VOC)')
    parser.add_argument('--data-root', help='dataset root (overrides the config)')
    parser.add_argument('--ann-file', help='annotation file, relative to the data root or '
                        'absolute (COCO json / VOC ImageSets txt)')
    parser.add_argument('--img-prefix', help='image folder relative to the data root '
                        '(COCO: val2017/)')
    parser.add_argument('--limit', type=int, help='only the first N images (quick look)')
    parser.add_argument('--iq-metrics', nargs='+',
                        default=['psnr', 'psnr_y', 'ssim', 'fsim', 'fsimc'],
                        help='image-quality metrics (psnr psnr_y ssim fsim fsimc)')
    parser.add_argument('--tile', type=int, default=200,
                        help='LR tile size of SR inference for large images (0: never tile)')
    parser.add_argument('--sr-amp', nargs='?', const='bfloat16', choices=['bfloat16', 'float16'],
                        help='run the SR models under autocast (default type bfloat16); the '
                        'images are cached apart and the caption says so')
    parser.add_argument('--tile-pad', type=int, default=None,
                        help="LR context around a tile (default: the SR generator's receptive "
                        'field where it declares one, e.g. 21 for D-DBPN x4, which makes tiles '
                        'exact; else 16, approximate near seams; a smaller pad than a declared '
                        'field is refused)')
    parser.add_argument('--device', help='SR device: cpu, cuda, cuda:N (default: cuda if '
                        'available, else cpu)')
    parser.add_argument('--show-dir', help='write Fig. 1-style panels (methods side by side, '
                        'predicted boxes, precision/recall at IoU 0.5) here')
    parser.add_argument('--show-num', type=int,
                        help='write panels of the first N evaluated images only (default: all)')
    parser.add_argument('--show-score-thr', type=float, default=0.3,
                        help='score threshold of the boxes drawn and counted in panels')
    add_interval_args(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override detector config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (images are split over ranks)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def run(argv=None) -> int:
    """The tool; a fault the user can fix raises (``run_tool`` prints it as one line)."""
    args = parse_args(argv)
    import os
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    from fdsr_mm.apis import CascadeOptions, run_cascade
    from fdsr_mm.evaluation.interval_tables import interval_lines

    dataset = {}
    if args.data_root:
        dataset['data_root'] = args.data_root
    if args.ann_file:
        dataset['ann_file'] = args.ann_file
    if args.img_prefix:
        dataset['data_prefix'] = dict(img=args.img_prefix)
    result = run_cascade(CascadeOptions(
        args.config, args.checkpoint, args.methods, args.out_dir, dataset=dataset or None,
        scale=args.scale, hr_size=args.hr_size, cache_dir=args.cache_dir, limit=args.limit,
        iq_metrics=args.iq_metrics, tile=args.tile or None, tile_pad=args.tile_pad,
        sr_amp=args.sr_amp,
        device=args.device, show_dir=args.show_dir, show_num=args.show_num,
        show_score_thr=args.show_score_thr, launcher=args.launcher,
        cfg_options=args.cfg_options, degradation=args.degradation,
        degradation_seed=args.degradation_seed, reference=args.reference,
        compare=args.compare, resamples=args.resamples, bootstrap_seed=args.bootstrap_seed))
    if 'files' in result:
        with open(result['files']['markdown']) as f:
            print(f.read())
        lines = interval_lines(result)
        if lines:
            print('Paired bootstrap intervals (B - A, percentage points):')
            print('\n'.join('  ' + line for line in lines))
        print('Written:', ', '.join(osp.relpath(p) for p in result['files'].values()))
    return 0


def main(argv=None) -> int:
    """Exit code of the tool: 0, or 2 with one ``cascade_eval: error: ...`` line for a fault
    the user can fix (a bad file or option, a refused pickle; see fdsr_mm.utils.run_tool)."""
    from fdsr_mm.utils import run_tool
    return run_tool('cascade_eval', lambda: run(argv))


if __name__ == '__main__':
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc
    tune_cpu_malloc()  # freed tensor memory stays in the process (FDSR_MM_MALLOC=default: off)
    sys.exit(main())

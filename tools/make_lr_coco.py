"""Make an LR-annotated COCO set from an HR one (to score SR + detector models with CocoMetric).

    python tools/make_lr_coco.py ANN_FILE IMG_DIR OUT_ROOT [--scale 4]
        [--degradation bicubic|bicubic-matlab-uint8|realistic] [--degradation-seed 0]

e.g. ``python tools/make_lr_coco.py data/coco/annotations/instances_val2017.json
data/coco/val2017 data/coco_lr_x4`` writes data/coco_lr_x4/images/*.png (mod-cropped, degraded
x1/scale exactly as tools/cascade_eval.py makes LR) and data/coco_lr_x4/annotations/
instances_val2017.json (boxes and polygons / scale, crowd RLE masks downscaled; ``area`` stays
the HR area, so COCO's small/medium/large bins are the HR set's). Then:

    python tools/test.py configs/sr_detectors/fdsr-x4_faster-rcnn_r50_fpn_coco.py packed.pth \\
        --cfg-options test_dataloader.dataset.data_root=data/coco_lr_x4/ \\
        test_dataloader.dataset.ann_file=annotations/instances_val2017.json \\
        test_dataloader.dataset.data_prefix.img=images/ \\
        test_evaluator.ann_file=data/coco_lr_x4/annotations/instances_val2017.json

(the configs/sr_detectors score with HRAreaCocoMetric: mmdet's CocoMetric with detections' areas
in HR pixels too, so APS/APM/APL are the HR set's and the cascade's; see
fdsr_mm/datasets/lr_coco.py; another detector config: test_evaluator.type=HRAreaCocoMetric.)

Two HR files with the same name but another extension get distinct LR names (a_png.png,
a_jpg.png). OUT_ROOT must not overlap the input (equal to, inside or containing IMG_DIR, or
holding ANN_FILE): refused. Images that do not decode are left out (with their boxes) and listed.
Faults (missing or malformed json, unknown degradation, overlapping output, bad --scale or
--degradation-seed) are one ``make_lr_coco: error:`` line, exit code 2.
"""
import argparse
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from fdsr_mm.utils.cli_errors import ToolError, run_tool  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', help='HR COCO json')
    parser.add_argument('img_dir', help='folder of the HR images (file_name is relative to it)')
    parser.add_argument('out_root', help='output root: images/ and annotations/ are written '
                        '(must not overlap IMG_DIR or hold ANN_FILE)')
    parser.add_argument('--scale', type=int, default=4,
                        help='downsampling factor (default 4, the paper\'s x4): HR images are '
                        'mod-cropped to a multiple of it')
    parser.add_argument('--degradation', default='bicubic', help='bicubic (paper, default), '
                        'bicubic-matlab-uint8 or realistic (see cascade_eval.py --help)')
    parser.add_argument('--degradation-seed', type=int, default=0,
                        help='seed (>= 0, default 0) of a random degradation (realistic), per '
                        'file as in cascade_eval: give both the same seed to get the same LR')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Write the LR set; raises :class:`~fdsr_mm.utils.ToolError` (and the known faults of
    :func:`~fdsr_mm.utils.run_tool`) on a bad input. Returns 2 when no image was usable."""
    args = parse_args(argv)
    from fdsr_mm.datasets.transforms.degradations import DEGRADATIONS
    from fdsr_mm.datasets.lr_coco import write_lr_coco
    if args.degradation not in DEGRADATIONS:
        raise ToolError(f'unknown degradation {args.degradation!r}', '--degradation',
                        f'choose from {", ".join(DEGRADATIONS)}')
    out, summary = write_lr_coco(args.ann_file, args.img_dir, args.out_root, args.scale,
                                 args.degradation, args.degradation_seed)
    print(f"{summary['images']} LR images, {summary['annotations']} boxes "
          f"({summary['rle_masks']} RLE masks downscaled) -> {out}")
    for path, why in summary['skipped']:
        print(f'  skipped {path}: {why}')
    return 0 if summary['images'] else 2


if __name__ == '__main__':
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc
    tune_cpu_malloc()  # freed tensor memory stays in the process (FDSR_MM_MALLOC=default: off)
    sys.exit(run_tool('make_lr_coco', main))

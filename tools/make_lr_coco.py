"""Make an LR-annotated COCO set from an HR one (to score SR + detector models with CocoMetric).

    python tools/make_lr_coco.py ANN_FILE IMG_DIR OUT_ROOT [--scale 4]
        [--degradation bicubic|realistic] [--degradation-seed 0]

e.g. ``python tools/make_lr_coco.py data/coco/annotations/instances_val2017.json
data/coco/val2017 data/coco_lr_x4`` writes data/coco_lr_x4/images/*.png (mod-cropped, degraded
x1/scale exactly as tools/cascade_eval.py makes LR) and data/coco_lr_x4/annotations/
instances_val2017.json (boxes, areas and polygons / scale). Then:

    python tools/test.py configs/sr_detectors/fdsr-x4_faster-rcnn_r50_fpn_coco.py packed.pth \\
        --cfg-options test_dataloader.dataset.data_root=data/coco_lr_x4/ \\
        test_dataloader.dataset.ann_file=annotations/instances_val2017.json \\
        test_dataloader.dataset.data_prefix.img=images/ \\
        test_evaluator.ann_file=data/coco_lr_x4/annotations/instances_val2017.json

Images that do not decode are left out (with their boxes) and listed; exit code 2 on a bad
input (missing or malformed json, unknown degradation).
"""
import argparse
import os.path as osp
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', help='HR COCO json')
    parser.add_argument('img_dir', help='folder of the HR images (file_name is relative to it)')
    parser.add_argument('out_root', help='output root: images/ and annotations/ are written')
    parser.add_argument('--scale', type=int, default=4)
    parser.add_argument('--degradation', default='bicubic', help='bicubic (paper) or realistic')
    parser.add_argument('--degradation-seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error(f'--scale must be >= 1, got {args.scale}.')
    if not osp.isfile(args.ann_file):
        print(f'error: annotation file {args.ann_file} does not exist.', file=sys.stderr)
        return 2
    from fdsr_mm.datasets.degradations import get_degradation
    from fdsr_mm.datasets.lr_coco import write_lr_coco
    try:
        get_degradation(args.degradation)
        out, summary = write_lr_coco(args.ann_file, args.img_dir, args.out_root, args.scale,
                                     args.degradation, args.degradation_seed)
    except (KeyError, ValueError) as e:  # unknown degradation, malformed json
        print(f'error: {str(e).strip()}', file=sys.stderr)
        return 2
    print(f"{summary['images']} LR images, {summary['annotations']} boxes -> {out}")
    for path, why in summary['skipped']:
        print(f'  skipped {path}: {why}')
    return 0 if summary['images'] else 2


if __name__ == '__main__':
    sys.exit(main())

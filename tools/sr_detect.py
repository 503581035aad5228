"""Detect objects on low-resolution images: SR (e.g. FDSR x4), then an unchanged mmdet detector.

    python tools/sr_detect.py CONFIG INPUT [INPUT ...] --out-dir DIR [--weights FILE]
        [--device cpu|cuda:0] [--batch-size N] [--score-thr 0.3] [--no-draw]

CONFIG: an SR + detector config (configs/sr_detectors/*.py; any mmdet detector config works too).
INPUT: image files, folders (searched recursively) or quoted glob patterns of LR images.
--weights: a packed SRDetector checkpoint (tools/pack_sr_detector.py); without it the SR and
detector checkpoints the config names are loaded.

Writes to --out-dir: vis/<image>.jpg (boxes with class and score >= --score-thr drawn by mmdet's
visualizer on the input image), results.bbox.json (COCO results: image_id, category_id, bbox
[x, y, w, h] in input pixels, score, file_name) and images.json (images, categories, skipped
files with reasons). Images that do not decode are reported by name and skipped; the exit code is
2 when no image could be used or an input is bad, else 0.
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='SR + detector config (configs/sr_detectors/*.py)')
    parser.add_argument('inputs', nargs='+', help='LR image files, folders or glob patterns')
    parser.add_argument('--out-dir', required=True, help='where drawings and results go')
    parser.add_argument('--weights', help='packed SRDetector checkpoint (optional)')
    parser.add_argument('--device', default=None, help='cpu, cuda, cuda:1, ... (default: cuda '
                        'when available)')
    parser.add_argument('--batch-size', type=int, default=1, help='images per forward pass')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='keep (draw and write) detections with at least this score')
    parser.add_argument('--no-draw', action='store_true', help='write results only')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}.')
    if not 0 <= args.score_thr <= 1:
        parser.error(f'--score-thr must be in [0, 1], got {args.score_thr}.')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    import fdsr_mm  # noqa: F401  (registers SRDetector and the generators)
    from fdsr_mm.apis.sr_detect import (SRDetectError, detect_folder, init_sr_detector,
                                        list_images)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        files = list_images(args.inputs)
        model = init_sr_detector(args.config, args.weights, device, args.cfg_options)
    except (SRDetectError, FileNotFoundError, KeyError, ValueError) as e:
        print(f'error: {str(e).strip()}', file=sys.stderr)
        return 2
    summary = detect_folder(model, files, args.out_dir, args.batch_size, args.score_thr,
                            draw=not args.no_draw, progress=not args.no_progress)
    print(f"\n{summary['images']} images, {summary['detections']} detections (score >= "
          f"{args.score_thr}), {len(summary['skipped'])} skipped -> {args.out_dir}")
    for file, why in summary['skipped']:
        print(f'  skipped {file}: {why}')
    return 0 if summary['images'] else 2


if __name__ == '__main__':
    sys.exit(main())

"""Detect objects on low-resolution images: SR (e.g. FDSR x4), then an unchanged mmdet detector.

    python tools/sr_detect.py CONFIG INPUT [INPUT ...] --out-dir DIR [--weights FILE]
        [--ann-file COCO_JSON] [--device cpu|cuda:0] [--batch-size N] [--score-thr 0.3]
        [--no-draw | --draw-on lr|sr] [--save-sr]

CONFIG: an SR + detector config (configs/sr_detectors/*.py; any mmdet detector config works too).
INPUT: image files, folders (searched recursively) or quoted glob patterns of LR images.
--weights: a packed SRDetector checkpoint (tools/pack_sr_detector.py); without it the SR and
detector checkpoints the config names are loaded.
--ann-file: the COCO json of the inputs (e.g. the LR json of tools/make_lr_coco.py): results then
use its image ids (matched by file_name) and category ids (matched by class name), so COCOeval
scores results.bbox.json against it; without it image ids are 1..N and category ids 1..K in the
order of the model's classes (images.json says which).

Writes to --out-dir (which must not be, or be inside, an input folder): vis/<image>.jpg (boxes
with class and score >= --score-thr drawn by mmdet's visualizer on the input image, or on the SR
image with --draw-on sr), sr/<image>.png with --save-sr, preds/<image>.json (one record per
finished image: a rerun skips the images an earlier run finished with the same model and
settings), results.bbox.json (COCO results: image_id, category_id, bbox [x, y, w, h] in input
pixels, score, file_name) and images.json (images, categories, ids, skipped files with reasons).
Inputs with the same name but another extension get distinct outputs (vis/a_png.jpg,
vis/a_jpg.jpg). Images that do not decode are reported by name and skipped. Faults are one
``sr_detect: error:`` line and exit code 2 (also when no image could be used); Ctrl-C is one
line, exit code 130, and a rerun continues.
"""
import argparse
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from mmengine.config import DictAction  # noqa: E402

from fdsr_mm.utils.cli_errors import run_tool  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='SR + detector config (configs/sr_detectors/*.py)')
    parser.add_argument('inputs', nargs='+', help='LR image files, folders or glob patterns')
    parser.add_argument('--out-dir', required=True, help='where drawings and results go')
    parser.add_argument('--weights', help='packed SRDetector checkpoint (optional)')
    parser.add_argument('--ann-file', help='COCO json of the inputs: its image and category '
                        'ids go into results.bbox.json')
    parser.add_argument('--device', default=None, help='cpu, cuda, cuda:1, ... (default: cuda '
                        'when available)')
    parser.add_argument('--batch-size', type=int, default=1, help='images per forward pass')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='keep (draw and write) detections with at least this score')
    draw = parser.add_mutually_exclusive_group()
    draw.add_argument('--no-draw', action='store_true', help='write results only')
    draw.add_argument('--draw-on', choices=('lr', 'sr'), default='lr',
                      help='draw the boxes on the input image (lr, default) or on the SR image '
                      'the detector saw (sr: readable on small inputs)')
    parser.add_argument('--save-sr', action='store_true',
                        help='also save the SR images (lossless PNG) to OUT_DIR/sr/')
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
    """Run the tool; faults raise (see :func:`fdsr_mm.utils.run_tool`). Returns 2 when no image
    could be used, else 0."""
    args = parse_args(argv)
    import torch

    import fdsr_mm  # noqa: F401  (registers SRDetector and the generators)
    from fdsr_mm.apis.inferencers import SRDetInferencer, list_images
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    files = list_images(args.inputs, out_dir=args.out_dir)  # bad inputs: before the model
    inferencer = SRDetInferencer(args.config, args.weights, device,
                                 show_progress=not args.no_progress, cfg_options=args.cfg_options)
    summary = inferencer(files, batch_size=args.batch_size, out_dir=args.out_dir,
                         pred_score_thr=args.score_thr, no_save_vis=args.no_draw,
                         draw_on=args.draw_on, save_sr=args.save_sr,
                         ann_file=args.ann_file)['summary']
    reused = f" ({summary['reused']} finished by an earlier run)" if summary['reused'] else ''
    print(f"\n{summary['images']} images{reused}, {summary['detections']} detections (score "
          f">= {args.score_thr}), {len(summary['skipped'])} skipped -> {args.out_dir}")
    for file, why in summary['skipped']:
        print(f'  skipped {file}: {why}')
    return 0 if summary['images'] else 2


#: Besides run_tool's faults: a registry name or checkpoint key that does not exist.
EXTRA_FAULTS = (KeyError,)

if __name__ == '__main__':
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc
    tune_cpu_malloc()  # freed tensor memory stays in the process (FDSR_MM_MALLOC=default: off)
    sys.exit(run_tool('sr_detect', main, EXTRA_FAULTS))

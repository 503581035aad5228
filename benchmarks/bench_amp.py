"""Mixed precision (issue 22): what bfloat16 autocast gives D-DBPN on this machine, and what it
costs in PSNR.

    python benchmarks/bench_amp.py [--threads 1] [--repeats 3] [--device cpu|cuda]
        [--lr-size 64] [--step-hr-size 160]
        [--sr-config CFG --sr-checkpoint CKPT --images DIR [--num-images 20]]
        [--out docs/benchmarks/X.md]

Speed rows (same weights, median of ``--repeats`` after a warm-up): D-DBPN x4 forward on a 64 px
LR image and one FDSR training step (D-DBPN + the frozen R50-C4 prior, HR 160 / LR 40, batch 1
by default;
the forward and loss under autocast, the backward outside it, as ``BF16AutocastOptimWrapper``
runs them), float32 against bfloat16 (and float16 on a GPU).

PSNR rows: an SR model (``--sr-config``/``--sr-checkpoint``: trained weights, e.g. a study's
FDSR) super-resolves the HR images of ``--images`` after the training degradation (MATLAB-like
bicubic x1/4), in float32 and under autocast, as ``cascade_eval.py --sr-amp`` and
``SRDetector(sr.amp=...)`` do; both are scored against HR (RGB PSNR, shave 4), and the autocast
SR against the float32 SR. Without a trained model only the speed rows are printed.
"""
import argparse
import glob
import os.path as osp

import numpy as np
import torch

from _bench_common import median_seconds, write_record  # benchmarks/ (the script's folder)

SCALE = 4


def speed_rows(device: str, repeats: int, dtypes, lr_size: int = 64, step_hr: int = 160):
    from fdsr_mm.models import DBPN
    from fdsr_mm.models.losses import DetectorFeatureLoss
    net = DBPN().to(device)
    prior = DetectorFeatureLoss('mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py',
                                checkpoint=None).to(device)
    x = torch.rand(1, 3, lr_size, lr_size, device=device)
    lr_crop = torch.rand(1, 3, step_hr // SCALE, step_hr // SCALE, device=device)
    hr_crop = torch.rand(1, 3, step_hr, step_hr, device=device)

    def sync():
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    def forward(dtype):
        @torch.no_grad()
        def run():
            with torch.autocast(device.split(':')[0], dtype=dtype, enabled=dtype is not None):
                net.eval()(x)
            sync()
        return run

    def step(dtype):
        def run():
            with torch.autocast(device.split(':')[0], dtype=dtype, enabled=dtype is not None):
                sr = net.train()(lr_crop)
                loss = 0.5 * (sr - hr_crop).abs().mean() + prior(sr, hr_crop)
            loss.float().backward()
            sync()
        return run

    rows = []
    for what, make in ((f'D-DBPN x4 forward (LR {lr_size})', forward),
                       (f'FDSR step (batch 1, HR {step_hr})', step)):
        base = median_seconds(make(None), repeats)
        rows.append((what, 'float32', base, ''))
        for dtype in dtypes:
            sec = median_seconds(make(dtype), repeats)
            rows.append((what, str(dtype).split('.')[-1], sec, f'{base / sec:.2f}x'))
    return rows


def psnr_rows(args, dtypes):
    import mmcv
    from fdsr_mm.apis import super_resolve_image
    from fdsr_mm.datasets import bicubic_downsample
    from fdsr_mm.evaluation.image_quality import image_quality
    from fdsr_mm.models.generators import build_sr_generator
    gen = build_sr_generator(args.sr_config, args.sr_checkpoint).to(args.device)
    files = sorted(glob.glob(osp.join(args.images, '*.png')) +
                   glob.glob(osp.join(args.images, '*.jpg')))[:args.num_images]
    if not files:
        raise SystemExit(f'bench_amp: no .png/.jpg image in {args.images}')
    scores = {name: [] for name in ['float32', *dtypes]}
    against_fp32 = {name: [] for name in dtypes}
    for f in files:
        hr = mmcv.imread(f, channel_order='rgb')
        hr = hr[:hr.shape[0] // SCALE * SCALE, :hr.shape[1] // SCALE * SCALE]
        lr = bicubic_downsample(hr, SCALE)
        ref = super_resolve_image(gen, lr, SCALE, device=args.device)
        scores['float32'].append(image_quality(ref, hr, SCALE, ['psnr'])['psnr'])
        for name in dtypes:
            sr = super_resolve_image(gen, lr, SCALE, device=args.device, amp=name)
            scores[name].append(image_quality(sr, hr, SCALE, ['psnr'])['psnr'])
            against_fp32[name].append(image_quality(sr, ref, SCALE, ['psnr'])['psnr'])
    base = float(np.mean(scores['float32']))
    rows = [('float32', base, '', '')]
    for name in dtypes:
        mean = float(np.mean(scores[name]))
        rows.append((name, mean, f'{mean - base:+.3f}', f'{np.mean(against_fp32[name]):.1f}'))
    return rows, len(files)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', default='cpu')
    p.add_argument('--lr-size', type=int, default=64, help='LR side of the forward row')
    p.add_argument('--step-hr-size', type=int, default=160, help='HR crop side of the step row')
    p.add_argument('--sr-config')
    p.add_argument('--sr-checkpoint')
    p.add_argument('--images', help='folder of HR images (.png/.jpg) for the PSNR rows')
    p.add_argument('--num-images', type=int, default=20)
    p.add_argument('--out', help='also write the tables (Markdown) to this file')
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    import fdsr_mm  # noqa: F401  (registers the models)
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc
    tune_cpu_malloc()  # as the tools run
    cuda = args.device.startswith('cuda')
    speed_types = (torch.bfloat16, torch.float16) if cuda else (torch.bfloat16, )
    lines = [f'torch {torch.__version__}, device {args.device}, {args.threads} thread(s), '
             f'median of {args.repeats}', '', '| row | type | seconds | speed-up |',
             '|---|---|---|---|']
    for what, name, sec, up in speed_rows(args.device, args.repeats, speed_types, args.lr_size,
                                          args.step_hr_size):
        lines.append(f'| {what} | {name} | {sec:.4f} | {up} |')
        print(lines[-1], flush=True)
    if args.sr_config and args.sr_checkpoint and args.images:
        amp_types = ['bfloat16', 'float16'] if cuda else ['bfloat16']
        rows, n = psnr_rows(args, amp_types)
        lines += ['', f'SR of {n} images of {args.images} by {args.sr_config} '
                  f'({args.sr_checkpoint}), x{SCALE}, RGB PSNR with shave {SCALE}:', '',
                  '| SR type | PSNR vs HR (dB) | difference | PSNR vs float32 SR (dB) |',
                  '|---|---|---|---|']
        for name, mean, diff, vs in rows:
            lines.append(f'| {name} | {mean:.3f} | {diff} | {vs} |')
            print(lines[-1], flush=True)
    write_record(args.out, lines)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

"""D-DBPN's speed against this machine's own limit (issue 22): counted FLOPs and achieved GFLOP/s,
each as a fraction of the matrix-product rate measured in the same run.

    python benchmarks/bench_efficiency.py [--threads 1] [--repeats 3] [--lr-size 64]
                                          [--step-batch 1] [--out docs/benchmarks/X.md]

Rows (FLOPs counted with ``torch.utils.flop_counter``; a multiply-add is 2 FLOPs):

* ``matmul``: a 2048 x 2048 fp32 matrix product, the reference rate;
* ``conv3x3`` and ``conv k8 s4`` (a down-projection) on 64 channels, and ``deconv k8 s4`` (an
  up-projection), native and as phase convolutions of the same weights;
* ``D-DBPN x4 forward`` on an LR image of ``--lr-size`` px, native and phase;
* ``FDSR step``: D-DBPN forward + backward with the frozen R50-C4 prior (random weights; the
  cost is the same) on ``--step-batch`` HR crops of 160 px, native and phase;
* ``SR + Faster R-CNN R50-FPN``: D-DBPN (phase) then the detector's forward, one LR image.

Each time is the median of ``--repeats`` runs after one warm-up, native and phase interleaved.
Time on an idle machine: another job beside it makes the figures meaningless.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


def flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def kernels(ch: int = 64, lr: int = 64):
    from fdsr_mm.models.generators.phase_deconv import phase_conv_transpose2d
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    x_lr, x_hr = torch.randn(1, ch, lr, lr), torch.randn(1, ch, 4 * lr, 4 * lr)
    w3, w8, bias = torch.randn(ch, ch, 3, 3), torch.randn(ch, ch, 8, 8), torch.randn(ch)
    return [('matmul 2048', lambda: a @ b, None),
            ('conv3x3 64ch', lambda: F.conv2d(x_lr, w3, bias, padding=1), None),
            ('conv k8 s4 (down)', lambda: F.conv2d(x_hr, w8, bias, stride=4, padding=2), None),
            ('deconv k8 s4 (up), native',
             lambda: F.conv_transpose2d(x_lr, w8, bias, 4, 2), None),
            ('deconv k8 s4 (up), phase',
             lambda: phase_conv_transpose2d(x_lr, w8, bias, 4, 2), 'deconv k8 s4 (up), native')]


def ddbpn_rows(lr: int, batch: int):
    from fdsr_mm.models import DBPN
    from fdsr_mm.models.losses import DetectorFeatureLoss
    nets = {impl: DBPN(deconv_impl=impl).eval() for impl in ('native', 'phase')}
    nets['phase'].load_state_dict(nets['native'].state_dict())
    x = torch.rand(1, 3, lr, lr)
    prior = DetectorFeatureLoss('mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py',
                                checkpoint=None)
    lr_crop, hr_crop = torch.rand(batch, 3, 40, 40), torch.rand(batch, 3, 160, 160)

    def step(net):
        def run():
            sr = net(lr_crop)
            loss = 0.5 * (sr - hr_crop).abs().mean() + prior(sr, hr_crop)
            loss.backward()
        return run

    def forward(net):
        @torch.no_grad()
        def run():
            net(x)
        return run

    rows = []
    for impl in ('native', 'phase'):
        base = None if impl == 'native' else 'D-DBPN x4 forward, native'
        rows.append((f'D-DBPN x4 forward, {impl}', forward(nets[impl]), base))
    for impl in ('native', 'phase'):
        base = None if impl == 'native' else 'FDSR step, native'
        rows.append((f'FDSR step, {impl}', step(nets[impl].train()), base))
    return rows, nets['phase'].eval()


def detection_row(generator, lr: int):
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope
    from mmdet.registry import MODELS
    cfg: Config = get_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        det = MODELS.build(cfg.model).eval()
    x = torch.rand(1, 3, lr, lr)

    @torch.no_grad()
    def run():
        det.extract_feat(generator(x) * 255.)  # backbone + FPN; heads are a small share
    return [('SR + Faster R-CNN R50-FPN features', run, None)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--lr-size', type=int, default=64)
    p.add_argument('--step-batch', type=int, default=1)
    p.add_argument('--out', help='also write the table (Markdown) to this file')
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    import fdsr_mm  # noqa: F401  (registers the models)
    rows, generator = ddbpn_rows(args.lr_size, args.step_batch)
    rows = kernels() + rows + detection_row(generator, args.lr_size)
    results = {}
    ref_rate = None
    lines = ['| row | GFLOP | seconds | GFLOP/s | of matmul | speed-up |', '|---|---|---|---|---|---|']
    for name, fn, base in rows:
        gflop = flops(fn) / 1e9
        sec = median_seconds(fn, args.repeats)
        results[name] = sec
        rate = gflop / sec
        ref_rate = ref_rate or rate  # the first row, the matrix product
        up = f'{results[base] / sec:.2f}x' if base else ''
        lines.append(f'| {name} | {gflop:.2f} | {sec:.4f} | {rate:.1f} | {rate / ref_rate:.0%} | '
                     f'{up} |')
        print(lines[-1], flush=True)
    header = (f'torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats}, '
              f'LR {args.lr_size} px, FDSR step batch {args.step_batch} (HR 160 / LR 40)')
    print(header)
    if args.out:
        from fdsr_mm.utils.io import atomic_write_text
        atomic_write_text(args.out, '\n'.join([header, ''] + lines) + '\n')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

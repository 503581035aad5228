"""D-DBPN's speed against this machine's own limit (issue 22): counted FLOPs and achieved GFLOP/s,
each as a fraction of the matrix-product rate measured in the same run, before and after.

    python benchmarks/bench_efficiency.py [--threads 1] [--repeats 3] [--lr-size 64]
                                          [--step-batch 1] [--out docs/benchmarks/X.md]

"Before" is the code as it was: NCHW feature maps and glibc's allocator as it comes. "After" is
what the tools run now: channels-last maps (``DBPN(channels_last=True)``, the default) and the
allocator of :func:`fdsr_mm.utils.cpu_malloc.tune_cpu_malloc`. Both in one process: first every
row with the allocator untouched, then the model rows again after ``tune_cpu_malloc()``.

Rows (FLOPs counted with ``torch.utils.flop_counter``; a multiply-add is 2 FLOPs):

* ``matmul``: a 2048 x 2048 fp32 matrix product, the reference rate;
* ``conv3x3`` and ``conv k8 s4`` (a down-projection) on 64 channels, and ``deconv k8 s4`` (an
  up-projection): NCHW, NHWC, and as phase convolutions of the same weights;
* ``D-DBPN x4 forward`` on an LR image of ``--lr-size`` px: NCHW, NHWC, phase;
* ``FDSR step``: D-DBPN forward + backward with the frozen R50-C4 prior (random weights; the
  cost is the same) on ``--step-batch`` HR crops of 160 px: NCHW, NHWC, phase;
* ``SR + Faster R-CNN R50-FPN features``: D-DBPN then the detector's backbone and neck.

Each time is the median of ``--repeats`` runs after one warm-up. "speed-up" is over the row's
"before" (NCHW, allocator untouched). Time on an idle machine: another job beside it makes the
figures meaningless.
"""
import argparse

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from _bench_common import median_seconds, write_record  # benchmarks/ (the script's folder)

CL = torch.channels_last
#: The D-DBPN variants compared, all with the same weights: DBPN keyword arguments.
LAYOUTS = {'NCHW': dict(channels_last=False), 'NHWC': dict(channels_last=True),
           'phase': dict(deconv_impl='phase')}


def flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def kernels(ch: int = 64, lr: int = 64):
    from fdsr_mm.models.generators.phase_deconv import phase_conv_transpose2d
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    x_lr, x_hr = torch.randn(1, ch, lr, lr), torch.randn(1, ch, 4 * lr, 4 * lr)
    x_lr_cl = x_lr.contiguous(memory_format=CL)
    w3, w8, bias = torch.randn(ch, ch, 3, 3), torch.randn(ch, ch, 8, 8), torch.randn(ch)
    up = 'deconv k8 s4 (up), NCHW'
    return [('matmul 2048', lambda: a @ b, None),
            ('conv3x3 64ch', lambda: F.conv2d(x_lr, w3, bias, padding=1), None),
            ('conv k8 s4 (down)', lambda: F.conv2d(x_hr, w8, bias, stride=4, padding=2), None),
            (up, lambda: F.conv_transpose2d(x_lr, w8, bias, 4, 2), None),
            ('deconv k8 s4 (up), NHWC', lambda: F.conv_transpose2d(x_lr_cl, w8, bias, 4, 2), up),
            ('deconv k8 s4 (up), phase', lambda: phase_conv_transpose2d(x_lr, w8, bias, 4, 2), up)]


def build_nets():
    from fdsr_mm.models import DBPN
    nets = {name: DBPN(**kw) for name, kw in LAYOUTS.items()}
    for net in nets.values():
        net.load_state_dict(nets['NCHW'].state_dict())
    return nets


def model_rows(nets, lr: int, batch: int, layouts, with_detector: bool = True):
    """(name, fn, base name) of D-DBPN forward, the FDSR step and SR + detector features."""
    from fdsr_mm.models.losses import DetectorFeatureLoss
    x = torch.rand(1, 3, lr, lr)
    prior = DetectorFeatureLoss('mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py',
                                checkpoint=None)
    lr_crop, hr_crop = torch.rand(batch, 3, 40, 40), torch.rand(batch, 3, 160, 160)

    def forward(net):
        @torch.no_grad()
        def run():
            net.eval()(x)
        return run

    def step(net):
        def run():
            sr = net.train()(lr_crop)
            loss = 0.5 * (sr - hr_crop).abs().mean() + prior(sr, hr_crop)
            loss.backward()
        return run

    rows = []
    for what, make in (('D-DBPN x4 forward', forward), ('FDSR step', step)):
        rows += [(f'{what}, {name}', make(nets[name]), f'{what}, NCHW') for name in layouts]
    if with_detector:
        det = detector_features()
        for name in ('NCHW', 'NHWC'):
            if name in layouts:
                rows.append((f'SR + Faster R-CNN R50-FPN features, {name}',
                             sr_then_detect(nets[name], det, x),
                             'SR + Faster R-CNN R50-FPN features, NCHW'))
    return rows


def detector_features():
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope
    from mmdet.registry import MODELS
    cfg: Config = get_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(cfg.model).eval()


def sr_then_detect(generator, det, x):
    @torch.no_grad()
    def run():
        det.extract_feat(generator.eval()(x) * 255.)  # backbone + FPN; heads are a small share
    return run


def measure(rows, repeats, suffix, results, lines, ref_rate=None):
    """Time ``rows``; append table lines; return the matmul rate (the first row's)."""
    for name, fn, base in rows:
        gflop = flops(fn) / 1e9
        sec = median_seconds(fn, repeats)
        label = name + suffix
        results[label] = sec
        rate = gflop / sec
        ref_rate = ref_rate or rate
        up = f'{results[base] / sec:.2f}x' if base and base in results and base != label else ''
        lines.append(f'| {label} | {gflop:.2f} | {sec:.4f} | {rate:.1f} | {rate / ref_rate:.0%} '
                     f'| {up} |')
        print(lines[-1], flush=True)
    return ref_rate


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
    from fdsr_mm.utils.cpu_malloc import skip_reason, tune_cpu_malloc
    nets = build_nets()
    results, lines = {}, ['| row | GFLOP | seconds | GFLOP/s | of matmul | speed-up |',
                          '|---|---|---|---|---|---|']
    ref = measure(kernels() + model_rows(nets, args.lr_size, args.step_batch, LAYOUTS),
                  args.repeats, '', results, lines)
    tuned = tune_cpu_malloc()
    note = 'malloc tuned' if tuned else f'malloc not tuned: {skip_reason()}'
    measure(model_rows(nets, args.lr_size, args.step_batch, ('NCHW', 'NHWC')), args.repeats,
            f', {note}', results, lines, ref)
    header = (f'torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats}, '
              f'LR {args.lr_size} px, FDSR step batch {args.step_batch} (HR 160 / LR 40); rows '
              f'without a malloc note ran with glibc as it comes, then tune_cpu_malloc()')
    print(header)
    write_record(args.out, [header, ''] + lines)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

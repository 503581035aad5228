"""Peak memory of one FDSR training step at the paper's batch (issue 22), and what activation
checkpointing (``DBPN(with_cp=True)``) and bfloat16 autocast save.

    python benchmarks/bench_memory.py [--batch 8] [--hr-size 160] [--threads 1]
                                      [--device cpu|cuda] [--amp-dtype bfloat16|float16]
                                      [--out docs/benchmarks/X.md]

One step = D-DBPN x4 forward on ``--batch`` LR crops (``--hr-size`` / 4 px), the FDSR loss
(0.5 L1 + the frozen R50-C4 prior's feature MSE, random weights: the memory is the same) and its
backward. Each variant runs in a fresh process (a process's peak is its own):

- CPU: the peak resident set of the process (``ru_maxrss``) and its growth over the resident set
  after building the models (the step's own memory), with ``tune_cpu_malloc()`` as the tools run;
- GPU: ``torch.cuda.max_memory_allocated`` over the step, and its growth over the models.

Also the step's wall time (one step, no warm-up: an indication of checkpointing's recompute).
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time

from _bench_common import write_record  # benchmarks/ (the script's folder)

VARIANTS = {'float32': dict(with_cp=False, amp=False),
            'float32, with_cp': dict(with_cp=True, amp=False),
            'autocast': dict(with_cp=False, amp=True),
            'autocast, with_cp': dict(with_cp=True, amp=True)}


def rss_bytes() -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return 0


def child(args) -> dict:
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    import fdsr_mm  # noqa: F401
    from fdsr_mm.models import DBPN
    from fdsr_mm.models.losses import DetectorFeatureLoss
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc
    tune_cpu_malloc()
    v = VARIANTS[args.child]
    dev = args.device
    net = DBPN(with_cp=v['with_cp']).to(dev).train()
    prior = DetectorFeatureLoss('mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py',
                                checkpoint=None).to(dev)
    lr = torch.rand(args.batch, 3, args.hr_size // 4, args.hr_size // 4, device=dev)
    hr = torch.rand(args.batch, 3, args.hr_size, args.hr_size, device=dev)
    cuda = dev.startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = rss_bytes()
    t = time.perf_counter()
    with torch.autocast(dev.split(':')[0], dtype=getattr(torch, args.amp_dtype),
                        enabled=v['amp']):
        sr = net(lr)
        loss = 0.5 * (sr - hr).abs().mean() + prior(sr, hr)
    loss.float().backward()
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(base=base, peak=peak, seconds=time.perf_counter() - t,
                finite=bool(torch.isfinite(loss).item()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--hr-size', type=int, default=160)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--amp-dtype', choices=('bfloat16', 'float16'), default='bfloat16',
                   help='the autocast type (--amp trains in bfloat16 on a CPU, float16 on a GPU)')
    p.add_argument('--variants', nargs='+', choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument('--out', help='also write the table (Markdown) to this file')
    p.add_argument('--child', choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    gib = 1 << 30
    what = 'peak RSS' if args.device == 'cpu' else 'max_memory_allocated'
    lines = [f'One FDSR step (D-DBPN x4 + R50-C4 prior), batch {args.batch} of {args.hr_size} px '
             f'HR crops, device {args.device}, {args.threads} thread(s)', '',
             f'| variant | {what} (GiB) | the step over the built models (GiB) | saved | '
             'step seconds |', '|---|---|---|---|---|']
    first = None
    for name in args.variants:
        cmd = [sys.executable, osp.abspath(__file__), '--child', name, '--batch', str(args.batch),
               '--hr-size', str(args.hr_size), '--threads', str(args.threads),
               '--device', args.device, '--amp-dtype', args.amp_dtype]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        step = r['peak'] - r['base']
        first = first or step
        saved = f'{1 - step / first:.0%}' if step != first else ''
        label = name.replace('autocast', f'{args.amp_dtype} autocast')
        lines.append(f"| {label} | {r['peak'] / gib:.2f} | {step / gib:.2f} | {saved} | "
                     f"{r['seconds']:.1f} |" + ('' if r['finite'] else ' (loss not finite)'))
        print(lines[-1], flush=True)
    write_record(args.out, lines)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

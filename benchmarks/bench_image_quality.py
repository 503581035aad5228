"""Cost of the cascade's image-quality metrics per SR image, before and after sharing FSIM's work.

    python benchmarks/bench_image_quality.py [--num-images 20] [--methods 4] [--size 256]
                                             [--threads 1] [--repeats 3]

The cascade scores every SR method's images against the same HR images with PSNR, PSNR-Y, SSIM,
FSIM and FSIMc (``shave = 4``). Three ways, on the same synthetic pairs (an HR image, and per
method a distorted copy), in interleaved rounds:

* ``separate``: the metrics one by one, as before: ``piq.fsim`` twice per pair (FSIM, FSIMc), each
  computing the phase congruency maps of both images;
* ``one_pass``: :func:`fdsr_mm.evaluation.image_quality`: FSIM and FSIMc from one pass of piq's
  steps (each image's maps once per pair);
* ``shared_hr``: the same with a :class:`~fdsr_mm.evaluation.ReferenceMaps`, as the cascade runs
  it: each HR image's maps once for all methods.

Every number of the three must be equal (checked, exit 1 otherwise). Printed: seconds per scored
pair (median over rounds) and the speed-up of each way over ``separate``, one JSON line each.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch


def pairs(num_images: int, num_methods: int, size: int):
    """HR images and, per method, a distorted copy (noise and a shift that grow with the
    method index): (H, W, 3) uint8 RGB."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    hrs = []
    for i in range(num_images):
        base = np.stack([(xx * (i + 2)) % 256, (yy * 3 + i) % 256, (xx + yy) % 256], -1)
        hrs.append(np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8))
    srs = [[np.clip(np.roll(h, m + 1, axis=1).astype(int) + rng.integers(-8 * (m + 1),
                                                                        8 * (m + 1) + 1, h.shape),
                    0, 255).astype(np.uint8) for h in hrs] for m in range(num_methods)]
    return hrs, srs


def score_all(way: str, hrs, srs, shave: int = 4):
    from fdsr_mm.evaluation import ReferenceMaps, fsim, image_quality, psnr_rgb, psnr_y, ssim_rgb
    reference = ReferenceMaps() if way == 'shared_hr' else None
    out = []
    for method in srs:
        for i, (sr, hr) in enumerate(zip(method, hrs)):
            if way == 'separate':
                out.append(dict(psnr=psnr_rgb(sr, hr, shave), psnr_y=psnr_y(sr, hr, shave),
                                ssim=ssim_rgb(sr, hr, shave), fsim=fsim(sr, hr, shave),
                                fsimc=fsim(sr, hr, shave, chromatic=True)))
            else:
                out.append(image_quality(sr, hr, shave, reference=reference,
                                         key=f'{i}.png' if reference is not None else None))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--num-images', type=int, default=20)
    p.add_argument('--methods', type=int, default=4, help='SR methods scored on each HR image')
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    hrs, srs = pairs(args.num_images, args.methods, args.size)
    ways = ('separate', 'one_pass', 'shared_hr')
    score_all('one_pass', hrs[:1], [m[:1] for m in srs])  # warm-up (imports, first FFT plans)
    seconds = {w: [] for w in ways}
    results = {}
    for _ in range(args.repeats):
        for way in ways:
            t0 = time.perf_counter()
            results[way] = score_all(way, hrs, srs)
            seconds[way].append(time.perf_counter() - t0)
    if not (results['separate'] == results['one_pass'] == results['shared_hr']):
        print('the three ways gave different numbers', file=sys.stderr)
        return 1
    num_pairs = args.num_images * args.methods
    base = statistics.median(seconds['separate'])
    for way in ways:
        med = statistics.median(seconds[way])
        print(json.dumps(dict(way=way, seconds_per_pair=round(med / num_pairs, 4),
                              speedup_vs_separate=round(base / med, 2),
                              rounds=[round(s, 2) for s in seconds[way]], pairs=num_pairs,
                              images=args.num_images, methods=args.methods, size=args.size,
                              threads=args.threads, equal_numbers=True)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

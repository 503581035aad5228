"""Forward time and peak memory of DBPN x4 variants at a few LR sizes, whole vs tiled.

    python benchmarks/bench_dbpn_inference.py [--threads 2] [--sizes 24x32 48x64 96x128]

Peak memory is the process's peak RSS growth while the forward runs (CPU), measured in a fresh
child process per case so one case's allocations do not hide another's.
"""
import argparse
import json
import multiprocessing as mp
import resource
import time

VARIANTS = {
    'D-DBPN (256/64, T=7, dense)': dict(),
    'DBPN-M-like (128/32, T=4, dense)': dict(mid_channels=128, base_channels=32, num_stages=4),
    'DBPN-S-like (64/18, T=2, plain)': dict(mid_channels=64, base_channels=18, num_stages=2,
                                          dense=False),
}


def _case(q, variant, size, tile, threads, repeats):
    import torch
    torch.set_num_threads(threads)
    from fdsr_mm.apis import super_resolve_tensor
    from fdsr_mm.models import DBPN
    torch.manual_seed(0)
    net = DBPN(scale=4, **VARIANTS[variant]).eval()
    lr = torch.rand(1, 3, *size)
    super_resolve_tensor(net, lr[..., :8, :8], 4)  # warm-up
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        super_resolve_tensor(net, lr, 4, tile=tile, tile_pad=8)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    q.put(dict(variant=variant, lr=f'{size[0]}x{size[1]}', tile=tile or '-',
               seconds=min(times), peak_mib=peak / 1024))


def run(variant, size, tile, threads, repeats):
    q = mp.get_context('fork').Queue()
    p = mp.get_context('fork').Process(target=_case, args=(q, variant, size, tile, threads,
                                                           repeats))
    p.start()
    result = q.get()
    p.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--sizes', nargs='+', default=['24x32', '48x64', '96x128'])
    parser.add_argument('--tile', type=int, default=32, help='LR tile for the tiled rows')
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--json', help='also write the rows to this file')
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split('x')) for s in args.sizes]
    rows = []
    print(f'{"variant":34s} {"LR":>8s} {"tile":>5s} {"seconds":>8s} {"peak MiB":>9s}')
    for variant in VARIANTS:
        for size in sizes:
            for tile in (None, args.tile):
                if tile is not None and max(size) <= tile:
                    continue
                r = run(variant, size, tile, args.threads, args.repeats)
                rows.append(r)
                print(f'{r["variant"]:34s} {r["lr"]:>8s} {str(r["tile"]):>5s} '
                      f'{r["seconds"]:8.3f} {r["peak_mib"]:9.1f}', flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()

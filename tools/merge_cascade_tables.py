"""Merge per-detector cascade results into the FDSR paper's Table 2 (detectors x methods AP).

Example::

    python tools/merge_cascade_tables.py results/faster_r101/results.json \\
        results/retinanet_r50/results.json results/cascade_r50/results.json \\
        --methods hr bicubic dbpn fdsr --out-dir results/table2

Writes ``table2.md``, ``table2.csv`` and ``table2.json`` (the merged results) atomically.
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('results', nargs='+', help='results.json files of tools/cascade_eval.py')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--methods', nargs='+', help='column order (default: first seen)')
    args = parser.parse_args(argv)
    from fdsr_mm.evaluation import merge_tables
    paths = merge_tables(args.results, args.out_dir, args.methods)
    with open(paths['markdown']) as f:
        print(f.read())
    return 0


if __name__ == '__main__':
    sys.exit(main())

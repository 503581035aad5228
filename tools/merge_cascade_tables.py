"""Merge per-detector cascade results into the FDSR paper's Table 2 (detectors x methods AP).

Example::

    python tools/merge_cascade_tables.py results/faster_r101/results.json \\
        results/retinanet_r50/results.json results/cascade_r50/results.json \\
        --methods hr bicubic dbpn fdsr --out-dir results/table2

Writes ``table2.md``, ``table2.csv`` and ``table2.json`` (the merged results) atomically.
Results made under different settings (scale, degradation, HR size, image set, tiling, an SR
method's weights) are refused with one error line naming both files; ``--allow-mixed-settings``
merges them and states each row's settings under the table.
"""
import argparse
import sys

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('results', nargs='+', help='results.json files of tools/cascade_eval.py')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--methods', nargs='+', help='column order (default: first seen)')
    parser.add_argument('--allow-mixed-settings', action='store_true',
                        help='merge results made under different settings (scale, '
                             "degradation, images, ...) and state each row's settings")
    args = parser.parse_args(argv)
    from fdsr_mm.evaluation import merge_tables
    paths = merge_tables(args.results, args.out_dir, args.methods, args.allow_mixed_settings)
    with open(paths['markdown']) as f:
        print(f.read())
    return 0


if __name__ == '__main__':
    from fdsr_mm.utils import run_tool
    sys.exit(run_tool('merge_cascade_tables', main))

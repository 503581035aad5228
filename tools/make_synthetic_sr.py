"""Write a deterministic synthetic SR dataset (HR PNG images) for the demo and tests.

    python tools/make_synthetic_sr.py data/synthetic_sr --train 64 --val 8 --size 128
writes data/synthetic_sr/train/*.png and data/synthetic_sr/val/*.png (RGB, uint8). LR images
are made on the fly by the configs (MATLAB-like bicubic x4), as in training on real data.
"""
import argparse
import os.path as osp

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from fdsr_mm.datasets.synthetic_images import write_synthetic_images  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='dataset root (train/ and val/ are created in it)')
    parser.add_argument('--train', type=int, default=64, help='number of training images')
    parser.add_argument('--val', type=int, default=8, help='number of validation images')
    parser.add_argument('--size', type=int, nargs='+', default=[128],
                        help='image size: S (square) or H W')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    size = tuple(args.size * 2 if len(args.size) == 1 else args.size[:2])
    # Different seeds for the splits so validation images are never training images.
    train = write_synthetic_images(osp.join(args.out_dir, 'train'), args.train, size, args.seed)
    val = write_synthetic_images(osp.join(args.out_dir, 'val'), args.val, size, args.seed + 1)
    print(f'wrote {len(train)} train and {len(val)} val images of size {size} to {args.out_dir}')


if __name__ == '__main__':
    main()

"""Select the FDSR paper's SR training set from COCO and write it as MMagic annotation lists.

The paper (Sec. 3.1) fine-tunes on 20k random COCO train2017 images "whose length and width are
both bigger than 384 pixels". This writes, one file name per line (the format of MMagic's
``BasicImageDataset`` ``ann_file``):

    <data_root>/annotations/fdsr_sr_train20k.txt   20000 train2017 images, both sides > 384
    <data_root>/annotations/fdsr_sr_val100.txt     100 val2017 images for PSNR/SSIM during training

Image sizes come from ``annotations/instances_{train,val}2017.json`` when present (no image is
read), else from the image file headers. The selection is a fixed-seed random sample, written in
sorted order; the same COCO copy and seed always give the same lists. Files are written
atomically. The cascade (detection) evaluation uses the whole of val2017, not this list.

Usage:
    python tools/prepare_coco_sr.py data/coco [--num-train 20000] [--num-val 100] [--seed 0]
"""
import argparse
import json
import os
import os.path as osp
import random
import sys
import tempfile

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('data_root', nargs='?', default='data/coco',
                   help='COCO root holding train2017/, val2017/ and annotations/ (default: data/coco, '
                        'the data_root of configs/_base_/datasets/coco_sr_x4.py)')
    p.add_argument('--num-train', type=int, default=20000)
    p.add_argument('--num-val', type=int, default=100)
    p.add_argument('--min-side', type=int, default=384,
                   help='train images need both sides strictly greater than this (default 384)')
    p.add_argument('--val-min-side', type=int, default=32,
                   help='val images need both sides >= this (scale x 8 for x4 SR)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--train-list', default='annotations/fdsr_sr_train20k.txt',
                   help='output, relative to data_root (the config\'s train_list)')
    p.add_argument('--val-list', default='annotations/fdsr_sr_val100.txt',
                   help='output, relative to data_root (the config\'s val_list)')
    return p.parse_args(argv)


def image_sizes(data_root: str, split: str) -> dict:
    """``{file_name: (width, height)}`` for ``<data_root>/<split>``, from the COCO json if present."""
    img_dir = osp.join(data_root, split)
    if not osp.isdir(img_dir):
        raise FileNotFoundError(
            f'COCO images not found: {img_dir} does not exist. Download {split}.zip from '
            f'https://cocodataset.org and unpack it so that {img_dir}/*.jpg exist, or pass the '
            'COCO root as the first argument (and set data_root in your config to match).')
    ann = osp.join(data_root, 'annotations', f'instances_{split}.json')
    if osp.isfile(ann):
        with open(ann) as f:
            images = json.load(f)['images']
        sizes = {im['file_name']: (int(im['width']), int(im['height'])) for im in images}
        missing = [n for n in sizes if not osp.isfile(osp.join(img_dir, n))]
        if missing:
            raise FileNotFoundError(
                f'{ann} lists {len(missing)} images that are not in {img_dir} (e.g. {missing[:3]}). '
                f'Unpack the complete {split} image set there.')
        return sizes
    from PIL import Image
    sizes = {}
    for name in sorted(os.listdir(img_dir)):
        if name.lower().endswith(IMAGE_EXTS):
            try:
                with Image.open(osp.join(img_dir, name)) as im:
                    sizes[name] = im.size
            except OSError as e:
                print(f'[prepare_coco_sr] skipping unreadable image {osp.join(img_dir, name)}: {e}',
                      file=sys.stderr)
    if not sizes:
        raise FileNotFoundError(f'No images ({", ".join(IMAGE_EXTS)}) in {img_dir}.')
    return sizes


def select(sizes: dict, num: int, min_side: int, seed: int, strict_greater: bool, what: str):
    """A sorted, fixed-seed random sample of ``num`` names whose sides pass the size filter."""
    ok = sorted(n for n, (w, h) in sizes.items()
                if (min(w, h) > min_side if strict_greater else min(w, h) >= min_side))
    if len(ok) < num:
        rel = '>' if strict_greater else '>='
        raise ValueError(f'Only {len(ok)} of {len(sizes)} {what} images have both sides {rel} '
                         f'{min_side} px; {num} were asked for. Lower --num-{what} or --min-side.')
    return sorted(random.Random(seed).sample(ok, num)), len(ok)


def write_list(path: str, names) -> None:
    """Write one name per line, atomically (a crash never leaves a half-written list)."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path) or '.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(''.join(f'{n}\n' for n in names))
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        train_sizes = image_sizes(args.data_root, 'train2017')
        val_sizes = image_sizes(args.data_root, 'val2017')
        train, n_train_ok = select(train_sizes, args.num_train, args.min_side, args.seed, True,
                                   'train')
        val, _ = select(val_sizes, args.num_val, args.val_min_side, args.seed, False, 'val')
    except (FileNotFoundError, ValueError) as e:
        print(f'[prepare_coco_sr] error: {e}', file=sys.stderr)
        return 1
    train_path = osp.join(args.data_root, args.train_list)
    val_path = osp.join(args.data_root, args.val_list)
    write_list(train_path, train)
    write_list(val_path, val)
    print(f'[prepare_coco_sr] {len(train)} of {n_train_ok} train2017 images with both sides > '
          f'{args.min_side} px (of {len(train_sizes)}), seed {args.seed} -> {train_path}')
    print(f'[prepare_coco_sr] {len(val)} val2017 images -> {val_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

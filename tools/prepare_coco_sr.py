"""Select the FDSR paper's SR training set from COCO and write it as MMagic annotation lists.

The paper (Sec. 3.1) fine-tunes on 20k random COCO train2017 images "whose length and width are
both bigger than 384 pixels". This writes, one file name per line (the format of MMagic's
``BasicImageDataset`` ``ann_file``):

    <data_root>/annotations/fdsr_sr_train20k.txt   20000 train2017 images, both sides > 384
    <data_root>/annotations/fdsr_sr_val100.txt     100 val2017 images for PSNR/SSIM during training

Image sizes come from ``annotations/instances_{train,val}2017.json`` when present, else from the
image file headers. The selection is a fixed-seed random sample, written in sorted order; the same
COCO copy and seed always give the same lists. Files are written atomically. The cascade
(detection) evaluation uses the whole of val2017, not this list.

Every selected image is then decoded in full (a header that reads is not enough: a truncated JPEG
would crash training hours later) in ``--workers`` threads, with a progress line every 10 s. An
image that does not decode, or whose size is not the listed one, is left out, replaced by a
further draw of the same seeded generator, and reported (count and the first five names, with the
reason); without such images the lists are exactly those of ``--no-verify``, which skips the
check. Measured: 1.5-2 ms per 640x480 JPEG (80-145 KiB; Pillow 13, one thread, files in the page
cache) on a 2-core machine, i.e. 30-40 s for the 20,100 images; reading them from a cold disk may
take longer.

Faults (missing folders, an annotation json that is malformed or not COCO instances, too few
usable images, a list that cannot be written) are one ``error:`` line naming the file, exit
code 2; counts below 1 are usage errors (exit code 2).

Usage:
    python tools/prepare_coco_sr.py data/coco [--num-train 20000] [--num-val 100] [--seed 0]
                                              [--no-verify] [--workers 8]
"""
import argparse
import json
import os
import os.path as osp
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from fdsr_mm.utils.io import atomic_write_text  # noqa: E402

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')
LOG = '[prepare_coco_sr]'


def count(value: str) -> int:
    """argparse type of --num-train/--num-val/--workers: an integer >= 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{value!r} is not an integer') from None
    if n < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {n}')
    return n


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('data_root', nargs='?', default='data/coco',
                   help='COCO root holding train2017/, val2017/ and annotations/ (default: data/coco, '
                        'the data_root of configs/_base_/datasets/coco_sr_x4.py)')
    p.add_argument('--num-train', type=count, default=20000,
                   help='train images to list, >= 1 (an empty list would leave training nothing)')
    p.add_argument('--num-val', type=count, default=100, help='val images to list, >= 1')
    p.add_argument('--min-side', type=int, default=384,
                   help='train images need both sides strictly greater than this (default 384)')
    p.add_argument('--val-min-side', type=int, default=32,
                   help='val images need both sides >= this (scale x 8 for x4 SR)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--train-list', default='annotations/fdsr_sr_train20k.txt',
                   help='output, relative to data_root (the config\'s train_list)')
    p.add_argument('--val-list', default='annotations/fdsr_sr_val100.txt',
                   help='output, relative to data_root (the config\'s val_list)')
    p.add_argument('--no-verify', dest='verify', action='store_false',
                   help='do not decode the selected images (a corrupt one then stays in the list)')
    p.add_argument('--workers', type=count, default=min(8, os.cpu_count() or 1),
                   help='threads decoding images for the check (default: min(8, CPUs))')
    return p.parse_args(argv)


def sizes_from_json(ann: str, split: str) -> dict:
    """``{file_name: (width, height)}`` from a COCO instances json; errors name the file."""
    redo = f'Unpack {osp.basename(ann)} again from annotations_trainval2017.zip (cocodataset.org).'
    try:
        with open(ann, encoding='utf-8') as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{ann} is not valid JSON ({e.msg}: line {e.lineno} column {e.colno}, '
                         f'char {e.pos}); the file is probably truncated. {redo}') from None
    except UnicodeDecodeError as e:
        raise ValueError(f'{ann} is not UTF-8 text (byte {e.start}: {e.reason}). {redo}') from None
    images = data.get('images') if isinstance(data, dict) else None
    if not isinstance(images, list):
        got = (f'top-level keys {sorted(data)[:6]}' if isinstance(data, dict)
               else f'a JSON {type(data).__name__}')
        raise ValueError(f'{ann} has no "images" list ({got}): it is not a COCO instances_{split} '
                         f'file. {redo}')
    sizes = {}
    for i, im in enumerate(images):
        try:
            sizes[im['file_name']] = (int(im['width']), int(im['height']))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f'{ann}: images[{i}] = {str(im)[:120]} lacks a file_name, width or '
                             f'height. {redo}') from None
    return sizes


def sizes_from_headers(img_dir: str) -> dict:
    """``{file_name: (width, height)}`` from the image file headers (no pixel is decoded)."""
    from PIL import Image
    sizes = {}
    for name in sorted(os.listdir(img_dir)):
        if name.lower().endswith(IMAGE_EXTS):
            try:
                with Image.open(osp.join(img_dir, name)) as im:
                    sizes[name] = im.size
            except OSError as e:
                print(f'{LOG} skipping unreadable image {osp.join(img_dir, name)}: {e}',
                      file=sys.stderr)
    if not sizes:
        raise FileNotFoundError(f'No images ({", ".join(IMAGE_EXTS)}) in {img_dir}.')
    return sizes


def image_sizes(data_root: str, split: str) -> dict:
    """``{file_name: (width, height)}`` for ``<data_root>/<split>``, from the COCO json if present."""
    img_dir = osp.join(data_root, split)
    if not osp.isdir(img_dir):
        raise FileNotFoundError(
            f'COCO images not found: {img_dir} does not exist. Download {split}.zip from '
            f'https://cocodataset.org and unpack it so that {img_dir}/*.jpg exist, or pass the '
            'COCO root as the first argument (and set data_root in your config to match).')
    ann = osp.join(data_root, 'annotations', f'instances_{split}.json')
    if not osp.isfile(ann):
        return sizes_from_headers(img_dir)
    sizes = sizes_from_json(ann, split)
    missing = [n for n in sizes if not osp.isfile(osp.join(img_dir, n))]
    if missing:
        raise FileNotFoundError(
            f'{ann} lists {len(missing)} images that are not in {img_dir} (e.g. {missing[:3]}). '
            f'Unpack the complete {split} image set there.')
    return sizes


def eligible(sizes: dict, num: int, min_side: int, strict_greater: bool, what: str) -> list:
    """Sorted names whose sides pass the size filter; an error if fewer than ``num``."""
    ok = sorted(n for n, (w, h) in sizes.items()
                if (min(w, h) > min_side if strict_greater else min(w, h) >= min_side))
    if len(ok) < num:
        rel = '>' if strict_greater else '>='
        raise ValueError(f'Only {len(ok)} of {len(sizes)} {what} images have both sides {rel} '
                         f'{min_side} px; {num} were asked for. Lower --num-{what} or '
                         f'--{"min-side" if what == "train" else "val-min-side"}.')
    return ok


def decode_error(path: str, size) -> str:
    """'' if the image at ``path`` decodes completely to ``size`` (w, h), else why not."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()  # decodes every pixel: a truncated JPEG raises here, not at open
            got = im.size
    except Exception as e:  # noqa: BLE001  PIL raises OSError, SyntaxError, ValueError, ...
        return (str(e).strip().splitlines() or [type(e).__name__])[0]
    if size is not None and tuple(got) != tuple(size):
        return f'{got[0]}x{got[1]} px, but listed as {size[0]}x{size[1]}'
    return ''


def undecodable(img_dir: str, names: list, sizes: dict, workers: int, what: str) -> dict:
    """``{name: why}`` for the ``names`` that do not decode, with a progress line every 10 s."""
    bad = {}
    start = last = time.monotonic()
    pool = ThreadPoolExecutor(workers)  # PIL decodes without the GIL
    try:
        errors = pool.map(lambda n: decode_error(osp.join(img_dir, n), sizes.get(n)), names)
        for i, (name, why) in enumerate(zip(names, errors), 1):
            if why:
                bad[name] = why
            now = time.monotonic()
            if now - last >= 10 or i == len(names):
                last = now
                print(f'{LOG} decoding {what} images: {i}/{len(names)}, {len(bad)} bad, '
                      f'{now - start:.1f} s', flush=True)
    finally:  # on Ctrl-C, drop the queued images instead of decoding them all first
        pool.shutdown(wait=True, cancel_futures=True)
    return bad


def sample(ok: list, num: int, seed: int, check=None, where: str = ''):
    """A sorted, fixed-seed random sample of ``num`` of ``ok``; with ``check(names) -> {name:
    why}``, failing names are replaced by further draws of the same generator (no failures: the
    same sample as without ``check``). Returns ``(names, {bad name: why})``."""
    rng = random.Random(seed)
    pending, good, bad = rng.sample(ok, num), [], {}
    while pending and check is not None:
        failed = check(pending)
        bad.update(failed)
        good += [n for n in pending if n not in failed]
        if len(good) == num:
            break
        taken = set(good) | set(bad)
        rest = [n for n in ok if n not in taken]
        if len(rest) < num - len(good):
            raise ValueError(f'{len(bad)} of the selected images{where} do not decode '
                             f'({describe_bad(bad)}) and only {len(rest)} other candidates '
                             f'remain for {num - len(good)} more. Re-download the bad images '
                             'or lower the count.')
        pending = rng.sample(rest, num - len(good))
    return sorted(good if check is not None else pending), bad


def describe_bad(bad: dict, shown: int = 5) -> str:
    items = [f'{n} ({why})' for n, why in sorted(bad.items())[:shown]]
    more = f' and {len(bad) - shown} more' if len(bad) > shown else ''
    return ', '.join(items) + more


def write_list(path: str, names) -> None:
    """Write one name per line, atomically (a crash never leaves a half-written list)."""
    atomic_write_text(path, ''.join(f'{n}\n' for n in names))


def select_split(args, split, sizes, ok, num, what):
    """The sample of one split, decoded when ``args.verify``; reports the images left out."""
    img_dir = osp.join(args.data_root, split)
    check = ((lambda names: undecodable(img_dir, names, sizes, args.workers, what))
             if args.verify else None)
    names, bad = sample(ok, num, args.seed, check, where=f' in {img_dir}')
    if bad:
        print(f'{LOG} warning: {len(bad)} {split} images in {img_dir} do not decode and were '
              f'left out (others drawn instead): {describe_bad(bad)}. Re-download or delete them.',
              file=sys.stderr)
    return names


def main(argv=None) -> int:
    """Exit code 0 on success; 2 with one ``error:`` line (naming the file) on a fault."""
    args = parse_args(argv)
    train_path = osp.join(args.data_root, args.train_list)
    val_path = osp.join(args.data_root, args.val_list)
    try:
        train_sizes = image_sizes(args.data_root, 'train2017')
        val_sizes = image_sizes(args.data_root, 'val2017')
        train_ok = eligible(train_sizes, args.num_train, args.min_side, True, 'train')
        val_ok = eligible(val_sizes, args.num_val, args.val_min_side, False, 'val')
        train = select_split(args, 'train2017', train_sizes, train_ok, args.num_train, 'train')
        val = select_split(args, 'val2017', val_sizes, val_ok, args.num_val, 'val')
        write_list(train_path, train)
        write_list(val_path, val)
    except (OSError, ValueError) as e:
        print(f'{LOG} error: {e}', file=sys.stderr)
        return 2
    print(f'{LOG} {len(train)} of {len(train_ok)} train2017 images with both sides > '
          f'{args.min_side} px (of {len(train_sizes)}), seed {args.seed} -> {train_path}')
    print(f'{LOG} {len(val)} val2017 images -> {val_path}')
    return 0


if __name__ == '__main__':
    from fdsr_mm.utils.cpu_malloc import tune_cpu_malloc
    tune_cpu_malloc()  # freed tensor memory stays in the process (FDSR_MM_MALLOC=default: off)
    sys.exit(main())

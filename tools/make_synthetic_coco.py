"""Write the deterministic synthetic COCO-format detection dataset (miniature FDSR study).

    python tools/make_synthetic_coco.py data/synthetic_coco --train 1000 --val 200 --size 256
writes data/synthetic_coco/annotations/instances_{train,val}.json and RGB PNG images
data/synthetic_coco/{train,val}/*.png. Categories differ only by fine detail that x4 bicubic
downsampling destroys (see fdsr_mm/datasets/synthetic_coco.py).
"""
import argparse
import time

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines

from fdsr_mm.datasets.synthetic_coco import write_synthetic_coco  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='dataset root (annotations/, train/ and val/ are created)')
    parser.add_argument('--train', type=int, default=1000, help='number of training images')
    parser.add_argument('--val', type=int, default=200, help='number of validation images')
    parser.add_argument('--size', type=int, default=256,
                        help='side of the square images in pixels (a multiple of 4)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if args.size % 4:
        parser.error(f'--size {args.size} is not a multiple of 4: x4 bicubic degradation of the '
                     'images would need a mod-crop; pick e.g. 256.')
    return args


def main():
    args = parse_args()
    start = time.perf_counter()
    info = write_synthetic_coco(args.root, num_train=args.train, num_val=args.val,
                                image_size=args.size, seed=args.seed)
    print(f'wrote {info["num_train_images"]} train images ({info["num_train_annotations"]} '
          f'objects) to {info["train_img_dir"]} and {info["num_val_images"]} val images '
          f'({info["num_val_annotations"]} objects) to {info["val_img_dir"]}, '
          f'{args.size}x{args.size}, seed {args.seed}, in {time.perf_counter() - start:.1f} s')
    print(f'annotations: {info["train_ann_file"]}, {info["val_ann_file"]}')
    print(f'classes: {", ".join(info["classes"])}')


if __name__ == '__main__':
    main()

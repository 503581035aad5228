"""Write the deterministic synthetic VOC-format detection dataset (miniature FDSR study, Table 3).

    python tools/make_synthetic_voc.py data/synthetic_voc --trainval 800 --test 150 --size 300
writes data/synthetic_voc/VOC2007/{JPEGImages/*.jpg,Annotations/*.xml,
ImageSets/Main/{trainval,test}.txt} (mmdet's VOC layout). Same 5 categories as the synthetic COCO
set, other generator settings (image size, objects per image and their sizes, random streams,
JPEG): see fdsr_mm/datasets/synthetic_voc.py.
"""
import argparse
import time

from quiet_imports import quiet_third_party_warnings  # stdlib only

quiet_third_party_warnings()  # before the stack is imported: a tool prints its own lines


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='dataset root (VOC2007/ is created in it)')
    parser.add_argument('--trainval', type=int, default=800, help='number of trainval images')
    parser.add_argument('--test', type=int, default=150, help='number of test images')
    parser.add_argument('--size', type=int, nargs='+', default=[300], metavar='PX',
                        help='image side, or height and width, in pixels (multiples of 4)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if len(args.size) not in (1, 2):
        parser.error('--size takes one side or a height and a width.')
    if any(s % 4 for s in args.size):
        parser.error(f'--size {args.size}: not a multiple of 4; x4 bicubic degradation of the '
                     'images would need a mod-crop; pick e.g. 300.')
    return args


def main():
    args = parse_args()
    from fdsr_mm.datasets.synthetic_voc import write_synthetic_voc  # heavy: after the arguments
    size = (args.size[0], args.size[-1])
    start = time.perf_counter()
    info = write_synthetic_voc(args.root, num_trainval=args.trainval, num_test=args.test,
                               image_size=size, seed=args.seed)
    print(f'wrote {len(info["trainval_ids"])} trainval images ({info["num_trainval_objects"]} '
          f'objects) and {len(info["test_ids"])} test images ({info["num_test_objects"]} '
          f'objects) to {info["voc_dir"]}, {size[1]}x{size[0]} (WxH), seed {args.seed}, '
          f'in {time.perf_counter() - start:.1f} s')
    print(f'generator: {info["generator"]}; classes: {", ".join(info["classes"])}')


if __name__ == '__main__':
    main()

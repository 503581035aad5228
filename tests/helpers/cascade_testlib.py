"""Shared fixtures of the cascade tests: a tiny COCO-format dataset and a tiny random RetinaNet.

Not a test module (no ``test_`` prefix): ``from helpers import cascade_testlib as lib``.
"""
import json
import os
import os.path as osp
import shutil

import cv2
import torch

TINY_RETINANET = '''
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)
default_scope = 'mmdet'
classes = {classes!r}
model = dict(
    backbone=dict(depth=18, base_channels=8, init_cfg=None),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    bbox_head=dict(num_classes={num_classes}, in_channels=16, feat_channels=16, stacked_convs=1),
    test_cfg=dict(score_thr=0.0, max_per_img=50))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
test_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={root!r}, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/'), metainfo=dict(classes=classes),
                 pipeline=test_pipeline))
val_dataloader = test_dataloader
test_evaluator = dict(ann_file={root!r} + '/annotations/instances_val.json')
val_evaluator = test_evaluator
default_hooks = dict(logger=dict(interval=1000))
'''

TINY_SR_CONFIG = '''
model = dict(type='BaseEditModel',
             generator=dict(type='DBPN', mid_channels=16, base_channels=8, num_stages=2, scale=4,
                            bicubic_residual=True),
             pixel_loss=dict(type='L1Loss'))
'''


def make_dataset(root: str, num_val: int = 4, image_hw=(64, 72)) -> dict:
    """Synthetic COCO-format val split under ``root`` (PNG images, HR boxes)."""
    from fdsr_mm.datasets.synthetic_coco import write_synthetic_coco
    return write_synthetic_coco(root, num_train=0, num_val=num_val, image_hw=image_hw, seed=0)


def make_detector(root: str, data_root: str, seed: int = 0):
    """Write the tiny RetinaNet config and a random-init checkpoint; returns (config, ckpt)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from fdsr_mm.datasets.synthetic_coco import SYNTHETIC_COCO_CLASSES
    from mmdet.registry import MODELS
    os.makedirs(root, exist_ok=True)
    cfg_path = osp.join(root, 'tiny_retinanet.py')
    with open(cfg_path, 'w') as f:
        f.write(TINY_RETINANET.format(classes=tuple(SYNTHETIC_COCO_CLASSES),
                                      num_classes=len(SYNTHETIC_COCO_CLASSES), root=data_root))
    cfg = Config.fromfile(cfg_path)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = osp.join(root, 'tiny_retinanet.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return cfg_path, ckpt


def write_sr_model(root: str):
    """Write a tiny DBPN x4 MMagic config and a random-init restorer checkpoint (``generator.*``
    keys); returns (config, checkpoint)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmagic.registry import MODELS
    cfg_path = osp.join(root, 'tiny_dbpn.py')
    with open(cfg_path, 'w') as f:
        f.write(TINY_SR_CONFIG)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(Config.fromfile(cfg_path).model)
    ckpt = osp.join(root, 'tiny_dbpn.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)  # 'generator.*' keys
    return cfg_path, ckpt


def add_bad_images(data_root: str) -> dict:
    """Append a corrupt, a grayscale, a too-small and a non-multiple-of-4 image to the val json.

    Returns the file names by kind.
    """
    ann_file = osp.join(data_root, 'annotations', 'instances_val.json')
    with open(ann_file) as f:
        coco = json.load(f)
    img_dir = osp.join(data_root, 'val')
    first = cv2.imread(osp.join(img_dir, coco['images'][0]['file_name']))
    names = dict(corrupt='corrupt.png', gray='gray.png', small='small.png', odd='odd.png')
    with open(osp.join(img_dir, names['corrupt']), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + b'not really a png' * 4)
    cv2.imwrite(osp.join(img_dir, names['gray']), cv2.cvtColor(first, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(osp.join(img_dir, names['small']), first[:20, :30])
    cv2.imwrite(osp.join(img_dir, names['odd']), first[:63, :70])
    next_id = max(im['id'] for im in coco['images']) + 1
    next_ann = max(a['id'] for a in coco['annotations']) + 1
    sizes = dict(corrupt=first.shape[:2], gray=first.shape[:2], small=(20, 30), odd=(63, 70))
    for i, (kind, name) in enumerate(names.items()):
        h, w = sizes[kind]
        coco['images'].append(dict(id=next_id + i, file_name=name, height=int(h), width=int(w)))
        # a box reaching the right/bottom border (clipped by the mod-crop of odd.png)
        coco['annotations'].append(dict(id=next_ann + i, image_id=next_id + i, category_id=1,
                                         bbox=[w - 20.0, h - 15.0, 20.0, 15.0], area=300.0,
                                         iscrowd=0, segmentation=[]))
    with open(ann_file, 'w') as f:
        json.dump(coco, f)
    return names


def copy_tree(src: str, dst: str) -> str:
    shutil.copytree(src, dst)
    return dst


class ScaleOneIdentity(torch.nn.Module):
    """An "SR generator" for scale 1 that returns its input: RGB [0, 1] (N, 3, h, w) -> same."""

    def forward(self, x):
        return x.clone()


def hr_png(root, name):
    return cv2.cvtColor(cv2.imread(osp.join(root, name)), cv2.COLOR_BGR2RGB)



def run_cascade_on_rank(rank: int, world: int, port: int, kwargs: dict,
                        out_pattern: str) -> None:
    """One rank of a CPU multi-process cascade (``torch.multiprocessing.spawn`` target).

    mmengine's ``init_dist`` needs CUDA (it calls ``torch.cuda.set_device``), so the rank joins a
    gloo process group itself; from there on ``run_cascade`` runs exactly as under
    ``--launcher pytorch``: ``get_dist_info`` reports the world, ranks split the images, and mmdet's
    sampler and evaluator split and gather the detections. Writes the rank's result to
    ``out_pattern.format(rank)``.
    """
    import torch.distributed as dist

    from fdsr_mm.apis import run_cascade
    from fdsr_mm.utils.io import dump_json
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world)
    try:
        dump_json(run_cascade(**kwargs), out_pattern.format(rank))
    finally:
        dist.destroy_process_group()

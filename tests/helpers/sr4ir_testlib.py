"""The tiny SR4IR config on a tiny synthetic COCO-format set, shared by the SR4IR tests."""
from mmengine.config import Config

from fdsr_mm.datasets import write_synthetic_coco

CONFIG = 'configs/sr4ir/sr4ir_edsr-tiny-x4_faster-rcnn-r18-c16_1xb4-20i_synthetic-coco.py'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def write_coco(root) -> str:
    """4 train and 2 val images of 64x64 (LR 16x16) under ``root``."""
    write_synthetic_coco(str(root), num_train=4, num_val=2, image_size=64, seed=0)
    return str(root)


def tiny_cfg(coco_root: str, work_dir=None) -> Config:
    """The tiny config on ``coco_root``, batch 2."""
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({f'{lo}.dataset.det_dataset.data_root': f'{coco_root}/'
                         for lo in LOADERS})
    cfg.train_dataloader.batch_size = 2
    if work_dir:
        cfg.work_dir = str(work_dir)
    return cfg

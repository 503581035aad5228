"""A tiny stand-in for what a paper-scale user puts in place, in the real formats.

COCO 2017 (``train2017/``, ``val2017/``, ``annotations/instances_{train,val}2017.json`` with COCO
category names), a VOC devkit (``VOC2007`` and ``VOC2012``, XML with VOC class names), the
authors' D-DBPN x4 file (their key layout), mmdet model-zoo checkpoints (random init of the
paper's detector configs), torchvision ImageNet files (VGG19 features, ResNet-50), MMagic's EDSR
x4 checkpoint and the RCAN authors' state dict layout. Every weight is random: the run proves the
paper specs connect, not the paper's numbers.
"""
import json
import os
import os.path as osp
import shutil

import torch
import torchvision
from mmagic.models.editors.edsr import EDSRNet

from fdsr_mm.datasets.synthetic_coco import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
from fdsr_mm.datasets.synthetic_voc import write_synthetic_voc
from fdsr_mm.models.generators.rcan_net import RCANNet
from helpers.official_dbpn_reference import OfficialDDBPN

COCO_NAMES = ('person', 'bicycle', 'car', 'motorcycle', 'airplane')
VOC_NAMES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle')
DETECTOR_CONFIGS = dict(
    faster_rcnn='configs/detectors/faster-rcnn_r50_fpn_1x_coco.py',
    faster_rcnn_r101='configs/detectors/faster-rcnn_r101_fpn_1x_coco.py',
    retinanet='configs/detectors/retinanet_r50_fpn_1x_coco.py',
    cascade_rcnn='configs/detectors/cascade-rcnn_r50_fpn_1x_coco.py',
    ssd300='configs/detectors/ssd300_voc0712.py',
    maskrcnn_c4='mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py')


def make_coco(root: str, num_train: int = 4, num_val: int = 2, size: int = 64) -> str:
    """COCO 2017's layout and category names around the synthetic COCO-format images."""
    write_synthetic_coco(root, num_train=num_train, num_val=num_val, image_size=size, seed=0)
    for split in ('train', 'val'):
        os.rename(osp.join(root, split), osp.join(root, f'{split}2017'))
        src = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(src) as f:
            ann = json.load(f)
        for cat in ann['categories']:
            cat['name'] = COCO_NAMES[SYNTHETIC_COCO_CLASSES.index(cat['name'])]
        with open(osp.join(root, 'annotations', f'instances_{split}2017.json'), 'w') as f:
            json.dump(ann, f)
        os.remove(src)
    return root


def make_voc(root: str, num_trainval: int = 4, num_test: int = 2) -> str:
    """A VOCdevkit with VOC2007 (trainval, test) and VOC2012 (trainval), VOC class names."""
    write_synthetic_voc(root, num_trainval=num_trainval, num_test=num_test, seed=0)
    ann_dir = osp.join(root, 'VOC2007', 'Annotations')
    for name in os.listdir(ann_dir):
        path = osp.join(ann_dir, name)
        with open(path) as f:
            text = f.read()
        for syn, voc in zip(SYNTHETIC_COCO_CLASSES, VOC_NAMES):
            text = text.replace(f'<name>{syn}</name>', f'<name>{voc}</name>')
        with open(path, 'w') as f:
            f.write(text)
    shutil.copytree(osp.join(root, 'VOC2007'), osp.join(root, 'VOC2012'))
    return root


def make_checkpoints(folder: str, init_detector_checkpoint) -> dict:
    """Every weights file the paper specs name, under ``folder``; name -> path."""
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name, config in DETECTOR_CONFIGS.items():
        out[name] = osp.join(folder, f'{name}.pth')
        assert init_detector_checkpoint.main([config, out[name], '--seed', '0']) == 0
    torch.manual_seed(0)
    out['dbpn_official'] = osp.join(folder, 'DBPN_x4.pth')
    torch.save(OfficialDDBPN().state_dict(), out['dbpn_official'])
    out['vgg19'] = osp.join(folder, 'vgg19.pth')
    vgg = torchvision.models.vgg19().state_dict()
    torch.save({k: v for k, v in vgg.items() if k.startswith('features.')}, out['vgg19'])
    out['r50_imagenet'] = osp.join(folder, 'resnet50.pth')
    torch.save(torchvision.models.resnet50().state_dict(), out['r50_imagenet'])
    # the classes themselves: a registry build would look in whatever scope is current
    edsr = EDSRNet(in_channels=3, out_channels=3, mid_channels=64, num_blocks=16,
                   upscale_factor=4, res_scale=1, rgb_mean=[0.4488, 0.4371, 0.4040],
                   rgb_std=[1.0, 1.0, 1.0])
    out['edsr'] = osp.join(folder, 'edsr_x4.pth')
    torch.save({'meta': {}, 'state_dict': {f'generator.{k}': v
                                           for k, v in edsr.state_dict().items()}}, out['edsr'])
    rcan = RCANNet(scale=4, mid_channels=64, num_groups=10, num_blocks=20, reduction=16)
    out['rcan'] = osp.join(folder, 'RCAN_BIX4.pt')
    torch.save(rcan.state_dict(), out['rcan'])
    return out

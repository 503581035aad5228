"""The detector's test dataset as the cascade sees it: checks, image list, evaluated annotations.

The annotations stay in HR pixel coordinates. The detection pass evaluates the images the SR
pass prepared, in the prepared geometry: COCO datasets get a derived annotation file (boxes
scaled by the optional HR resize and clipped to the mod-crop, failed images removed); XML (VOC)
datasets an image-set list without the failed images. Both are written into the run's own
results folder (never into the shared cache, which concurrent runs over other image sets use).
"""
import copy
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope

from fdsr_mm.utils.io import atomic_write_text
from fdsr_mm.apis.cascade.options import CascadeError


def _merge(dst, src: dict):
    """Recursively merge the dict ``src`` into the (Config)dict ``dst``."""
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def dataset_cfg(cfg: Config, overrides: Optional[dict]) -> Config:
    """``test_dataloader.dataset`` of the detector config with the user's overrides."""
    return _merge(copy.deepcopy(cfg.test_dataloader.dataset), overrides or {})


def ann_path(ds_cfg) -> Optional[str]:
    root = ds_cfg.get('data_root') or ''
    ann = ds_cfg.get('ann_file')
    return ann if not ann or osp.isabs(ann) else osp.join(root, ann)


def _load_coco(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as f:
            coco = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CascadeError(f'Annotation file {path} is not valid JSON ({e}): fix or '
                           're-download it.') from None
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        raise CascadeError(f'Annotation file {path} has no "images" list: it is not a COCO '
                           'detection annotation file (instances_*.json).')
    return coco


def _check_unique_ids(coco: dict, path: str) -> None:
    """Refuse duplicate image ids: pycocotools keeps one of them and scores the other image's
    detections against its boxes."""
    names = defaultdict(list)
    for im in coco['images']:
        names[im.get('id')].append(im.get('file_name'))
    dups = {i: n for i, n in names.items() if len(n) > 1}
    if dups:
        shown = '; '.join(f'id {i}: {", ".join(map(str, n))}' for i, n in list(dups.items())[:5])
        raise CascadeError(f'Annotation file {path} has {len(dups)} duplicate image id(s) '
                           f'({shown}): every image needs its own id; fix the file.')


def check_dataset(ds_cfg) -> Optional[dict]:
    """Check the annotation file before any work; return the parsed COCO json (or None).

    Raises:
        FileNotFoundError: The annotation file is missing (the message says where to put it).
        CascadeError: A COCO json that is malformed or has duplicate image ids.
    """
    ann = ann_path(ds_cfg)
    if ann and not osp.isfile(ann):
        raise FileNotFoundError(
            f"Annotation file {ann} does not exist. Put the dataset there (COCO: "
            f"data/coco/annotations/instances_val2017.json + data/coco/val2017/; VOC: "
            f"data/VOCdevkit/VOC2007/) or pass its location (--data-root, --ann-file, "
            f"--img-prefix, or dataset=dict(data_root=..., ann_file=..., data_prefix=...)).")
    if not ann or not ann.endswith('.json'):
        return None
    coco = _load_coco(ann)
    _check_unique_ids(coco, ann)
    return coco


def list_images(ds_cfg) -> Tuple[List[dict], str]:
    """The detector test dataset's data list (HR paths, ids, raw GT) and its type name."""
    from mmdet.registry import DATASETS
    ds_cfg = copy.deepcopy(ds_cfg)
    ds_cfg.pipeline = []
    ds_cfg.serialize_data = False  # only listed once here: skip the pickling + gc.collect()
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(ds_cfg)
    return [dataset.get_data_info(i) for i in range(len(dataset))], type(dataset).__name__


def image_root(data_list: List[dict]) -> str:
    """The folder holding all listed images (cache file names are relative to it)."""
    if len(data_list) > 1:
        return osp.commonpath([d['img_path'] for d in data_list])
    return osp.dirname(data_list[0]['img_path'])


def derive_coco_ann(coco: dict, index: Dict[str, dict], data_list: List[dict],
                    out_file: str) -> dict:
    """COCO annotations restricted to the prepared images, in the prepared HR geometry.

    Boxes are scaled by (fx, fy) (1 without ``hr_size``) and clipped to the mod-cropped size;
    ``area`` is scaled by fx*fy (COCO small/medium/large use it); a box left without area is
    dropped. Returns counts of clipped and dropped boxes.
    """
    id2entry = {d['img_id']: index[d['img_path']] for d in data_list if d['img_path'] in index}
    images = [dict(im, height=id2entry[im['id']]['hw'][0], width=id2entry[im['id']]['hw'][1])
              for im in coco['images'] if im['id'] in id2entry]
    anns, clipped, dropped = [], 0, 0
    for a in coco.get('annotations', []):
        e = id2entry.get(a['image_id'])
        if e is None:
            continue
        x, y, w, h = a['bbox']
        x1, y1, x2, y2 = x * e['fx'], y * e['fy'], (x + w) * e['fx'], (y + h) * e['fy']
        cx1, cy1 = min(max(x1, 0), e['hw'][1]), min(max(y1, 0), e['hw'][0])
        cx2, cy2 = min(max(x2, 0), e['hw'][1]), min(max(y2, 0), e['hw'][0])
        if cx2 <= cx1 or cy2 <= cy1:
            dropped += 1
            continue
        clipped += (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2)
        anns.append(dict(a, bbox=[cx1, cy1, cx2 - cx1, cy2 - cy1],
                         area=a.get('area', w * h) * e['fx'] * e['fy']))
    atomic_write_text(out_file, json.dumps(dict(coco, images=images, annotations=anns)))
    return dict(clipped_boxes=clipped, dropped_boxes=dropped, num_gt_boxes=len(anns))


def write_eval_annotations(test_ds, coco: Optional[dict], index: Dict[str, dict],
                           data_list: List[dict], eval_dir: str, rank: int) -> dict:
    """Point ``test_ds.ann_file`` at what this run evaluates; returns annotation statistics."""
    if coco is not None:
        derived = osp.join(eval_dir, f'ann_coco.{rank}.json')
        stats = derive_coco_ann(coco, index, data_list, derived)
    else:  # XML (VOC) datasets: an image-id list without the failed images
        derived = osp.join(eval_dir, f'imagesets.{rank}.txt')
        atomic_write_text(derived, ''.join(f"{d['img_id']}\n" for d in data_list
                                           if d['img_path'] in index))
        stats = {}
    test_ds.ann_file = derived
    return dict(stats, evaluated_ann_file=derived)

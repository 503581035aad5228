"""Deterministic synthetic VOC-format detection data (the miniature study's Table 3 set).

Same categories and image generator as the synthetic COCO set
(:func:`fdsr_mm.datasets.synthetic_coco.synthetic_detection_image`: five classes that differ only
by fine interior detail), written in mmdet's VOC layout, with generator settings that differ from
the COCO-format set, so that an SR model trained on the COCO-format data and applied here
"without fine-tune" meets a real change of data:

=====================  ==========================  ==========================================
setting                synthetic COCO              synthetic VOC (defaults here)
=====================  ==========================  ==========================================
image size             256x256                     300x300 (the SSD300 / Table 3 HR size)
objects per image      3-8                         2-6
object side (sqrt A)   16-160 px at 256 (scaled)   20-160 px at 256, i.e. 23-188 px at 300
random streams         ``[seed, split, index]``    ``[seed, 0x564F43, split, index]``
file format            PNG (lossless)              JPEG quality 95, 4:4:4 chroma (VOC-like)
=====================  ==========================  ==========================================

Layout (what ``mmdet.datasets.VOCDataset`` with ``data_prefix=dict(sub_data_root='VOC2007/')``
reads; its ``XMLDataset`` hard-codes ``JPEGImages/<id>.jpg``, hence JPEG)::

    <root>/VOC2007/JPEGImages/<id>.jpg
    <root>/VOC2007/Annotations/<id>.xml
    <root>/VOC2007/ImageSets/Main/{trainval,test}.txt

Boxes follow VOC's 1-based inclusive pixel convention: an object whose pixels span columns
``x0..x1`` (0-based, inclusive) has ``xmin = x0 + 1``, ``xmax = x1 + 1``; mmdet subtracts 1 on
loading, so its box is ``[x0, y0, x1, y1]``. ``difficult`` and ``truncated`` are 0.
"""
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

import cv2
import numpy as np

from fdsr_mm.utils.io import atomic_write_bytes
from fdsr_mm.datasets.synthetic_coco import SYNTHETIC_COCO_CLASSES, synthetic_detection_image

#: Generator settings of the VOC-format set (keyword arguments of ``synthetic_detection_image``).
SYNTHETIC_VOC_GENERATOR = dict(num_objects=(2, 6), object_side=(20.0, 160.0))
#: Stream tag ('VOC' in ASCII) that separates these random streams from the COCO-format set's.
_STREAM_TAG = 0x564F43
_SPLITS = {'trainval': 0, 'test': 1}
JPEG_QUALITY = 95


def _encode_jpeg(img_rgb: np.ndarray) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY,
              cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buf = cv2.imencode('.jpg', cv2.cvtColor(img_rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError('cv2 could not encode the image as JPEG.')
    return buf.tobytes()


def voc_boxes(objects: List[Dict]) -> List[Tuple[str, Tuple[int, int, int, int]]]:
    """(class name, (xmin, ymin, xmax, ymax)) in VOC's 1-based inclusive convention per object."""
    out = []
    for o in objects:
        ys, xs = np.nonzero(o['mask'])
        box = (int(xs.min()) + 1, int(ys.min()) + 1, int(xs.max()) + 1, int(ys.max()) + 1)
        out.append((SYNTHETIC_COCO_CLASSES[o['label']], box))
    return out


def _annotation_xml(image_id: str, size: Tuple[int, int],
                    boxes: List[Tuple[str, Tuple[int, int, int, int]]]) -> bytes:
    root = ET.Element('annotation')
    ET.SubElement(root, 'folder').text = 'VOC2007'
    ET.SubElement(root, 'filename').text = f'{image_id}.jpg'
    ET.SubElement(ET.SubElement(root, 'source'), 'database').text = 'fdsr_mm synthetic VOC'
    size_el = ET.SubElement(root, 'size')
    for key, value in (('width', size[1]), ('height', size[0]), ('depth', 3)):
        ET.SubElement(size_el, key).text = str(value)
    ET.SubElement(root, 'segmented').text = '0'
    for name, box in boxes:
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = name
        ET.SubElement(obj, 'pose').text = 'Unspecified'
        ET.SubElement(obj, 'truncated').text = '0'
        ET.SubElement(obj, 'difficult').text = '0'
        bnd = ET.SubElement(obj, 'bndbox')
        for key, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), box):
            ET.SubElement(bnd, key).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding='utf-8') + b'\n'


def _write_split(voc_dir: str, split: str, num_images: int, size: Tuple[int, int], seed: int,
                 generator: Dict) -> Tuple[List[str], int]:
    ids, num_objects = [], 0
    offset = 0 if split == 'trainval' else 1_000_000  # ids unique across the splits
    for index in range(num_images):
        rng = np.random.default_rng([seed, _STREAM_TAG, _SPLITS[split], index])
        img, objects = synthetic_detection_image(rng, size, **generator)
        image_id = f'{offset + index:06d}'
        boxes = voc_boxes(objects)
        atomic_write_bytes(osp.join(voc_dir, 'JPEGImages', f'{image_id}.jpg'), _encode_jpeg(img))
        atomic_write_bytes(osp.join(voc_dir, 'Annotations', f'{image_id}.xml'),
                            _annotation_xml(image_id, size, boxes))
        ids.append(image_id)
        num_objects += len(boxes)
    atomic_write_bytes(osp.join(voc_dir, 'ImageSets', 'Main', f'{split}.txt'),
                        ''.join(f'{i}\n' for i in ids).encode())
    return ids, num_objects


def write_synthetic_voc(root: str, num_trainval: int = 800, num_test: int = 150,
                        image_size: Tuple[int, int] = (300, 300), seed: int = 0,
                        generator: Dict = None) -> Dict:
    """Write the synthetic VOC-format detection dataset under ``root/VOC2007``.

    Deterministic: the same arguments give byte-identical files; trainval and test use independent
    random streams, also independent of :func:`write_synthetic_coco`'s for any seed. Every file is
    written atomically (temporary name, then rename).

    Args:
        root: Output folder, the ``data_root`` of the configs (``VOC2007/`` is created in it).
        num_trainval: Number of trainval images (ids ``000000`` ...).
        num_test: Number of test images (ids ``1000000`` ...).
        image_size: (height, width) in pixels, or one int for a square; multiples of 4 so x4
            bicubic downsampling needs no mod-crop.
        seed: Random seed.
        generator: Keyword arguments of ``synthetic_detection_image``; default
            ``SYNTHETIC_VOC_GENERATOR``.

    Returns:
        dict: ``root``, ``voc_dir``, ``trainval_ids``, ``test_ids``, ``num_trainval_objects``,
        ``num_test_objects``, ``image_size`` ((h, w)), ``generator`` and ``classes``.
    """
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if min(size) < 64 or size[0] % 4 or size[1] % 4:
        raise ValueError(f'image size {size}: use multiples of 4 of at least 64 px per side.')
    generator = dict(SYNTHETIC_VOC_GENERATOR if generator is None else generator)
    voc_dir = osp.join(root, 'VOC2007')
    for sub in ('JPEGImages', 'Annotations', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(voc_dir, sub), exist_ok=True)
    trainval_ids, n_trainval = _write_split(voc_dir, 'trainval', num_trainval, size, seed,
                                            generator)
    test_ids, n_test = _write_split(voc_dir, 'test', num_test, size, seed, generator)
    return dict(root=root, voc_dir=voc_dir, trainval_ids=trainval_ids, test_ids=test_ids,
                num_trainval_objects=n_trainval, num_test_objects=n_test, image_size=size,
                generator=generator, classes=SYNTHETIC_COCO_CLASSES)

"""Annotation checks for the TDSR datasets, run while mmdet parses (so its ``filter_cfg`` sees them).

An annotation file that cannot be parsed (malformed XML, a missing ``bndbox``) is refused naming the
file; boxes are clipped to their image and boxes with no area inside it are dropped; objects of
classes not in the config's ``classes`` are counted; a COCO json whose category order disagrees
with ``classes`` is refused. Boxes are [x0, y0, x1, y1] in the original image's pixels.
"""
import xml.etree.ElementTree as ET
from collections import Counter
from typing import List, Sequence

import numpy as np
from mmengine import MMLogger
from mmengine.fileio import get as get_file

from fdsr_mm.utils.cli_errors import ToolError

def _examples(files: Sequence[str], n: int = 3) -> str:
    """``'a.xml, b.xml, c.xml and 4 more'`` (at most ``n`` names)."""
    files = list(dict.fromkeys(files))
    text = ', '.join(files[:n])
    return text + (f' and {len(files) - n} more' if len(files) > n else '')


def clip_instances(info: dict) -> tuple:
    """Clip the boxes of one mmdet data info to its image; drop those with no area left.

    Args:
        info: An mmdet data info with ``width``, ``height`` (pixels) and ``instances``, each with
            ``bbox`` [x0, y0, x1, y1] in the original image's pixels (changed in place).

    Returns:
        tuple: ``(clipped, dropped)`` numbers of boxes: ``clipped`` were partly outside
        ``[0, width] x [0, height]`` and now end at its border; ``dropped`` had no area inside it
        (entirely outside, x1 <= x0 or y1 <= y0 after clipping, or not finite) and are removed.
    """
    width, height = info.get('width'), info.get('height')
    if not width or not height or 'instances' not in info:
        return 0, 0
    kept, clipped, dropped = [], 0, 0
    for inst in info['instances']:
        box = np.asarray(inst['bbox'], dtype=np.float64).reshape(-1)
        if box.size != 4 or not np.isfinite(box).all():
            dropped += 1
            continue
        new = np.clip(box, 0, [width, height, width, height])
        if new[2] <= new[0] or new[3] <= new[1]:
            dropped += 1
            continue
        if not np.array_equal(new, box):
            clipped += 1
            inst['bbox'] = [float(v) for v in new]
        kept.append(inst)
    info['instances'] = kept
    return clipped, dropped


class AnnotationAudit:
    """Checks the annotations while an mmdet dataset parses them, and reports what it changed.

    Installed on one mmdet dataset instance (its ``parse_data_info`` is wrapped; nothing else of
    mmdet changes). Per parsed image it:

    - refuses an annotation mmdet cannot parse (malformed XML, missing elements, ...) with a
      :class:`~fdsr_mm.utils.ToolError` naming the file;
    - for COCO (on the first image, when the categories are known): refuses a json whose
      categories matching ``classes``, in the json's order, are not exactly ``classes``;
    - counts the objects whose class is not in ``classes`` (mmdet leaves them out silently):
      VOC ``<name>``s, COCO annotations of other categories;
    - clips the boxes to the image and drops those with no area (:func:`clip_instances`;
      COCO boxes without area inside the image, which mmdet drops itself, are counted too).

    :meth:`report` logs one WARNING line per kind of change, with counts and example files.

    Args:
        det: The mmdet dataset (``XMLDataset`` / ``VOCDataset``, ``CocoDataset``, ...), before
            ``full_init()``.
    """

    def __init__(self, det):
        self.det = det
        self.classes = tuple(det.metainfo.get('classes', ()))
        self.unknown = Counter()  # class name -> objects left out
        self.unknown_files: List[str] = []
        self.clipped = self.dropped = 0
        self.box_files: List[str] = []
        self._categories_checked = False
        self._parse = det.parse_data_info
        det.parse_data_info = self.parse_data_info  # this instance only

    def _where(self, raw: dict) -> str:
        """The file an image's annotation comes from (the XML, or the json and image name)."""
        if raw.get('xml_path'):
            return str(raw['xml_path'])
        img = raw.get('raw_img_info', {}).get('file_name', raw.get('img_id', '?'))
        return f'{self.det.ann_file}, image {img}'

    def check_coco_categories(self) -> None:
        """Refuse COCO categories whose order (the labels mmdet gives) disagrees with
        ``classes``; needs ``det.coco`` and ``det.cat_ids`` (set before the first parse)."""
        self._categories_checked = True
        coco, cat_ids = getattr(self.det, 'coco', None), getattr(self.det, 'cat_ids', None)
        if coco is None or cat_ids is None:
            return
        label_names = [coco.cats[c]['name'] for c in cat_ids]  # label i -> this json name
        if label_names == list(self.classes):
            return
        json_order = [c['name'] for c in coco.cats.values()]
        missing = [c for c in self.classes if c not in json_order]
        raise ToolError(
            'the json categories do not give the config\'s classes their labels (mmdet numbers '
            'the categories in the json\'s order, the names in the classes\' order): json order '
            f'{json_order}, classes {list(self.classes)}'
            + (f', not in the json: {missing}' if missing else ''),
            str(self.det.ann_file),
            'list metainfo.classes in the json\'s order (or reorder the json\'s categories), '
            'with every class present exactly once')

    def _count_left_out(self, raw: dict, where: str) -> int:
        """Count the objects of ``raw`` that mmdet leaves out: those whose class is not in
        ``classes`` (recorded here) and, for COCO, the boxes without area inside the image
        (``bbox`` entirely outside, width or height < 1, ``area`` <= 0), whose number is
        returned."""
        names, no_area = [], 0
        if raw.get('xml_path'):
            root = ET.fromstring(get_file(raw['xml_path'],
                                          backend_args=getattr(self.det, 'backend_args', None)))
            names = [o.findtext('name') or '' for o in root.findall('object')]  # as mmdet
        elif 'raw_ann_info' in raw and getattr(self.det, 'cat2label', None) is not None:
            cats = getattr(getattr(self.det, 'coco', None), 'cats', {})
            img = raw.get('raw_img_info', {})
            for a in raw['raw_ann_info']:
                if a['category_id'] not in self.det.cat2label:
                    names.append(cats.get(a['category_id'], {}).get('name',
                                                                   f'id {a["category_id"]}'))
                elif not a.get('ignore', False):
                    x, y, w, h = a['bbox']
                    inside_w = min(x + w, img.get('width', x + w)) - max(x, 0)
                    inside_h = min(y + h, img.get('height', y + h)) - max(y, 0)
                    no_area += (inside_w <= 0 or inside_h <= 0 or w < 1 or h < 1
                                or a.get('area', 1) <= 0)
        unknown = [n for n in names if n not in self.classes]
        if unknown:
            self.unknown.update(unknown)
            self.unknown_files.append(where)
        return no_area

    def parse_data_info(self, raw: dict):
        """mmdet's ``parse_data_info`` of one image, checked (see the class docstring)."""
        if not self._categories_checked:
            self.check_coco_categories()
        where = self._where(raw)
        try:
            parsed = self._parse(raw)
            dropped_by_mmdet = self._count_left_out(raw, where)
        except ToolError:
            raise
        except Exception as e:  # ET.ParseError, AttributeError (missing element), ValueError
            raise ToolError(f'cannot parse the annotation ({type(e).__name__}: {e})', where,
                            'fix or regenerate the file, or remove the image from the list') \
                from e
        self.dropped += dropped_by_mmdet
        if dropped_by_mmdet:
            self.box_files.append(where)
        for info in parsed if isinstance(parsed, list) else [parsed]:
            clipped, dropped = clip_instances(info)
            self.clipped += clipped
            self.dropped += dropped
            if clipped or dropped:
                self.box_files.append(where)
        return parsed

    def report(self, who: str = 'SRDetectionDataset') -> None:
        """Log one WARNING line per kind of change (nothing when the annotations were clean)."""
        logger = MMLogger.get_current_instance()
        if self.unknown:
            counts = ', '.join(f'{n!r}: {c}' for n, c in self.unknown.most_common())
            logger.warning(
                f'{who}: left out {sum(self.unknown.values())} objects of classes not in the '
                f'config\'s classes ({counts}) in {len(set(self.unknown_files))} files, e.g. '
                f'{_examples(self.unknown_files)}; add them to metainfo.classes to train on them.')
        if self.clipped or self.dropped:
            logger.warning(
                f'{who}: clipped {self.clipped} boxes to their image and dropped {self.dropped} '
                'boxes with no area inside it (entirely outside, zero width or height) in '
                f'{len(set(self.box_files))} files, e.g. {_examples(self.box_files)}.')

"""Fig. 1-style panels: the same image under several SR methods with its predicted boxes.

Each panel shows the methods side by side (in the order given, e.g. HR / bicubic / DBPN / FDSR),
every tile at the image's own resolution (its pixels are not resampled), with

* the ground truth in every tile: thin dashed green boxes, the class name below each box;
* the predictions with ``score >= score_thr``: solid red boxes labelled ``<class> <score>``
  (e.g. ``car 0.87``) above each box, highest scores first; a label that would cover another
  one is left out (its box stays), so a crowd of low-score boxes cannot bury the image;
* a title bar per tile: the method, its PSNR on this image (where the SR pass logged one; HR is
  the reference and has none), the number of predictions drawn and their per-image precision /
  recall at IoU 0.5 (greedy matching by score, one prediction per ground-truth box, class-aware;
  ignored/crowd boxes excluded);
* a legend line under the tiles saying which style is which.

Conventions: every image array here is (H, W, 3) uint8 **BGR**, as ``mmcv.imread`` returns it
and ``mmcv.imwrite`` writes it (the SR cache holds RGB PNG files; read with mmcv they are BGR);
boxes are (N, 4) float x1y1x2y2 in pixels of that image; labels are class indices into
``classes`` (the dataset's ``metainfo['classes']``; without it the index is printed).
"""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from fdsr_mm.utils.io import read_jsonl, write_png

GT_COLOR = (0, 200, 0)  # BGR green: dashed 1-px ground-truth boxes, label background
PRED_COLOR = (0, 0, 255)  # BGR red: solid 2-px predicted boxes, label background
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.4
LINE_H = 14  # pixels per text line of the title and legend bars


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def precision_recall_at_50(pred_boxes: np.ndarray, pred_labels: np.ndarray,
                           pred_scores: np.ndarray, gt_boxes: np.ndarray,
                           gt_labels: np.ndarray) -> Tuple[float, float]:
    """Precision and recall of one image's predictions at IoU 0.5 (class-aware, greedy).

    Args:
        pred_boxes: (N, 4) x1y1x2y2 pixels; pred_labels (N,); pred_scores (N,).
        gt_boxes: (M, 4) x1y1x2y2 pixels; gt_labels (M,).

    Returns:
        (precision, recall); precision is 1.0 with no predictions, recall 1.0 with no GT.
    """
    matched = np.zeros(len(gt_boxes), bool)
    tp = 0
    for i in np.argsort(-pred_scores, kind='stable'):
        cand = np.where((gt_labels == pred_labels[i]) & ~matched)[0]
        if len(cand):
            ious = _iou(pred_boxes[i], gt_boxes[cand])
            j = int(np.argmax(ious))
            if ious[j] >= 0.5:
                matched[cand[j]] = True
                tp += 1
    precision = tp / len(pred_boxes) if len(pred_boxes) else 1.0
    recall = tp / len(gt_boxes) if len(gt_boxes) else 1.0
    return precision, recall


def dataset_classes(ds_cfg) -> Optional[Tuple[str, ...]]:
    """The class names of a dataset config: its ``metainfo.classes``, else its type's METAINFO.

    Args:
        ds_cfg: A dataset config (e.g. the detector's ``test_dataloader.dataset``).

    Returns:
        The names indexed by ``bbox_label`` / predicted label, or None if neither is known.
    """
    classes = (ds_cfg.get('metainfo') or {}).get('classes')
    if classes is None:
        from mmdet.registry import DATASETS
        from mmengine.registry import DefaultScope
        with DefaultScope.overwrite_default_scope('mmdet'):
            cls = DATASETS.get(ds_cfg.get('type', 'CocoDataset'))
        classes = getattr(cls, 'METAINFO', {}).get('classes')
    return tuple(classes) if classes is not None else None


def _class_name(classes: Optional[Sequence[str]], label: int) -> str:
    return str(classes[label]) if classes is not None and 0 <= label < len(classes) else str(label)


def _dashed_rect(img: np.ndarray, box: np.ndarray, color, dash: int = 4, gap: int = 3) -> None:
    """A 1-px dashed rectangle on the BGR uint8 ``img`` (in place); ``box`` x1y1x2y2 pixels."""
    h, w = img.shape[:2]
    x1, y1, x2, y2 = np.clip(np.round(box).astype(int), 0, [w - 1, h - 1, w - 1, h - 1])
    for a, b, fixed, horizontal in ((x1, x2, y1, True), (x1, x2, y2, True),
                                    (y1, y2, x1, False), (y1, y2, x2, False)):
        for s in range(a, b + 1, dash + gap):
            e = min(s + dash - 1, b)
            if horizontal:
                img[fixed, s:e + 1] = color
            else:
                img[s:e + 1, fixed] = color


def _place_label(img: np.ndarray, text: str, box: np.ndarray, color, text_color, gt: bool,
                 placed: List[Tuple[int, int, int, int]]) -> bool:
    """``text`` on a filled ``color`` box at a corner of ``box``, kept inside the image.

    Tried first outside the box (GT: under its bottom-left corner, predictions: over its
    top-left), then just inside it; where both overlap a label in ``placed`` nothing is drawn
    and False is returned (the box itself stays). A drawn label's rectangle joins ``placed``.
    """
    (tw, th), base = cv2.getTextSize(text, FONT, FONT_SCALE, 1)
    bw, bh = tw + 4, th + base + 3
    h, w = img.shape[:2]
    x1, y1, _, y2 = (int(round(v)) for v in box)
    tops = (y2 + 1, y2 - bh) if gt else (y1 - bh, y1 + 1)
    left = min(max(x1, 0), max(w - bw, 0))
    for top in tops:
        top = min(max(top, 0), max(h - bh, 0))
        rect = (left, top, left + bw, top + bh)
        if any(rect[0] < r[2] and r[0] < rect[2] and rect[1] < r[3] and r[1] < rect[3]
               for r in placed):
            continue
        cv2.rectangle(img, rect[:2], (rect[2] - 1, rect[3] - 1), color, cv2.FILLED)
        cv2.putText(img, text, (left + 2, top + th + 1), FONT, FONT_SCALE, text_color, 1,
                    cv2.LINE_AA)
        placed.append(rect)
        return True
    return False


def draw_detections(img: np.ndarray, gt_boxes: np.ndarray, gt_labels: np.ndarray,
                    boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                    classes: Optional[Sequence[str]] = None) -> List[str]:
    """Draw the ground truth and the (already thresholded) predictions on one image, in place.

    Args:
        img: (H, W, 3) uint8 BGR image, modified in place.
        gt_boxes, gt_labels: (M, 4) x1y1x2y2 pixels and (M,) class indices: dashed green boxes,
            the class name below each (or just inside, where another label is in the way).
        boxes, labels, scores: (N, 4), (N,), (N,) predictions: solid red boxes, ``<class>
            <score:.2f>`` above each (or just inside).
        classes: Class names indexed by label (None: the label index is printed).

    Returns:
        list[str]: The label texts drawn: the ground truth's, then the predictions' by
        decreasing score. All boxes are drawn (the predictions first, the GT dashes over them,
        so a matching prediction does not hide its GT); a label that would cover an earlier
        one is left out (many overlapping low-score boxes would otherwise bury the image).
    """
    for b in boxes:
        x1, y1, x2, y2 = np.round(b).astype(int)
        cv2.rectangle(img, (x1, y1), (x2, y2), PRED_COLOR, 2)
    for b in gt_boxes:
        _dashed_rect(img, b, GT_COLOR)
    texts, placed = [], []
    for b, lab in zip(gt_boxes, gt_labels):
        text = _class_name(classes, int(lab))
        if _place_label(img, text, b, GT_COLOR, (0, 0, 0), True, placed):
            texts.append(text)
    for i in np.argsort(-np.asarray(scores), kind='stable'):
        text = f'{_class_name(classes, int(labels[i]))} {float(scores[i]):.2f}'
        if _place_label(img, text, boxes[i], PRED_COLOR, (255, 255, 255), False, placed):
            texts.append(text)
    return texts


def _text_w(text: str) -> int:
    return cv2.getTextSize(text, FONT, FONT_SCALE, 1)[0][0] + 6


def _wrap(fields: Sequence[str], width: int) -> List[str]:
    """Join ``fields`` with two spaces into lines at most ``width`` pixels wide; a field wider
    than that alone is broken at its spaces (a single word still wider is cut at the edge)."""
    lines: List[str] = []
    for f in fields:
        parts = f.split(' ') if _text_w(f) > width else [f]
        for k, part in enumerate(parts):
            joined = f"{lines[-1]}{' ' if k else '  '}{part}" if lines else part
            if lines and _text_w(joined) <= width:
                lines[-1] = joined
            else:
                lines.append(part)
    return lines


def _text_bar(lines: Sequence[str], width: int, num_lines: int) -> np.ndarray:
    bar = np.full((num_lines * LINE_H + 6, width, 3), 255, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(bar, line, (3, 3 + (i + 1) * LINE_H - 3), FONT, FONT_SCALE, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return bar


def tile_title(method: str, psnr: Optional[float], num_dets: int, score_thr: float,
               precision: float, recall: float) -> List[str]:
    """The fields of a tile's title: method, PSNR (if any), detections drawn, P/R at IoU 0.5."""
    fields = [method]
    if psnr is not None:
        fields.append(f'PSNR {psnr:.2f} dB')
    fields += [f'{num_dets} det >= {score_thr:.2f}', f'P {precision:.2f} R {recall:.2f}']
    return fields


def legend_bar(width: int, score_thr: float) -> np.ndarray:
    """A white (h, ``width``, 3) uint8 BGR bar: which box style is ground truth, which is a
    prediction; the items wrap onto more lines when the panel is narrow."""
    items = [('gt', 'ground truth (class)'),
             ('pred', 'prediction (class score)'), (None, f'drawn: score >= {score_thr:.2f}'),
             (None, 'P/R: precision/recall at IoU 0.5')]
    swatch, x, row, placed = 18, 3, 0, []
    for kind, text in items:
        need = (swatch + 4 if kind else 0) + cv2.getTextSize(text, FONT, FONT_SCALE, 1)[0][0]
        if x > 3 and x + need > width:
            x, row = 3, row + 1
        placed.append((kind, text, x, row))
        x += need + 12
    bar = np.full(((row + 1) * LINE_H + 6, width, 3), 255, np.uint8)
    for kind, text, x, row in placed:
        base_y = 3 + (row + 1) * LINE_H - 3
        if kind == 'gt':
            _dashed_rect(bar, np.array([x, base_y - 8, x + swatch, base_y]), GT_COLOR)
        elif kind == 'pred':
            cv2.rectangle(bar, (x, base_y - 8), (x + swatch, base_y), PRED_COLOR, 2)
        tx = x + swatch + 4 if kind else x
        cv2.putText(bar, text, (tx, base_y), FONT, FONT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return bar


def render_panel(tiles: Sequence[Tuple[np.ndarray, Sequence[str]]], score_thr: float
                 ) -> np.ndarray:
    """Title bars over the tiles, side by side, and the legend line under them.

    A title bar holds the method name on its first line and the other fields wrapped to the
    tile's width below it; the bars of a panel share the height of the longest.

    Args:
        tiles: ``(image, title fields)`` per method; images (H, W, 3) uint8 BGR of one height
            with the boxes drawn (:func:`draw_detections`), fields from :func:`tile_title`.
        score_thr: The threshold the legend states.

    Returns:
        (title + H + legend, sum of the widths, 3) uint8 BGR.
    """
    wrapped = [list(fields[:1]) + _wrap(fields[1:], img.shape[1]) for img, fields in tiles]
    num_lines = max(len(w) for w in wrapped)
    row = np.hstack([np.vstack([_text_bar(w, img.shape[1], num_lines), img])
                     for (img, _), w in zip(tiles, wrapped)])
    return np.vstack([row, legend_bar(row.shape[1], score_thr)])


def _gt_of(d: dict, entry: dict) -> Tuple[np.ndarray, np.ndarray]:
    """The data info's non-ignored GT boxes in the prepared HR geometry (scaled, clipped)."""
    scale_xy = np.array([entry['fx'], entry['fy'], entry['fx'], entry['fy']])
    gt = [(np.array(i['bbox'], float) * scale_xy, i['bbox_label'])
          for i in d.get('instances', []) if not i.get('ignore_flag', 0)]
    gt_boxes = np.array([g[0] for g in gt]).reshape(-1, 4)
    gt_boxes[:, 0::2] = gt_boxes[:, 0::2].clip(0, entry['hw'][1])
    gt_boxes[:, 1::2] = gt_boxes[:, 1::2].clip(0, entry['hw'][0])
    return gt_boxes, np.array([g[1] for g in gt], int)


def _kept(pred: Optional[dict], score_thr: float):
    """(boxes, labels, scores) of a DumpDetResults record with ``score >= score_thr``."""
    if pred is None:
        return np.zeros((0, 4)), np.zeros(0, int), np.zeros(0)
    inst = pred['pred_instances']
    keep = (inst['scores'] >= score_thr).numpy()
    return (inst['bboxes'].numpy()[keep], inst['labels'].numpy()[keep],
            inst['scores'].numpy()[keep])


def _psnr(record: dict) -> Optional[float]:
    for key in ('psnr', 'psnr_y'):
        if record.get(key) is not None:
            return float(record[key])
    return None


def write_panels(result: dict, data_list: List[dict], index: Dict[str, dict], show_dir: str,
                 score_thr: float = 0.3, max_panels: Optional[int] = None,
                 classes: Optional[Sequence[str]] = None) -> List[str]:
    """Write one panel PNG per evaluated image into ``show_dir`` (atomically: temp + replace).

    Args:
        result: The cascade result (``files`` set: predictions are read from
            ``<out_dir>/methods/<method>/predictions.pkl``, written by mmdet's DumpDetResults;
            the SR images and per-image PSNR (``iq.rank*.jsonl``) from each method's
            ``spec['cache']`` folder).
        data_list: The dataset's data infos (HR ``img_path``, ``img_id``, raw ``instances``).
        index: HR path -> cached file and geometry (see
            :func:`fdsr_mm.apis.cascade.hr_prep.prepare_hr`).
        show_dir: Output folder.
        score_thr: Predictions below this score are neither drawn nor counted.
        max_panels: Stop after this many panels (the first evaluated images); None: all.
        classes: Class names indexed by label (:func:`dataset_classes`); None prints indices.

    Returns:
        list[str]: The written panel paths (PNG files of the uint8 BGR panels).
    """
    import mmcv

    methods = list(result['methods'])
    by_id, iq = {}, {}
    for m in methods:
        path = osp.join(osp.dirname(result['files']['json']), 'methods', m, 'predictions.pkl')
        with open(path, 'rb') as f:
            for p in pickle.load(f):
                by_id.setdefault(p['img_id'], {})[m] = p
        iq[m] = read_jsonl(osp.join(result['methods'][m]['spec']['cache'], 'iq.rank*.jsonl'))
    written = []
    for d in data_list:
        if max_panels is not None and len(written) >= max_panels:
            break
        entry = index.get(d['img_path'])
        if entry is None or d['img_id'] not in by_id:
            continue
        gt_boxes, gt_labels = _gt_of(d, entry)
        tiles = []
        for m in methods:
            img = mmcv.imread(osp.join(result['methods'][m]['spec']['cache'], entry['file']))
            if list(img.shape[:2]) != list(entry['hw']):  # lr_native: shown at HR size, nearest
                img = mmcv.imresize(img, tuple(entry['hw'][::-1]), interpolation='nearest')
            boxes, labels, scores = _kept(by_id[d['img_id']].get(m), score_thr)
            prec, rec = precision_recall_at_50(boxes, labels, scores, gt_boxes, gt_labels)
            draw_detections(img, gt_boxes, gt_labels, boxes, labels, scores, classes)
            psnr = _psnr(iq[m].get(entry['file'], {}))
            tiles.append((img, tile_title(m, psnr, len(boxes), score_thr, prec, rec)))
        out = osp.join(show_dir, osp.splitext(entry['file'])[0] + '.png')
        write_png(out, render_panel(tiles, score_thr), channel_order='bgr')
        written.append(out)
    return written

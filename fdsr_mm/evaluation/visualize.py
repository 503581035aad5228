"""Fig. 1-style panels: the same image under several SR methods with its predicted boxes.

Each panel shows the methods side by side (in the order given, e.g. bicubic / DBPN / FDSR / HR),
the ground truth in green, predictions with ``score >= score_thr`` in red, and the per-image
precision / recall at IoU 0.5 of those predictions (greedy matching by score, one prediction per
ground-truth box; ignored/crowd boxes excluded).
"""
import os
import os.path as osp
import pickle
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np



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


def write_panels(result: dict, data_list: List[dict], index: Dict[str, dict], show_dir: str,
                 score_thr: float = 0.3, max_panels: Optional[int] = None) -> List[str]:
    """Write one panel PNG (BGR file of the RGB images) per evaluated image into ``show_dir``.

    Args:
        result: The cascade result (``files`` set: predictions are read from
            ``<out_dir>/methods/<method>/predictions.pkl``, written by mmdet's DumpDetResults).
        data_list: The dataset's data infos (HR ``img_path``, ``img_id``, raw ``instances``).
        index: HR path -> cached file and geometry (see :func:`fdsr_mm.apis.cascade.hr_prep.prepare_hr`).
        show_dir: Output folder.
        score_thr: Predictions below this score are neither drawn nor counted.
        max_panels: Stop after this many panels (the first evaluated images); None: all.

    Returns:
        list[str]: The written panel paths.
    """
    import mmcv
    methods = list(result['methods'])
    preds = {}
    for m in methods:
        path = osp.join(osp.dirname(result['files']['json']), 'methods', m, 'predictions.pkl')
        with open(path, 'rb') as f:
            preds[m] = pickle.load(f)
    by_id = {}
    for m in methods:
        for p in preds[m]:
            by_id.setdefault(p['img_id'], {})[m] = p
    written = []
    for d in data_list:
        if max_panels is not None and len(written) >= max_panels:
            break
        entry = index.get(d['img_path'])
        if entry is None or d['img_id'] not in by_id:
            continue
        scale_xy = np.array([entry['fx'], entry['fy'], entry['fx'], entry['fy']])
        gt = [(np.array(i['bbox'], float) * scale_xy, i['bbox_label'])
              for i in d.get('instances', []) if not i.get('ignore_flag', 0)]
        gt_boxes = np.array([g[0] for g in gt]).reshape(-1, 4)
        gt_boxes[:, 0::2] = gt_boxes[:, 0::2].clip(0, entry['hw'][1])
        gt_boxes[:, 1::2] = gt_boxes[:, 1::2].clip(0, entry['hw'][0])
        gt_labels = np.array([g[1] for g in gt], int)
        tiles = []
        for m in methods:
            img = mmcv.imread(osp.join(result['methods'][m]['spec']['cache'], entry['file']))
            p = by_id[d['img_id']].get(m)
            inst = p['pred_instances'] if p is not None else None
            keep = (inst['scores'] >= score_thr).numpy() if inst is not None else np.zeros(0, bool)
            boxes = inst['bboxes'].numpy()[keep] if inst is not None else np.zeros((0, 4))
            labels = inst['labels'].numpy()[keep] if inst is not None else np.zeros(0, int)
            scores = inst['scores'].numpy()[keep] if inst is not None else np.zeros(0)
            prec, rec = precision_recall_at_50(boxes, labels, scores, gt_boxes, gt_labels)
            for b in gt_boxes.astype(int):
                cv2.rectangle(img, tuple(b[:2]), tuple(b[2:]), (0, 200, 0), 1)
            for b in boxes.astype(int):
                cv2.rectangle(img, tuple(b[:2]), tuple(b[2:]), (0, 0, 255), 2)
            bar = np.full((22, img.shape[1], 3), 255, np.uint8)
            cv2.putText(bar, f'{m} P={prec:.2f} R={rec:.2f}', (3, 16), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, (0, 0, 0), 1, cv2.LINE_AA)
            tiles.append(np.vstack([bar, img]))
        panel = np.hstack(tiles)
        out = osp.join(show_dir, osp.splitext(entry['file'])[0] + '.png')
        mmcv.imwrite(panel, out + '.tmp.png')  # mmcv.imwrite creates the folders
        os.replace(out + '.tmp.png', out)
        written.append(out)
    return written

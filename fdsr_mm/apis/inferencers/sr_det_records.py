"""Per-image records of :class:`~fdsr_mm.apis.inferencers.SRDetInferencer` (``preds/<name>.json``)
and what makes a rerun skip an image: the run key (model, settings), the input file's key (path,
size, modification time) and its output paths.

A record is written atomically and last, after the image's drawing and SR image, so an image with a
record made under the current key is finished. Boxes are COCO ``[x, y, w, h]`` in the pixels of the
input (LR) image, rounded to 0.01 px; scores rounded to 1e-5; ``label`` indexes the model's classes.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, NamedTuple, Optional, Sequence

import torch

from fdsr_mm.utils.output_names import unique_stems

#: Version of the ``preds/<name>.json`` records (part of their key).
RECORD_VERSION = 1


class Outputs(NamedTuple):
    """Per-image output paths under ``out_dir`` (None: not written)."""
    pred: Optional[str]
    vis: Optional[str]
    sr: Optional[str]


def output_paths(out_dir: str, files: Sequence[str], draw: bool, save_sr: bool,
                 save_pred: bool = True) -> Dict[str, Outputs]:
    """``preds/<stem>.json``, ``vis/<stem>.jpg``, ``sr/<stem>.png`` per file: stems unique per
    input (``a.png``, ``a.jpg`` -> ``a_png``, ``a_jpg``), relative to the inputs' common folder."""
    root = osp.commonpath([osp.dirname(osp.abspath(f)) for f in files])
    stems = unique_stems([osp.relpath(osp.abspath(f), root) for f in files])
    return {f: Outputs(osp.join(out_dir, 'preds', s + '.json') if save_pred else None,
                       osp.join(out_dir, 'vis', s + '.jpg') if draw else None,
                       osp.join(out_dir, 'sr', s + '.png') if save_sr else None)
            for f, s in zip(files, stems)}


def run_key(model: torch.nn.Module, settings: dict) -> str:
    """A hash of the model (config text and every weight) and ``settings``: records made under
    another key are redone."""
    h = hashlib.sha1(json.dumps([RECORD_VERSION, settings], sort_keys=True).encode())
    h.update(json.dumps(model.cfg.to_dict(), sort_keys=True, default=str).encode())
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def file_key(key: str, file: str) -> str:
    """``key`` and the input file's path, size and modification time."""
    st = os.stat(file)
    return hashlib.sha1(f'{key}|{osp.abspath(file)}|{st.st_size}|{st.st_mtime_ns}'.encode()
                        ).hexdigest()


def make_record(key: str, file: str, width: int, height: int, boxes: torch.Tensor,
                scores: torch.Tensor, labels: torch.Tensor, score_thr: float) -> dict:
    """The ``preds/<name>.json`` record of one image (``width`` x ``height`` input pixels).

    ``boxes``: (n, 4) x1, y1, x2, y2 in input pixels; ``scores``: (n,) in [0, 1]; ``labels``:
    (n,) class indices. Kept: detections with score >= ``score_thr``, as [x, y, w, h].
    """
    dets = [dict(bbox=[round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
                 score=round(float(s), 5), label=int(c))
            for (x0, y0, x1, y1), s, c in zip(boxes.detach().cpu().numpy().astype(float),
                                              scores.detach().cpu().numpy(),
                                              labels.detach().cpu().numpy())
            if s >= score_thr]
    return dict(key=key, file_name=file, width=int(width), height=int(height), detections=dets)


def load_record(path: str, key: str) -> Optional[dict]:
    """The record at ``path`` if it was made under ``key``, else None."""
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get('key') == key else None


def finished_record(out: Outputs, key: str) -> Optional[dict]:
    """The record of an image finished under ``key`` with all its outputs, else None."""
    if out.pred is None or any(p and not osp.isfile(p) for p in (out.vis, out.sr)):
        return None
    return load_record(out.pred, key)

"""The state of one :class:`~fdsr_mm.apis.inferencers.SRDetInferencer` call: its files, output
paths, record keys, the records (finished earlier or now), skipped files and COCO ids; started
before any image is read (bad settings are refused first) and finished by writing
``results.bbox.json`` and ``images.json``."""
import os
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import torch

from fdsr_mm.apis.inferencers.sr_det_inputs import SRDetectError
from fdsr_mm.apis.inferencers.sr_det_records import (Outputs, file_key, finished_record,
                                                     output_paths, run_key)
from fdsr_mm.apis.inferencers.sr_det_results import CocoIds, coco_ids, write_results


@dataclass
class Run:
    """One call's files and outputs (``out_dir`` '' : nothing written, nothing reused)."""
    files: List[str]
    out_dir: str
    score_thr: float
    ids: CocoIds
    classes: Tuple[str, ...]
    outs: Dict[str, Outputs] = field(default_factory=dict)
    file_keys: Dict[str, str] = field(default_factory=dict)
    records: Dict[str, dict] = field(default_factory=dict)
    skipped: List[Tuple[str, str]] = field(default_factory=list)
    reused: int = 0

    @property
    def todo(self) -> List[str]:
        """The files without a record yet, in order."""
        return [f for f in self.files if f not in self.records]

    def finish(self) -> dict:
        """Write ``results.bbox.json`` and ``images.json`` (with ``out_dir``); return the summary:
        ``images`` (with results), ``reused`` (of them), ``skipped`` ([(file, reason)]),
        ``detections`` (score >= the threshold)."""
        if self.out_dir:
            return write_results(self.out_dir, self.files, self.records, self.skipped, self.ids,
                                 self.classes, self.reused)
        return dict(images=len(self.records), reused=self.reused, skipped=self.skipped,
                    detections=sum(len(r['detections']) for r in self.records.values()))


def start_run(model: torch.nn.Module, files: Sequence[str], out_dir: str, score_thr: float,
              draw: bool, draw_on: str, save_sr: bool, save_pred: bool = True,
              ann_file=None) -> Run:
    """The run of ``files`` (from :func:`list_images`) into ``out_dir``.

    Refuses (:class:`SRDetectError`) a ``draw_on`` other than 'lr'/'sr', SR outputs of a model
    that makes no SR image, and a bad ``ann_file``; reuses the records of images an earlier run
    finished under the same model and settings (``draw``, ``draw_on``, ``save_sr``,
    ``score_thr``) with all their outputs.
    """
    if draw_on not in ('lr', 'sr'):
        raise SRDetectError(f"draw_on must be 'lr' or 'sr', got {draw_on!r}", '--draw-on')
    if (save_sr or (draw and draw_on == 'sr')) and not hasattr(model, 'super_resolve'):
        raise SRDetectError('the model makes no SR image (not an SRDetector)',
                            '--draw-on sr / --save-sr', 'use a configs/sr_detectors/ config')
    classes = tuple(model.dataset_meta.get('classes', ()))
    ids = coco_ids(files, classes, ann_file)  # refuse a bad --ann-file before any work
    run = Run(list(files), out_dir, score_thr, ids, classes)
    key = run_key(model, dict(score_thr=score_thr, draw=draw, draw_on=draw_on, save_sr=save_sr))
    run.file_keys = {f: file_key(key, f) for f in files}
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        run.outs = output_paths(out_dir, files, draw, save_sr, save_pred)
        run.records = {f: r for f in files
                       if (r := finished_record(run.outs[f], run.file_keys[f])) is not None}
        run.reused = len(run.records)
    return run

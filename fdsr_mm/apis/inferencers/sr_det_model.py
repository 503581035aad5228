"""Model set-up helpers of :class:`~fdsr_mm.apis.inferencers.SRDetInferencer`: the config, the
checks of a ``weights`` file, the class names and palette, and the inference pipeline.

Weights reach the model through mmengine's loading path (``_load_checkpoint`` with fdsr_mm's safe
local loader, then ``_load_checkpoint_to_model``). An SRDetector checks every load itself (strict,
complete, finite: :meth:`SRDetector._load_from_state_dict`); any other mmdet detector is checked
here first (:func:`check_weights`), so no model runs half-loaded.
"""
import contextlib
import copy
import logging
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose

from fdsr_mm.utils.checkpoints import check_finite_state_dict, check_state_fits, tag_source
from fdsr_mm.apis.inferencers.sr_det_inputs import SRDetectError

_EXAMPLE_CONFIG = 'configs/sr_detectors/fdsr-x4_faster-rcnn_r50_fpn_coco.py'
_WEIGHTS_FIX = 'pass the file tools/pack_sr_detector.py made from this config'


@contextlib.contextmanager
def quiet_mmengine():
    """Hide mmengine's INFO lines (e.g. one block per module from ``init_weights()``) inside."""
    from mmengine.logging import MMLogger
    loggers = [MMLogger.get_current_instance(), logging.getLogger('mmengine')]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def load_config(model: Union[str, Config, ConfigDict, dict],
                cfg_options: Optional[dict] = None) -> Union[str, Config, ConfigDict, dict]:
    """The config ``model`` names (a ``.py`` file, a Config) with ``cfg_options`` merged in.

    A missing ``.py`` file is one error line; other strings (mmdet model-zoo names) are left to
    mmengine's metafile look-up.
    """
    if isinstance(model, str):
        if not osp.isfile(model):
            if model.endswith('.py') or osp.sep in model:
                raise SRDetectError(f'Config {model} does not exist', None,
                                    f'e.g. {_EXAMPLE_CONFIG}')
            return model
        model = Config.fromfile(model)
    if cfg_options:
        model = copy.deepcopy(model if isinstance(model, (Config, ConfigDict))
                              else ConfigDict(model))
        model.merge_from_dict(cfg_options)
    return model


def check_weights_file(weights: Optional[str]) -> None:
    """Refuse a local ``weights`` path that does not exist (URLs are left to mmengine)."""
    if weights and '://' not in weights and not osp.isfile(weights):
        raise SRDetectError('the weights file does not exist', f'--weights {weights}',
                            'pack it with tools/pack_sr_detector.py, or leave --weights out to '
                            'load the checkpoints the config names')


def check_weights(model: torch.nn.Module, checkpoint, weights: str) -> None:
    """Refuse a loaded ``checkpoint`` that is no state dict of tensors; for models that do not
    check their loads themselves (not an SRDetector) also weights that are not finite or not
    exactly the model's keys and shapes (``module.`` prefixes dropped, as mmengine does)."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise SRDetectError('not a checkpoint (no state dict of tensors)', f'--weights {weights}')
    if getattr(model, 'checks_loaded_weights', False):
        return  # SRDetector._load_from_state_dict: strict, complete, finite, names the file
    state = tag_source({k[len('module.'):] if k.startswith('module.') else k: v
                        for k, v in state.items()}, weights)
    check_finite_state_dict(state, weights)
    check_state_fits(model.state_dict(), state, weights,
                     'the weights do not fit the model of the config', _WEIGHTS_FIX)


def _config_metainfo(cfg) -> dict:
    """``test_dataloader.dataset.metainfo`` of a config, or {}."""
    try:
        return dict(cfg.test_dataloader.dataset.metainfo or {})
    except AttributeError:
        return {}


def class_names(model: torch.nn.Module, checkpoint: Optional[dict], cfg) -> dict:
    """The model's ``dataset_meta``: from the checkpoint's meta (lower-cased keys, as mmdet's
    DetInferencer), else what the model has (an SRDetector's detector checkpoint), else the
    config's ``test_dataloader.dataset.metainfo.classes``, else COCO's (with a warning)."""
    meta = (checkpoint or {}).get('meta') or {}
    if meta.get('dataset_meta'):
        return {k.lower(): v for k, v in meta['dataset_meta'].items()}
    if meta.get('CLASSES'):
        return {'classes': meta['CLASSES']}
    if getattr(model, 'dataset_meta', None):
        return dict(model.dataset_meta)
    classes = _config_metainfo(cfg).get('classes')
    if classes:
        return {'classes': tuple(classes)}
    from mmdet.evaluation import get_classes
    print('WARNING: no class names in the checkpoints or the config; using COCO classes.',
          flush=True)
    return {'classes': get_classes('coco')}


def palette_of(cfg, palette: str, dataset_meta: dict):
    """The drawing palette: ``palette`` unless 'none', else the config's dataset metainfo, else
    the dataset class's, else the checkpoint's, else 'random' (mmdet's order, without building
    the dataset)."""
    if palette != 'none':
        return palette
    found = _config_metainfo(cfg).get('palette')
    if found is None:
        from mmdet.registry import DATASETS
        try:
            dataset_type = cfg.test_dataloader.dataset.type
        except AttributeError:
            dataset_type = None
        if isinstance(dataset_type, str):
            dataset_type = DATASETS.get(dataset_type)
        found = getattr(dataset_type, 'METAINFO', {}).get('palette')
    return found if found is not None else dataset_meta.get('palette', 'random')


def inference_pipeline(cfg) -> Compose:
    """The config's test pipeline, loading from an in-memory BGR uint8 (H, W, 3) array instead of
    a file (``mmdet.LoadImageFromNDArray``), without annotations or ``img_id``; ``cfg`` is not
    changed."""
    steps = [dict(t) for t in copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
             if t['type'] not in ('LoadAnnotations', 'mmdet.LoadAnnotations')]
    for t in steps:
        if t['type'] in ('LoadImageFromFile', 'mmdet.LoadImageFromFile'):
            t.clear()
            t['type'] = 'mmdet.LoadImageFromNDArray'
        if t['type'].endswith('PackDetInputs') and 'meta_keys' in t:
            t['meta_keys'] = tuple(k for k in t['meta_keys'] if k != 'img_id')
    return Compose(steps)

"""Checks ``tools/train.py`` makes before (and around) building the mmengine Runner.

Each turns a fault the user can fix into one :class:`~fdsr_mm.utils.cli_errors.ToolError` line
(``train: error: <what> (<where>): <fix>``, exit 2) instead of a traceback hundreds of lines into
the run: a missing config, an ``AmpOptimWrapper`` without a GPU, ``--auto-scale-lr`` without
``auto_scale_lr`` in the config, a dataset folder that does not exist (with the command that generates the
synthetic ones), a registry name with a typo (with the nearest registered names) and an error
re-raised from a DataLoader worker (its original one-line message, without the worker's
traceback).
"""
import difflib
import glob
import os.path as osp
import re
from importlib import import_module
from typing import Iterator, List, Optional, Tuple

from fdsr_mm.utils.cli_errors import ToolError

# Folder name -> the tool that generates it (the synthetic sets of the CPU configs).
DATA_GENERATORS = {
    'synthetic_sr': 'tools/make_synthetic_sr.py',
    'synthetic_voc': 'tools/make_synthetic_voc.py',
    'synthetic_coco': 'tools/make_synthetic_coco.py',
}
# mmengine's message for a type that no registry of the scope holds.
_REGISTRY_MISS = re.compile(r'^\W*(?P<type>\S+) is not in the (?P<scope>\w+)::(?P<name>[\w ]+?) '
                            r'registry')


def check_config_file(path: str, search_root: str = '.') -> None:
    """Refuse a config path that is not a file, suggesting the nearest config names.

    Args:
        path: The config argument as given (relative to the working directory or absolute).
        search_root: Folder whose ``configs/**/*.py`` are the candidates of the suggestion.

    Raises:
        ToolError: when ``path`` is not a file.
    """
    if osp.isfile(path):
        return
    pattern = osp.join(search_root, 'configs', '**', '*.py')
    candidates = [osp.relpath(p, search_root) for p in glob.glob(pattern, recursive=True)]
    near = difflib.get_close_matches(osp.normpath(path), candidates, n=3, cutoff=0.6)
    fix = (f'did you mean {" or ".join(near)}?' if near else
           'pass the path of a config file, e.g. configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py')
    raise ToolError('config file not found', path, fix)


def check_amp(cfg, where: str = '--amp') -> None:
    """Refuse mixed precision where mmengine cannot run it (no CUDA device).

    mmengine's ``AmpOptimWrapper`` trains with float16 autocast on CUDA (NPU/MLU/MUSA) devices
    only; on a CPU it fails with an assertion deep inside the Runner. ``--amp`` itself never
    asks for it without CUDA (it picks bfloat16 autocast there), so this refuses a config that
    names it.

    Raises:
        ToolError: when ``cfg.optim_wrapper`` is an ``AmpOptimWrapper`` and no CUDA is available.
    """
    import torch
    if cfg.get('optim_wrapper', {}).get('type') != 'AmpOptimWrapper':
        return
    if torch.cuda.is_available():
        return
    raise ToolError('mixed precision (AmpOptimWrapper) needs a GPU and no CUDA device is available',
                    where, 'use optim_wrapper.type=BF16AutocastOptimWrapper (bfloat16 on a CPU, '
                    'what --amp picks here), train in float32, or run on a GPU')


def enable_auto_scale_lr(cfg, config_path: str) -> None:
    """Switch on ``auto_scale_lr`` of ``cfg``; refuse a config that does not define it.

    Raises:
        ToolError: when the config has no ``auto_scale_lr.base_batch_size``.
    """
    if 'auto_scale_lr' not in cfg or 'base_batch_size' not in (cfg.auto_scale_lr or {}):
        raise ToolError('--auto-scale-lr needs auto_scale_lr in the config', config_path,
                        'add `auto_scale_lr = dict(enable=False, base_batch_size=<the batch size '
                        'the learning rate is set for>)` to the config, or drop --auto-scale-lr')
    cfg.auto_scale_lr.enable = True


def _dataset_cfgs(dataset, key: str) -> Iterator[Tuple[str, dict]]:
    """(option key, dataset dict) of ``dataset`` and the datasets it wraps (``dataset``,
    ``det_dataset``, ``datasets``: RepeatDataset, SRDetectionDataset, ConcatDataset)."""
    if not isinstance(dataset, dict):
        return
    yield key, dataset
    for sub in ('dataset', 'det_dataset'):
        if isinstance(dataset.get(sub), dict):
            yield from _dataset_cfgs(dataset[sub], f'{key}.{sub}')
    for i, sub in enumerate(dataset.get('datasets') or []):
        yield from _dataset_cfgs(sub, f'{key}.datasets.{i}')


def _generator_hint(root: str) -> Optional[str]:
    """The command that generates ``root`` when it is one of the synthetic sets, else None."""
    name = osp.basename(osp.normpath(root))
    for folder, tool in DATA_GENERATORS.items():
        if name == folder:
            return f'python {tool} {osp.normpath(root)}'
    return None


def _missing_path(ds: dict) -> Optional[Tuple[str, str]]:
    """(field, path) of the first of data_root / ann_file / data_prefix that does not exist."""
    root = ds.get('data_root')
    if not isinstance(root, str) or '://' in root:
        return None
    if root and not osp.isdir(root):
        return 'data_root', root
    ann = ds.get('ann_file')
    if isinstance(ann, str) and ann and '://' not in ann:
        path = ann if osp.isabs(ann) else osp.join(root, ann)
        if not osp.exists(path):
            return 'ann_file', path
    prefix = ds.get('data_prefix')
    for field, value in (prefix.items() if isinstance(prefix, dict) else ()):
        if isinstance(value, str) and value and '://' not in value:
            path = value if osp.isabs(value) else osp.join(root, value)
            if not osp.exists(path):
                return f'data_prefix.{field}', path
    return None


def check_data_roots(cfg, config_path: str) -> None:
    """Refuse a training or validation dataset whose folder or list does not exist.

    Looks at ``train_dataloader`` and, when the config validates (``val_cfg``),
    ``val_dataloader``: each dataset's ``data_root``, ``ann_file`` and ``data_prefix`` folders,
    through wrapper datasets.

    Raises:
        ToolError: naming the missing path, the config key and the command that generates the
            folder (synthetic sets) or the ``--cfg-options`` key to point elsewhere.
    """
    loaders = ['train_dataloader'] + (['val_dataloader'] if cfg.get('val_cfg') else [])
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        for key, ds in _dataset_cfgs(loader_cfg.get('dataset'), f'{loader}.dataset'):
            missing = _missing_path(ds)
            if missing is None:
                continue
            field, path = missing
            hint = _generator_hint(ds.get('data_root') or '')
            fix = (f'generate it with `{hint}`' if hint and field == 'data_root'
                   else 'put the dataset there (see README.md)')
            raise ToolError(f'dataset path {path} does not exist',
                            f'{key}.{field} of {config_path}',
                            f'{fix}, or point the config at your copy with --cfg-options '
                            f'{key}.data_root=DIR')


def _find_registry(scope: str, name: str):
    """The registry called ``name`` of ``scope`` (``<scope>.registry``), or None."""
    from mmengine.registry import Registry
    try:
        module = import_module(f'{scope}.registry')
    except ImportError:
        return None
    for value in vars(module).values():
        if isinstance(value, Registry) and value.name == name and value.scope == scope:
            return value
    return None


def registered_names(registry) -> List[str]:
    """Every module name ``registry`` can build: its own and its parent registries'."""
    names, reg = set(), registry
    while reg is not None:
        names.update(reg.module_dict)
        reg = reg.parent
    return sorted(names)


def registry_fault(err: KeyError, config_path: str) -> Optional[ToolError]:
    """The one-line fault for mmengine's "X is not in the <scope>::<name> registry" KeyError.

    The suggestion is the nearest registered names (``difflib``) of that registry and its
    parents. Returns None for any other KeyError (a real bug: its traceback stays).
    """
    message = str(err.args[0]) if err.args else ''
    match = _REGISTRY_MISS.match(message)
    if not match:
        return None
    typ, scope, name = match['type'], match['scope'], match['name']
    registry = _find_registry(scope, name)
    names = registered_names(registry) if registry is not None else []
    near = difflib.get_close_matches(typ, names, n=3, cutoff=0.5)
    if not near:  # case or separators differ ('dbpn', 'Dbpn_Net')
        folded = {n.lower().replace('_', ''): n for n in names}
        near = [folded[k] for k in difflib.get_close_matches(
            typ.lower().replace('_', ''), list(folded), n=3, cutoff=0.5)]
    fix = (f'did you mean {" or ".join(repr(n) for n in near)}?' if near else
           f'use a type registered in {scope}::{name}, or add the module that registers it to '
           'custom_imports')
    return ToolError(f'unknown {name} type {typ!r} (not in the {scope}::{name} registry or its '
                     'parents)', f'type={typ!r} in {config_path}', fix)


def worker_message(err: BaseException) -> str:
    """The original message of an error re-raised by a DataLoader worker.

    torch re-raises a worker's exception in the main process as
    ``Caught <Type> in DataLoader worker process N.\\nOriginal Traceback ...\\n<Type>: <msg>``;
    this returns ``<msg>``. Any other error's message is returned unchanged.
    """
    text = str(err)
    if 'Original Traceback' not in text:
        return text
    last = [line for line in text.strip().splitlines() if line.strip()][-1]
    prefix = f'{type(err).__name__}: '
    return last.split(prefix, 1)[1] if prefix in last else last

"""Multi-process training without GPUs: gloo instead of nccl, DDP without device ids.

mmengine 0.10.7 cannot start a distributed run on a machine without CUDA: its
``_init_dist_pytorch`` calls ``torch.cuda.set_device(LOCAL_RANK)`` before
``init_process_group``, the configs ask for the ``nccl`` backend, and ``Runner.wrap_model`` gives
``MMDistributedDataParallel`` ``device_ids=[LOCAL_RANK]``, which DDP refuses for a CPU module.

:func:`setup_cpu_distributed` (called by ``tools/train.py`` before ``Runner.from_cfg``) makes the
same code path run on CPU: when a launcher is given and CUDA is not available it switches
``env_cfg.dist_cfg.backend`` to ``gloo``, joins the ``gloo`` process group itself (the Runner's
``setup_env`` only calls ``init_dist`` while ``mmengine.dist.is_distributed()`` is False) and
sets ``device_ids=None`` in the DDP wrapper config. On a GPU machine it changes nothing.
"""
import datetime
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict

CPU_LAUNCHERS = ('pytorch', )


def _gloo_init_kwargs(dist_cfg: dict) -> dict:
    """Keyword arguments of ``init_process_group`` from an ``env_cfg.dist_cfg``.

    Args:
        dist_cfg: mmengine's ``dist_cfg`` (``backend``, optional ``init_backend`` and
            ``timeout`` in seconds, other ``init_process_group`` arguments).

    Returns:
        dict: the arguments without ``backend``/``init_backend``, ``timeout`` as a timedelta.
    """
    kwargs = {k: v for k, v in dist_cfg.items() if k not in ('backend', 'init_backend')}
    if kwargs.get('timeout') is not None and not isinstance(kwargs['timeout'],
                                                            datetime.timedelta):
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    return kwargs


def cpu_model_wrapper_cfg(cfg: Config) -> Optional[dict]:
    """The model wrapper config for a CPU distributed run: the Runner's default DDP wrapper with
    ``device_ids=None`` (the Runner's default ``[LOCAL_RANK]`` only suits CUDA modules).

    Args:
        cfg: the training config.

    Returns:
        dict or None: the wrapper config to set, None when the config's own wrapper is not a
        ``DistributedDataParallel`` (left unchanged) or already sets ``device_ids``.
    """
    from mmengine.registry import MODEL_WRAPPERS
    from torch.nn.parallel import DistributedDataParallel
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                       find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper = dict(wrapper)
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper_type = wrapper['type']
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if not (isinstance(wrapper_type, type) and issubclass(wrapper_type, DistributedDataParallel)):
        return None
    if 'device_ids' in wrapper:
        return None
    wrapper['device_ids'] = None
    return wrapper


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare a CPU-only distributed run (``--launcher pytorch`` without CUDA) for the Runner.

    Sets ``cfg.env_cfg.dist_cfg.backend = 'gloo'`` and a DDP wrapper without device ids, and
    joins the gloo process group from torchrun's environment (``RANK``, ``WORLD_SIZE``,
    ``MASTER_ADDR``, ``MASTER_PORT``) unless a group already exists. Does nothing without a
    launcher or when CUDA is available (mmengine's own nccl path is used there).

    Args:
        cfg: the training config, with ``cfg.launcher`` set; changed in place.

    Returns:
        bool: True when the run was set up for CPU distributed training.

    Raises:
        RuntimeError: for the ``slurm`` and ``mpi`` launchers without CUDA (mmengine derives
            their ranks from the GPU count; start the processes with torchrun instead).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher not in CPU_LAUNCHERS:
        raise RuntimeError(
            f'--launcher {launcher} needs GPUs (mmengine derives the ranks from the GPU count). '
            'On CPU start the processes with torchrun and --launcher pytorch, e.g. '
            '`torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch`; they '
            'communicate through the gloo backend.')
    env_cfg = cfg.get('env_cfg', None) or ConfigDict()
    dist_cfg = dict(env_cfg.get('dist_cfg', None) or {})
    dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg
    wrapper = cpu_model_wrapper_cfg(cfg)
    if wrapper is not None:
        cfg.model_wrapper_cfg = wrapper
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo', **_gloo_init_kwargs(dist_cfg))
    return True

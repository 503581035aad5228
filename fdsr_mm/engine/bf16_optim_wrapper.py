"""Mixed-precision training where mmengine's ``AmpOptimWrapper`` does not run: bfloat16
autocast on a CPU (and on a GPU, where asked for).

mmengine's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU/MUSA device, and its float16 needs a loss
scaler. bfloat16 has float32's exponent range, so no scaler is needed: this wrapper is an
ordinary :class:`~mmengine.optim.OptimWrapper` whose ``optim_context`` (the forward and loss of
``train_step``, the generator's and the frozen feature prior's alike) runs under
``torch.autocast(device_type, dtype=torch.bfloat16)``. Parameters, gradients and the optimizer
state stay float32; checkpoints are those of a float32 run (no ``loss_scaler`` key).

``tools/train.py --amp`` picks it on a machine without CUDA (and mmengine's ``AmpOptimWrapper``,
float16 with a dynamic loss scale, on a GPU). It is registered in mmengine's root
``OPTIM_WRAPPERS``, so MMagic- and mmdet-scope configs both find it::

    optim_wrapper = dict(type='BF16AutocastOptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
"""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """:class:`~mmengine.optim.OptimWrapper` whose forward context autocasts to bfloat16.

    Args:
        device_type (str, optional): ``'cpu'`` or ``'cuda'``; by default the device of the
            model's first parameter.
        **kwargs: :class:`~mmengine.optim.OptimWrapper`'s (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self, device_type=None, **kwargs):
        super().__init__(**kwargs)
        if device_type not in (None, 'cpu', 'cuda'):
            raise ValueError(f"device_type must be 'cpu', 'cuda' or None, got {device_type!r}")
        self.device_type = device_type

    def _device_type(self, model: nn.Module) -> str:
        if self.device_type is not None:
            return self.device_type
        param = next(model.parameters(), None)
        return 'cpu' if param is None else param.device.type

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(self._device_type(model),
                                                          dtype=torch.bfloat16):
            yield

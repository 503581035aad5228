"""Loss modules that run frozen networks (a detector prior) they do not own as parameters."""
from typing import Dict

import torch.nn as nn


class FrozenNetworkLoss(nn.Module):
    """Base of the losses that read a frozen network: it is held, not registered.

    A network attached with :meth:`hold_frozen` (the detector backbone of
    :class:`DetectorFeatureLoss`, the detector of :class:`DetectorTaskLoss`) is kept in the plain
    dict ``frozen_networks``, which ``nn.Module`` does not look into, on purpose:

    * it is not part of the model: ``parameters()``, ``named_modules()`` and ``state_dict()``
      (hence the optimizer, checkpoints and DDP's parameter/buffer broadcast) never see it. Its
      weights are the prior's own file, loaded again whenever the loss is built, so an FDSR
      checkpoint holds the generator only (and loads into a plain ``BaseEditModel``);
    * it still follows the module's device and dtype: ``_apply`` (``.to()``, ``.cuda()``,
      ``.half()``) reaches it;
    * no parameter of it requires grad; its mode is whatever the subclass's ``train()`` fixes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.frozen_networks: Dict[str, nn.Module] = {}  # a plain dict: not submodules

    def hold_frozen(self, name: str, network: nn.Module) -> nn.Module:
        """Keep ``network`` (no grad) beside this module, out of its parameter tree."""
        network.requires_grad_(False)
        self.frozen_networks[name] = network
        return network

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for network in self.frozen_networks.values():
            network._apply(fn, *args, **kwargs)
        return self

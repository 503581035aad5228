"""VGG19 feature extractor as an mmdet backbone: the ImageNet "VGG19-54" prior of the paper's Fig. 3."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from torchvision.models import vgg19

from mmdet.registry import MODELS as MMDET_MODELS

# Names of torchvision's vgg19().features layers, by index ("conv{block}_{n}", "relu...", "pool{block}").
VGG19_LAYER_NAMES = (
    'conv1_1', 'relu1_1', 'conv1_2', 'relu1_2', 'pool1',
    'conv2_1', 'relu2_1', 'conv2_2', 'relu2_2', 'pool2',
    'conv3_1', 'relu3_1', 'conv3_2', 'relu3_2', 'conv3_3', 'relu3_3', 'conv3_4', 'relu3_4', 'pool3',
    'conv4_1', 'relu4_1', 'conv4_2', 'relu4_2', 'conv4_3', 'relu4_3', 'conv4_4', 'relu4_4', 'pool4',
    'conv5_1', 'relu5_1', 'conv5_2', 'relu5_2', 'conv5_3', 'relu5_3', 'conv5_4', 'relu5_4', 'pool5')


@MMDET_MODELS.register_module()
class VGG19Features(nn.Module):
    """VGG19 convolutional trunk up to named layers (Simonyan & Zisserman, 2015).

    "VGG19-54" follows SRGAN's notation (Ledig et al., CVPR 2017): phi_{5,4} is "the feature map
    obtained by the 4th convolution (after activation) before the 5th max-pooling layer", i.e.
    ``relu5_4`` (index 35), 512 channels at stride 16. ESRGAN-style losses use ``conv5_4``
    (before the ReLU) instead; pass ``out_layers=('conv5_4',)`` for that variant.

    Submodule keys are torchvision's (``features.<index>.weight``), so the torchvision ImageNet
    file ``vgg19-dcbb9e9d.pth`` (https://download.pytorch.org/models/vgg19-dcbb9e9d.pth, not an
    MMDetection model-zoo file) loads with ``checkpoint_prefix=''`` (its classifier keys are
    reported as unexpected and ignored).

    Args:
        out_layers (Sequence[str]): layer names whose outputs are returned, in network order.

    Input: (N, 3, H, W) RGB, ImageNet-normalised ((x/255 - mean) / std, as set by the config's
    data_preprocessor). Returns a tuple with one (N, C, H', W') tensor per ``out_layers`` entry.
    """

    def __init__(self, out_layers: Sequence[str] = ('relu5_4', )) -> None:
        super().__init__()
        unknown = [n for n in out_layers if n not in VGG19_LAYER_NAMES]
        if unknown:
            raise ValueError(f'unknown VGG19 layers {unknown}; choose from {VGG19_LAYER_NAMES}')
        self.out_indices = sorted(VGG19_LAYER_NAMES.index(n) for n in out_layers)
        self.out_layers = tuple(VGG19_LAYER_NAMES[i] for i in self.out_indices)
        self.features = vgg19(weights=None).features[:self.out_indices[-1] + 1]
        for m in self.features:
            if isinstance(m, nn.ReLU):
                m.inplace = False  # an in-place ReLU would overwrite returned conv outputs

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

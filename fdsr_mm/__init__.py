"""fdsr_mm: Feature-Driven Super-Resolution for object detection, on MMagic and MMDetection.

Importing the package registers its modules in the OpenMMLab registries (configs do it through
``custom_imports = dict(imports=['fdsr_mm'])``) and allows torch>=2.6's ``weights_only`` loader to
read the data types mmengine writes into training checkpoints (see
:mod:`fdsr_mm.utils.checkpoints.safety`).
"""
import warnings

# Imported for registration (models, datasets, transforms, hooks). The deprecation notices that
# importing mmagic prints (diffusers' renamed models, torch.jit.script: a dozen lines no user of
# fdsr_mm can act on) are hidden during this import only; the user's warning filters are kept.
with warnings.catch_warnings():
    warnings.filterwarnings('ignore', category=FutureWarning, module=r'(diffusers|torch\.jit)\b')
    from fdsr_mm import apis, datasets, engine, evaluation, models, utils  # noqa: F401
    from fdsr_mm import registry  # noqa: F401  (the fdsr_mm:: config scope)
from fdsr_mm.utils import allow_mmengine_checkpoint_types
from fdsr_mm.version import __version__

allow_mmengine_checkpoint_types()

__all__ = ['__version__']

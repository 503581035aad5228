"""fdsr_mm: Feature-Driven Super-Resolution for object detection, on MMagic and MMDetection.

Importing the package registers its modules in the OpenMMLab registries (configs do it through
``custom_imports = dict(imports=['fdsr_mm'])``) and allows torch>=2.6's ``weights_only`` loader to
read the data types mmengine writes into training checkpoints (see
:mod:`fdsr_mm.utils.checkpoints.safety`).
"""
# Imported for registration (models, datasets, transforms, hooks, metrics into the mmagic/mmdet
# registries): a config's ``custom_imports=['fdsr_mm']`` and ``mim train fdsr_mm`` rely on this
# import alone. The warning filters are the program's: the third-party deprecation notices that
# importing the stack prints are filtered by the tools (tools/quiet_imports.py), not here.
from fdsr_mm import apis, datasets, engine, evaluation, models, utils  # noqa: F401
from fdsr_mm import registry  # noqa: F401  (the fdsr_mm:: config scope)
from fdsr_mm.utils import allow_mmengine_checkpoint_types
from fdsr_mm.version import __version__

allow_mmengine_checkpoint_types()

__all__ = ['__version__']

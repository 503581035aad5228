"""The ``fdsr_mm`` scope of the OpenMMLab registries, so that ``fdsr_mm::`` config names work.

A config that inherits a package config by scope (``_base_ = ['fdsr_mm::dbpn/...py']``) is
resolved by mmengine through ``MODULE2PACKAGE`` and ``<package>/.mim/configs``; mmengine then
tags the inherited top-level dicts with ``_scope_='fdsr_mm'`` and builds them from
``fdsr_mm.registry``. The registries here are children of MMagic's (fdsr_mm's models, datasets
and transforms register there; ``get`` falls back to the parents, MMagic's and mmengine's), so
the inherited SR configs build exactly as their originals. Detector configs are mmdet's scope:
inherit those by path or by their ``mmdet::`` originals.

Importing :mod:`fdsr_mm` imports this module; a config read before ``import fdsr_mm`` cannot use
the scope (mmengine refuses unknown package names).
"""
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import Registry

import mmagic.registry as _mmagic_registry

SCOPE = 'fdsr_mm'


def register_config_scope() -> None:
    """Let mmengine resolve ``fdsr_mm::<path under configs/>`` names (``_base_`` included)."""
    MODULE2PACKAGE.setdefault(SCOPE, 'fdsr_mm')


def _child_registries() -> dict:
    """A ``fdsr_mm``-scope child of every MMagic registry: {attribute name: Registry}."""
    children = {}
    for attr, parent in vars(_mmagic_registry).items():
        if isinstance(parent, Registry) and parent.scope == 'mmagic':
            existing = parent._children.get(SCOPE)
            # the parent's locations too: get() reads the parents' modules without importing them
            children[attr] = existing or Registry(
                parent.name, parent=parent, scope=SCOPE,
                locations=['fdsr_mm', *getattr(parent, '_locations', [])])
    return children


register_config_scope()
globals().update(_child_registries())

"""SR generators (MMagic ``MODELS``): RGB [0, 1] (N, 3, h, w) -> (N, 3, h*s, w*s)."""
from fdsr_mm.models.generators.dbpn_checkpoint import (DBPNCheckpointMismatch,
                                                       convert_official_dbpn,
                                                       describe_dbpn_state_dict)
from fdsr_mm.models.generators.builder import build_sr_generator, generator_cfg
from fdsr_mm.models.generators.dbpn_net import DBPN
from fdsr_mm.models.generators.interpolation_sr import InterpolationSR
from fdsr_mm.models.generators.rcan_net import RCANNet

__all__ = ['DBPN', 'DBPNCheckpointMismatch', 'InterpolationSR', 'RCANNet', 'build_sr_generator',
           'convert_official_dbpn', 'describe_dbpn_state_dict', 'generator_cfg']

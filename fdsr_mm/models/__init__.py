"""Models registered in MMagic's ``MODELS`` on import."""
from .dbpn_net import DBPN
from .rcan_net import RCANNet

__all__ = ['DBPN', 'RCANNet']

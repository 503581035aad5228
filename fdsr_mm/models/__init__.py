"""Models registered in MMagic's ``MODELS`` on import."""
from .dbpn_net import DBPN

__all__ = ['DBPN']

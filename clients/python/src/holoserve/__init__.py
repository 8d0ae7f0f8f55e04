"""holoserve's Python client: `from holoserve import connect, HoloError` (see README.md)."""
from .client import HoloClient, connect
from .cluster import HoloClusterClient, connect_cluster
from .errors import CODES, HoloError
from .wire import f32, f64, from_f32, from_f64, from_u32, pack, u32, unpack

__version__ = '0.1.0'
__all__ = ['HoloClient', 'connect', 'HoloClusterClient', 'connect_cluster', 'HoloError', 'CODES', 'f32', 'f64', 'u32', 'from_f32', 'from_f64', 'from_u32',
           'pack', 'unpack', '__version__']

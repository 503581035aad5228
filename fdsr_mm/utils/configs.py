"""Config names: ``fdsr_mm::``, ``mmdet::``, ``mmagic::`` or a path, resolved and loaded."""
import os.path as osp

from mmengine.config import Config
from mmengine.hub import get_config


def fdsr_mm_config_dir() -> str:
    """``configs/`` of this package: ``fdsr_mm/.mim/configs`` when installed, else the repo's."""
    pkg = osp.dirname(osp.dirname(osp.abspath(__file__)))
    installed = osp.join(pkg, '.mim', 'configs')
    return installed if osp.isdir(installed) else osp.join(osp.dirname(pkg), 'configs')


def config_path(config: str) -> str:
    """The file of ``fdsr_mm::<path under configs/>``; any other name or path is returned as is."""
    if config.startswith('fdsr_mm::'):
        return osp.join(fdsr_mm_config_dir(), config[len('fdsr_mm::'):])
    return config


def load_config(config: str, format_python_code: bool = True) -> Config:
    """Load a config file, or a ``package::path`` name (``fdsr_mm::``, ``mmdet::``, ``mmagic::``).

    ``format_python_code=False`` makes ``pretty_text`` skip yapf: the detector config is
    pretty-printed four times while a Runner is built and started (log, dump, visualizer), each
    ~0.1 s of formatting that a results folder does not need.

    Raises:
        FileNotFoundError: The file (of a path or an ``fdsr_mm::`` name) does not exist.
    """
    path = config_path(config)
    if '::' in path:
        cfg = get_config(path)
    elif not osp.isfile(path):
        raise FileNotFoundError(f'Config {config} does not exist.')
    else:
        cfg = Config.fromfile(path)
    # Config.__setattr__ writes config keys; this flag is an attribute (set as Config does).
    object.__setattr__(cfg, '_format_python_code', format_python_code)
    return cfg

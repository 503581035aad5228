"""Build script. Metadata lives in setup.cfg; this file only adds the `.mim` extension.

`mim train fdsr_mm CONFIG` looks for `<package dir>/.mim/tools/train.py` and `.mim/configs`, and
mmengine resolves `fdsr_mm::` config names (also in `_base_`) through `.mim/model-index.yml` and
`.mim/configs`. In a development install (`pip install -e . --no-use-pep517`, i.e.
`setup.py develop`, the install `tools/install.sh` uses) `fdsr_mm/.mim/{tools,configs,
model-index.yml}` are symlinks to the repository's, so edits are live; in a wheel or sdist build
they are copies, so an installed package is complete.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import setup

MIM_FOLDERS = ('configs', 'tools', 'model-index.yml')  # folders and files


def add_mim_extension():
    """Create fdsr_mm/.mim/{configs,tools,model-index.yml}: symlinks for develop, copies for
    wheel/sdist."""
    if 'develop' in sys.argv:
        mode = 'symlink'
    elif any(cmd in sys.argv for cmd in ('sdist', 'bdist_wheel', 'bdist_egg', 'build', 'install',
                                         'egg_info', 'dist_info', 'editable_wheel')):
        mode = 'copy'
    else:
        return
    root = osp.dirname(osp.abspath(__file__))
    mim_dir = osp.join(root, 'fdsr_mm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FOLDERS:
        src, dst = osp.join(root, name), osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isfile(src):
            shutil.copyfile(src, dst)
        else:
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension()
    setup()

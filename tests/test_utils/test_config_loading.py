"""fdsr_mm.utils.configs: ``fdsr_mm::`` names resolve to this package's configs; a missing file
is a FileNotFoundError naming it."""
import os.path as osp

import pytest

from conftest import REPO_ROOT
from fdsr_mm.utils.configs import config_path, load_config


def test_fdsr_mm_name_points_to_the_packaged_config():
    path = config_path('fdsr_mm::fdsr_x4.py')
    assert osp.isfile(path)
    assert open(path).read() == open(osp.join(REPO_ROOT, 'configs', 'fdsr_x4.py')).read()
    assert config_path('configs/fdsr_x4.py') == 'configs/fdsr_x4.py'  # paths pass unchanged


def test_load_config_of_a_name_and_of_a_path_agree():
    by_name = load_config('fdsr_mm::dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py')
    by_path = load_config(osp.join(REPO_ROOT, 'configs', 'dbpn',
                                   'dbpn-tiny_x4_1xb4-200i_synthetic.py'))
    assert by_name.model.to_dict() == by_path.model.to_dict()
    assert by_name.model.generator.type == 'DBPN'


@pytest.mark.parametrize('name', ['fdsr_mm::no_such_config.py', 'configs/no/such_config.py'])
def test_missing_config_is_a_file_not_found_error_naming_it(name):
    with pytest.raises(FileNotFoundError, match=f'Config {name} does not exist'):
        load_config(name)

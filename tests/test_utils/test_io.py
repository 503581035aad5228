"""fdsr_mm.utils.io, the package's one writer: a failed write keeps the previous file and leaves
no temporary file; JSON keeps non-finite floats; PNGs are lossless in either channel order;
JSON-lines logs survive a torn last line; file hashes follow rewrites."""
import hashlib
import json
import math
import os
import os.path as osp
import time

import cv2
import numpy as np
import pytest
import torch

from fdsr_mm.utils.io import (AtomicWriteError, append_jsonl, atomic_write, atomic_write_bytes,
                              atomic_write_text, dump_json, file_sha256, load_json, read_jsonl,
                              torch_save_atomic, write_png)


def _leftovers(folder):
    """Everything in ``folder`` but the files a test wrote on purpose (temporary files start
    with a dot and end with .tmp)."""
    return sorted(n for n in os.listdir(folder) if n.startswith('.') or n.endswith('.tmp'))


def test_write_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / 'out.txt')
    atomic_write_text(path, 'first\n')
    atomic_write_text(path, 'second\n')
    assert open(path).read() == 'second\n'
    assert os.listdir(tmp_path) == ['out.txt']


def test_writes_into_a_new_folder(tmp_path):
    path = str(tmp_path / 'a' / 'b' / 'out.bin')
    atomic_write_bytes(path, b'\x00\x01')
    assert open(path, 'rb').read() == b'\x00\x01'


def test_failing_callback_keeps_the_previous_file_and_names_the_path(tmp_path):
    path = str(tmp_path / 'table.json')
    atomic_write_text(path, 'previous')

    def half_then_fail(f):
        f.write(b'partial content')
        raise ValueError('disk exploded\nsecond line')

    with pytest.raises(AtomicWriteError) as err:
        atomic_write(path, half_then_fail, advice='; free some space')
    message = str(err.value)
    assert path in message and 'disk exploded' in message and 'second line' not in message
    assert 'Nothing was written; free some space' in message
    assert isinstance(err.value.__cause__, ValueError)
    assert open(path).read() == 'previous'
    assert _leftovers(tmp_path) == []
    assert isinstance(err.value, OSError)  # callers that catch OSError still catch it


def test_keyboard_interrupt_is_reraised_as_itself_after_the_clean_up(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    atomic_write_bytes(path, b'old')

    def interrupted(f):
        f.write(b'new bytes')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupted)
    assert open(path, 'rb').read() == b'old'
    assert _leftovers(tmp_path) == []


def test_folder_that_is_a_file_is_one_error_naming_the_path(tmp_path):
    blocker = tmp_path / 'not_a_folder'
    blocker.write_text('x')
    path = str(blocker / 'out.json')
    with pytest.raises(AtomicWriteError, match='cannot write .*out.json: cannot create a file in'):
        dump_json({'a': 1}, path)
    assert blocker.read_text() == 'x'
    assert os.listdir(tmp_path) == ['not_a_folder']


@pytest.mark.skipif(os.name != 'posix' or os.geteuid() == 0,
                    reason='a read-only folder is writable for root')
def test_read_only_folder_keeps_the_previous_file(tmp_path):
    folder = tmp_path / 'ro'
    folder.mkdir()
    path = str(folder / 'out.txt')
    atomic_write_text(path, 'previous')
    folder.chmod(0o555)
    try:
        with pytest.raises(AtomicWriteError, match=r'cannot write .*out\.txt'):
            atomic_write_text(path, 'new')
        assert open(path).read() == 'previous'
        assert os.listdir(folder) == ['out.txt']
    finally:
        folder.chmod(0o755)


def test_failed_rename_removes_the_written_temporary_file(tmp_path):
    """The write succeeds but the rename fails (the destination is a non-empty folder): the
    folder is untouched and the temporary file is gone."""
    dest = tmp_path / 'dest'
    dest.mkdir()
    (dest / 'keep.txt').write_text('kept')
    with pytest.raises(AtomicWriteError, match=r'cannot write .*dest'):
        atomic_write_bytes(str(dest), b'content')
    assert (dest / 'keep.txt').read_text() == 'kept'
    assert _leftovers(tmp_path) == [] and os.listdir(tmp_path) == ['dest']


@pytest.mark.parametrize('umask', [0o022, 0o077, 0o002])
def test_written_files_get_the_usual_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = str(tmp_path / f'out_{umask:o}.txt')
        atomic_write_text(path, 'x')
        torch_save_atomic({'w': torch.ones(1)}, path + '.pth')
    finally:
        os.umask(old)
    for p in (path, path + '.pth'):
        assert os.stat(p).st_mode & 0o777 == 0o666 & ~umask


def test_json_round_trips_non_finite_floats_as_strict_json(tmp_path):
    data = {'psnr': float('inf'), 'ap': float('nan'), 'low': -float('inf'), 'ok': 1.5,
            'rows': [[1, float('inf')], {'x': float('nan')}], 'name': 'hr'}
    path = str(tmp_path / 'r.json')
    dump_json(data, path)
    json.loads(open(path).read())  # strict JSON (no bare NaN / Infinity)
    assert 'NaN' not in open(path).read() and 'Infinity' not in open(path).read()
    back = load_json(path)
    assert back['psnr'] == math.inf and back['low'] == -math.inf and math.isnan(back['ap'])
    assert back['rows'][0] == [1, math.inf] and math.isnan(back['rows'][1]['x'])
    assert back['ok'] == 1.5 and back['name'] == 'hr'


def _image(h=13, w=17, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_png_round_trips_rgb_exactly(tmp_path):
    rgb = _image()
    path = str(tmp_path / 'img.png')
    write_png(path, rgb)
    bgr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(bgr, rgb[..., ::-1])


def test_png_of_a_bgr_array_with_channel_order_bgr(tmp_path):
    bgr = _image(seed=1)
    path = str(tmp_path / 'img.png')
    write_png(path, bgr, compression=None, channel_order='bgr')
    np.testing.assert_array_equal(cv2.imread(path, cv2.IMREAD_UNCHANGED), bgr)
    with pytest.raises(ValueError, match="channel_order must be 'rgb' or 'bgr'"):
        write_png(str(tmp_path / 'bad.png'), bgr, channel_order='rgba')
    assert not osp.exists(tmp_path / 'bad.png')


def test_read_jsonl_skips_a_torn_last_line_and_merges_records_per_key(tmp_path):
    a = tmp_path / 'a.jsonl'
    a.write_text(json.dumps({'file': '1.png', 'psnr': 30.0}) + '\n'
                 + json.dumps({'file': '2.png', 'psnr': 20.0}) + '\n'
                 + json.dumps({'file': '1.png', 'ssim': 0.9}) + '\n'
                 + '{"file": "3.png", "ps')  # torn by a kill
    (tmp_path / 'b.jsonl').write_text(json.dumps({'file': '2.png', 'lpips': 0.1}) + '\n'
                                      + json.dumps({'no_file': 1}) + '\n')
    recs = read_jsonl(str(tmp_path / '*.jsonl'))
    assert recs == {'1.png': {'file': '1.png', 'psnr': 30.0, 'ssim': 0.9},
                    '2.png': {'file': '2.png', 'psnr': 20.0, 'lpips': 0.1}}
    by_stem = read_jsonl(str(tmp_path / 'a.jsonl'), key=lambda r: r['file'].split('.')[0])
    assert set(by_stem) == {'1', '2'}


def test_append_jsonl_ends_a_torn_line_first(tmp_path):
    path = str(tmp_path / 'log.jsonl')
    append_jsonl(path, {'file': '1.png', 'psnr': 30.0})
    with open(path, 'a') as f:
        f.write('{"file": "2.png", "psn')  # a killed run's torn last line
    append_jsonl(path, {'file': '3.png', 'psnr': 25.0})
    lines = open(path).read().split('\n')
    assert lines[-1] == '' and json.loads(lines[-2]) == {'file': '3.png', 'psnr': 25.0}
    assert lines[1] == '{"file": "2.png", "psn'
    assert set(read_jsonl(path)) == {'1.png', '3.png'}


def test_file_sha256_changes_when_the_file_is_rewritten_at_the_same_path(tmp_path):
    path = str(tmp_path / 'w.bin')
    atomic_write_bytes(path, b'a' * 100)
    first = file_sha256(path)
    assert first == hashlib.sha256(b'a' * 100).hexdigest()
    assert file_sha256(path) == first  # memoised, same answer
    # The memo key holds timestamps: kernels with coarse (one clock tick) file timestamps cannot
    # tell two writes within one tick apart, so let one tick pass.
    time.sleep(0.02)
    st = os.stat(path)
    with open(path, 'r+b') as f:  # same size, same inode, in place
        f.write(b'b')
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the mtime set back
    second = file_sha256(path)
    assert second == hashlib.sha256(b'b' + b'a' * 99).hexdigest() != first
    atomic_write_bytes(path, b'a' * 100)  # replaced: new inode, content as at first
    assert file_sha256(path) == first
    assert file_sha256(str(tmp_path / 'missing.bin')) is None


def test_torch_save_atomic_round_trips(tmp_path):
    obj = {'state_dict': {'w': torch.randn(3, 4), 'n': torch.tensor(7)}, 'meta': {'iter': 5}}
    path = str(tmp_path / 'ck' / 'iter_5.pth')
    torch_save_atomic(obj, path)
    back = torch.load(path, weights_only=True)
    assert back['meta'] == {'iter': 5}
    assert torch.equal(back['state_dict']['w'], obj['state_dict']['w'])
    assert torch.equal(back['state_dict']['n'], obj['state_dict']['n'])
    assert os.listdir(osp.dirname(path)) == ['iter_5.pth']

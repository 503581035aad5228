"""The cascade split over two ranks (CPU, gloo) gives the single-process tables.

This is the ``--launcher pytorch`` path after the process group exists (see
``cascade_testlib.run_cascade_on_rank``): each rank prepares and super-resolves its share of the
images, mmdet's distributed sampler splits the detection pass and the evaluator gathers it.
"""
import json
import os.path as osp
import socket

import pytest
import torch
import torch.multiprocessing as mp

from helpers import cascade_testlib as lib
from fdsr_mm.apis import run_cascade
from fdsr_mm.evaluation import load_results

pytestmark = pytest.mark.slow  # (setup.cfg: spawns processes / runs end to end)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_ranks_split_images_and_give_single_process_results(tmp_path):
    torch.set_num_threads(1)
    data = str(tmp_path / 'data')
    lib.make_dataset(data, num_val=6, image_hw=(64, 72))
    cfg, ckpt = lib.make_detector(str(tmp_path / 'det'), data)
    sr_cfg, sr_ckpt = lib.write_sr_model(str(tmp_path))
    methods = ['hr', 'bicubic', f'dbpn={sr_cfg}:{sr_ckpt}']
    kwargs = dict(detector_config=cfg, detector_checkpoint=ckpt, methods=methods, scale=4,
                  iq_metrics=['psnr', 'ssim'], progress=False, resamples=50,
                  compare=['dbpn:hr'])

    single = run_cascade(out_dir=str(tmp_path / 'single'), **kwargs)
    dist_out = str(tmp_path / 'dist')
    mp.spawn(lib.run_cascade_on_rank, nprocs=2, join=True,
             args=(2, _free_port(), dict(kwargs, out_dir=dist_out),
                   str(tmp_path / 'rank{}.json')))

    ranks = [load_results(str(tmp_path / f'rank{r}.json')) for r in (0, 1)]
    written = load_results(osp.join(dist_out, 'results.json'))  # by rank 0
    assert written['dataset']['num_evaluated'] == 6
    for m in ('hr', 'bicubic', 'dbpn'):
        assert written['methods'][m]['det'] == single['methods'][m]['det']
        for k, v in single['methods'][m]['iq'].items():
            assert abs(written['methods'][m]['iq'][k] - v) < 1e-9
    # the bootstrap intervals come from the gathered per-image records: the 1-process numbers
    assert written['intervals'] == single['intervals']
    assert len(written['intervals']['pairs']) == 3 * 6
    assert written['intervals']['num_images'] == 6
    # each rank super-resolved and prepared its own half of the images
    dbpn_dir = written['methods']['dbpn']['spec']['cache']
    for logs in ([osp.join(osp.dirname(dbpn_dir), f'prepare.rank{r}.jsonl') for r in (0, 1)],
                 [osp.join(dbpn_dir, f'iq.rank{r}.jsonl') for r in (0, 1)]):
        lines = [open(log).read().splitlines() for log in logs]
        assert [len(x) for x in lines] == [3, 3]
        files = [json.loads(x)['file'] for part in lines for x in part]
        assert len(set(files)) == 6
    # both ranks return the gathered numbers (timings are per rank)
    for m, r in written['methods'].items():
        for rank_res in ranks:
            assert (rank_res['methods'][m]['det'], rank_res['methods'][m]['iq']) == \
                (r['det'], r['iq'])

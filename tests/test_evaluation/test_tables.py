"""Paper-shaped tables: rows/columns as in the FDSR paper, inf handled, atomic JSON round trip."""
import math
import os

from fdsr_mm.evaluation import load_results, merge_tables, table1, table2, table3, write_tables


def _result(name='faster-rcnn_r50_fpn_1x_coco', metric='coco', ap=26.5):
    det = dict(AP=ap, AP50=44.3, AP75=27.6, APS=9.0, APM=29.2, APL=42.5) if metric == 'coco' \
        else dict(mAP=ap)
    return dict(
        detector=dict(name=name, config=f'configs/detectors/{name}.py', checkpoint='x.pth'),
        metric=metric, scale=4,
        dataset=dict(num_images=5, num_evaluated=4, grayscale_images=1, modcropped_images=0,
                     failed_images=[dict(file='a/bad.jpg', reason='corrupt: x')]),
        methods=dict(hr=dict(iq={}, det=dict(det)),
                     bicubic=dict(iq=dict(psnr=25.89, psnr_y=27.0, ssim=0.7, fsim=0.9872,
                                          fsimc=0.98), det=dict(det)),
                     ident=dict(iq=dict(psnr=float('inf'), psnr_y=float('inf'), ssim=1.0,
                                        fsim=1.0, fsimc=1.0), det=dict(det))))


def test_table1_has_the_paper_rows_and_methods_as_columns():
    md = table1(_result())['markdown'].splitlines()
    assert md[0] == '| Method | hr | bicubic | ident |'
    rows = [line.split(' | ')[0].strip('| ') for line in md[2:13]]
    assert rows[:8] == ['PSNR', 'FSIM', 'AP', 'AP0.5', 'AP0.75', 'APS', 'APM', 'APL']
    assert md[2] == '| PSNR | - | 25.89 | inf |'
    assert md[3] == '| FSIM | - | 0.9872 | 1.0000 |'
    assert md[4] == '| AP | 26.5 | 26.5 | 26.5 |'
    text = '\n'.join(md)
    assert '4 of 5 images evaluated' in text and 'a/bad.jpg (corrupt: x)' in text
    assert '1 grayscale image(s)' in text
    csv_lines = table1(_result())['csv'].splitlines()
    assert csv_lines[0] == 'Method,hr,bicubic,ident' and csv_lines[2] == 'FSIM,-,0.9872,1.0000'


def test_table3_rows_are_methods():
    md = table3(_result(name='ssd300_voc0712', metric='voc', ap=48.85))['markdown'].splitlines()
    assert md[0].startswith('| Method | PSNR | FSIM | mAP |')
    assert md[3].startswith('| bicubic | 25.89 | 0.9872 | 48.9 |')


def test_write_and_merge_are_atomic_and_round_trip(tmp_path):
    a = str(tmp_path / 'a')
    paths = write_tables(_result(), a)
    assert sorted(os.listdir(a)) == ['results.json', 'table1.csv', 'table1.md']  # no tmp left
    back = load_results(paths['json'])
    assert math.isinf(back['methods']['ident']['iq']['psnr'])
    with open(paths['json']) as f:
        assert 'Infinity' not in f.read()  # strict JSON
    b = str(tmp_path / 'b')
    write_tables(_result(name='retinanet_r50_fpn_1x_coco', ap=25.7), b)
    merged = merge_tables([paths['json'], os.path.join(b, 'results.json')], str(tmp_path / 't2'),
                          methods=['hr', 'bicubic', 'ident', 'fdsr'])
    md = open(merged['markdown']).read().splitlines()
    assert md[0] == '| Detector | Metric | hr | bicubic | ident | fdsr |'
    assert md[2] == '| faster-rcnn_r50_fpn_1x_coco | AP | 26.5 | 26.5 | 26.5 | - |'
    assert md[3] == '| retinanet_r50_fpn_1x_coco | AP | 25.7 | 25.7 | 25.7 | - |'
    assert table2([_result()])['csv'].splitlines()[1].startswith('faster-rcnn_r50_fpn_1x_coco,AP')

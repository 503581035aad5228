"""fdsr_mm.utils.output_names: one distinct output stem per input, outputs inside their folder."""
from fdsr_mm.utils.output_names import is_within, overlaps, safe_relative, unique_stems


def test_unique_stems_keep_plain_names_and_split_shared_stems():
    assert unique_stems(['b.png', 'x/a.png', 'y/a.png']) == ['b', 'x/a', 'y/a']
    assert unique_stems(['a.png', 'a.jpg', 'A.JPEG', 'c.tif']) == ['a_png', 'a_jpg', 'A_JPEG',
                                                                   'c']
    # a generated name never takes a plain one, and the same file twice gets two names
    assert unique_stems(['a.png', 'a.jpg', 'a_png.bmp']) == ['a_png_2', 'a_jpg', 'a_png']
    assert unique_stems(['a.png', 'a.png']) == ['a_png', 'a_png_2']


def test_names_stay_inside_the_output_folder():
    assert safe_relative('../../etc/x.png') == 'x.png'
    assert safe_relative('/abs/y.jpg') == 'y.jpg'
    assert safe_relative('./d/../z.png') == 'z.png'
    assert unique_stems(['../a.png', 'sub/b.png']) == ['a', 'sub/b']


def test_overlap(tmp_path):
    root = str(tmp_path)
    assert is_within(root + '/a/b', root + '/a') and not is_within(root + '/ab', root + '/a')
    assert overlaps(root, root + '/x') and overlaps(root + '/x', root)
    assert not overlaps(root + '/x', root + '/y')

"""COCO results of :class:`~fdsr_mm.apis.inferencers.SRDetInferencer` (``tools/sr_detect.py``):
the dataset's image and category ids (or 1..N / 1..K) and the atomic ``results.bbox.json`` /
``images.json`` writer (boxes [x, y, w, h] in input pixels)."""
import json
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from fdsr_mm.utils.io import atomic_write_text
from fdsr_mm.apis.inferencers.sr_det_inputs import SRDetectError


# ---------------------------------------------------------------------------------------------
# COCO ids: the dataset's image and category ids, or 1..N / 1..K
# ---------------------------------------------------------------------------------------------
class CocoIds(NamedTuple):
    """``image_id`` per input file, ``category_id`` per class index, and how they were made."""
    image_ids: Dict[str, int]
    category_ids: List[int]
    source: str


def _match_image(path: str, by_base: Dict[str, List[dict]]) -> Optional[dict]:
    """The json image whose ``file_name`` is the longest '/'-suffix of ``path``; raises on a
    tie between two images."""
    full = osp.abspath(path).replace(osp.sep, '/')
    found = [im for im in by_base.get(osp.basename(path), [])
             if full == im['_fn'] or full.endswith('/' + im['_fn'])]
    if not found:
        return None
    longest = max(len(im['_fn']) for im in found)
    best = [im for im in found if len(im['_fn']) == longest]
    if len({im['id'] for im in best}) > 1:
        raise SRDetectError(f'{path} matches several images of the annotation file '
                            f'({best[0]["_fn"]}: ids {sorted(im["id"] for im in best)})',
                            '--ann-file', 'give each image one file_name')
    return best[0]


def coco_ids(files: Sequence[str], classes: Sequence[str],
             ann_file: Optional[str] = None) -> CocoIds:
    """The ids ``results.bbox.json`` uses.

    With ``ann_file`` (a COCO json, e.g. the LR json of ``tools/make_lr_coco.py``): each file's
    ``image_id`` is that of the json image whose ``file_name`` ends the file's path, and each
    class's ``category_id`` that of the json category with its name; a file or a class the json
    lacks is refused (:class:`SRDetectError`), as results with made-up ids would be scored
    against the wrong objects. Without it: image ids 1..N in file order, category ids
    1 + class index.
    """
    if ann_file is None:
        return CocoIds({f: i + 1 for i, f in enumerate(files)},
                       list(range(1, len(classes) + 1)),
                       'no --ann-file: image_id = 1..N in the order of the files, '
                       'category_id = 1 + index of the class in the model\'s classes')
    if not osp.isfile(ann_file):
        raise SRDetectError('the annotation file does not exist', f'--ann-file {ann_file}')
    try:
        with open(ann_file, encoding='utf-8') as f:
            coco = json.load(f)
        images, categories = coco['images'], coco['categories']
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise SRDetectError(f'not a COCO json with images and categories ({e})',
                            f'--ann-file {ann_file}') from None
    by_base: Dict[str, List[dict]] = {}
    for im in images:
        fn = osp.normpath(im['file_name']).replace(osp.sep, '/')
        by_base.setdefault(osp.basename(fn), []).append(dict(im, _fn=fn))
    image_ids = {}
    for file in files:
        match = _match_image(file, by_base)
        if match is None:
            raise SRDetectError(f'{file} is not an image of the annotation file (no file_name '
                                'ends its path)', f'--ann-file {ann_file}',
                                'pass only the images it lists, or leave --ann-file out')
        image_ids[file] = int(match['id'])
    by_name = {}
    for c in categories:
        by_name.setdefault(c['name'], int(c['id']))
    missing = [c for c in classes if c not in by_name]
    if missing:
        raise SRDetectError(f'the model\'s classes {missing} are not categories of the '
                            f'annotation file (it has {sorted(by_name)[:10]}...)',
                            f'--ann-file {ann_file}',
                            'pass the json of the dataset the detector was trained for')
    return CocoIds(image_ids, [by_name[c] for c in classes],
                   f'from {ann_file}: image_id by file_name, category_id by class name')



def write_results(out_dir: str, files: Sequence[str], records: Dict[str, dict],
                  skipped: List[Tuple[str, str]], ids: CocoIds, classes: Sequence[str],
                  reused: int = 0) -> Dict:
    """Write ``results.bbox.json`` and ``images.json`` from the per-image records (atomic)."""
    images, results = [], []
    for file in files:
        rec = records.get(file)
        if rec is None:
            continue
        image_id = ids.image_ids[file]
        images.append(dict(id=image_id, file_name=file, width=rec['width'],
                           height=rec['height']))
        results.extend(dict(image_id=image_id, file_name=file,
                            category_id=ids.category_ids[d['label']], bbox=d['bbox'],
                            score=d['score']) for d in rec['detections'])
    atomic_write_text(osp.join(out_dir, 'results.bbox.json'), json.dumps(results))
    atomic_write_text(osp.join(out_dir, 'images.json'), json.dumps(dict(
        images=images, ids=ids.source,
        categories=[dict(id=i, name=c) for i, c in zip(ids.category_ids, classes)],
        skipped=[dict(file_name=f, reason=r) for f, r in skipped]), indent=1))
    return dict(images=len(images), reused=reused, skipped=skipped, detections=len(results))

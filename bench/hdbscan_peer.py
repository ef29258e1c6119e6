"""Peer for `crowdlab bench analyze`: scikit-learn's HDBSCAN on the same export, one fit per image.
Only the fit calls are timed (reading the JSON and grouping are not). Prints the seconds last."""
import json, sys, time
import numpy as np
import warnings
warnings.filterwarnings("ignore", category=FutureWarning)
from sklearn.cluster import HDBSCAN

records = json.load(open(sys.argv[1]))
by_image = {}
for r in records:
    pts = by_image.setdefault(r["image_filename"], [])
    for shape in r["raw_data"]:
        pts.extend((v["x"], v["y"]) for v in shape)
arrays = [np.asarray(p, dtype=float) for p in by_image.values() if len(p) >= 5]
total = 0.0
for a in arrays:
    t = time.perf_counter()
    HDBSCAN(min_cluster_size=3).fit(a)
    total += time.perf_counter() - t
print(f"{len(arrays)} images, {sum(len(a) for a in arrays)} points", file=sys.stderr)
print(f"{total:.4f}")

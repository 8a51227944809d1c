#!/usr/bin/env python3
"""resize-image: the OpenStack Qinling cookbook's thumbnail function, for hutch.

Every image in $HUTCH_IN becomes a thumbnail of the same name in $HUTCH_OUT, a quarter of each side by
default (as in the cookbook), or {"scale": 0.5}. Uses Debian's python3-opencv.
"""
import json
import os
import sys

import cv2

request = json.load(sys.stdin) or {}
scale = float(request.get("scale", 0.25)) if isinstance(request, dict) else 0.25
if not 0 < scale <= 1:
    sys.exit(f"scale: {scale} is out of range; use a number > 0 and <= 1")

results = []
for name in sorted(os.listdir(os.environ["HUTCH_IN"])):
    image = cv2.imread(os.path.join(os.environ["HUTCH_IN"], name), cv2.IMREAD_UNCHANGED)
    if image is None:
        sys.exit(f"{name} is not an image OpenCV can read")
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumbnail = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    extension = os.path.splitext(name)[1] or ".png"
    ok, encoded = cv2.imencode(extension, thumbnail)
    if not ok:
        sys.exit(f"{name}: could not encode the thumbnail as {extension}")
    with open(os.path.join(os.environ["HUTCH_OUT"], name), "wb") as out:
        out.write(encoded.tobytes())
    print(f"{name}: {width}x{height} -> {size[0]}x{size[1]}")
    results.append({"name": name, "width": size[0], "height": size[1]})

with os.fdopen(int(os.environ.get("HUTCH_RESULT_FD", "3")), "w") as result:
    json.dump({"thumbnails": results}, result)

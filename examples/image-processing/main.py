#!/usr/bin/env python3
"""image-processing: rgb2gray and clahe_equalization as in the Dataloop tutorial, for hutch.

Reads every image in $HUTCH_IN and writes the result under the same name in $HUTCH_OUT. Which function
runs is $HUTCH_FUNCTION. clahe_equalization takes {"clip_limit": 2.0, "tile_grid_size": 8}.
"""
import json
import os
import sys

import cv2


def rgb2gray(image, request):
    if image.ndim == 2:
        return image
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def clahe_equalization(image, request):
    clahe = cv2.createCLAHE(clipLimit=float(request.get("clip_limit", 2.0)),
                            tileGridSize=(int(request.get("tile_grid_size", 8)),) * 2)
    if image.ndim == 2:
        return clahe.apply(image)
    lab = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2LAB)
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


FUNCTIONS = {"rgb2gray": rgb2gray, "clahe_equalization": clahe_equalization}

function = FUNCTIONS.get(os.environ.get("HUTCH_FUNCTION", ""))
if function is None:
    sys.exit(f"unknown function {os.environ.get('HUTCH_FUNCTION')!r}; this package has {', '.join(FUNCTIONS)}")
request = json.load(sys.stdin) or {}
if not isinstance(request, dict):
    request = {}

processed = []
for name in sorted(os.listdir(os.environ["HUTCH_IN"])):
    image = cv2.imread(os.path.join(os.environ["HUTCH_IN"], name), cv2.IMREAD_UNCHANGED)
    if image is None:
        sys.exit(f"{name} is not an image OpenCV can read")
    result = function(image, request)
    ok, encoded = cv2.imencode(os.path.splitext(name)[1] or ".png", result)
    if not ok:
        sys.exit(f"{name}: could not encode the result")
    with open(os.path.join(os.environ["HUTCH_OUT"], name), "wb") as out:
        out.write(encoded.tobytes())
    print(f"{name}: {function.__name__} done")
    processed.append(name)

with os.fdopen(int(os.environ.get("HUTCH_RESULT_FD", "3")), "w") as result:
    json.dump({"processed": processed}, result)

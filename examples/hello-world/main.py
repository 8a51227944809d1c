#!/usr/bin/env python3
"""hello-world: the smallest hutch function in Python.

Input (stdin): JSON, e.g. {"name": "Ada"}. Result: JSON written to fd 3 ($HUTCH_RESULT_FD).
Anything printed goes to the execution's log, line by line, as it happens.
"""
import json
import os
import sys

request = json.load(sys.stdin) or {}
name = request.get("name", "World") if isinstance(request, dict) else "World"
print(f"Hello, {name}! (function {os.environ.get('HUTCH_FUNCTION')}, execution {os.environ.get('HUTCH_EXECUTION_ID')})")
with os.fdopen(int(os.environ.get("HUTCH_RESULT_FD", "3")), "w") as result:
    json.dump({"greeting": f"Hello, {name}"}, result)

"""Extra ground truth of the why_* scenarios: numbers only the scenario
knows (sums of sys.getsizeof, leak counts, expected names), written as
TRUTH.json.why.json in the parent before _truth.run() forks.  Everything
measured here is plain ints and strings that die before the fork's
measurements start (they are written out, then deleted)."""
import json
import os
import sys


def write(data):
    if len(sys.argv) < 3:
        return
    path = os.path.abspath(sys.argv[2]) + ".why.json"
    with open(path, "w") as f:
        json.dump(data, f)

"""why (c): a reachable cycle that only a local variable of a named
function (hold_batch) in a second thread keeps alive.  The path of the
cycle's retainer must go through <local 'batch' in hold_batch ...>."""
import gc
gc.disable()

import threading

import _truth
import _whytruth


class BatchNode:
    pass


_parked = threading.Event()
_release = threading.Event()


def hold_batch():
    batch = [BatchNode() for _ in range(2000)]
    for a, b in zip(batch, batch[1:] + batch[:1]):
        a.next = b
        a.payload = bytearray(2000)
    # The loop variables are locals too: while they hold ring members, the
    # list does not dominate the ring. Only `batch` may keep it alive.
    del a, b
    _parked.set()
    _release.wait()
    return len(batch)


_th = threading.Thread(target=hold_batch, name="holder", daemon=True)
_th.start()
_parked.wait()
_whytruth.write({"function": "hold_batch", "local": "batch",
                 "type": _truth.typename_of_class(BatchNode)})

_truth.run("why_local", classes=[BatchNode], cycles=False)

"""Memory scenario: an lxml-heavy program (issue 10).

Twelve libxml2 documents of 6,000 elements each (attributes, text, tails),
each kept alive by its root _Element only: the documents' memory is libxml2's
(malloc), reachable from Python only through lxml's proxies.  The truth's
`extra` is malloc's in-use growth while the documents were built (mallinfo
before and after) -- about what the report must attribute to lxml's objects.
"""
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _memtruth  # noqa: E402

try:
    from lxml import etree
except ImportError:
    sys.stderr.write("SKIP: lxml is not installed (python3-lxml)\n")
    sys.exit(77)

gc.disable()


def build(n, seed):
    root = etree.Element("catalog", version=str(seed))
    for i in range(n):
        item = etree.SubElement(root, "item", id="i%d-%d" % (seed, i), kind="k%d" % (i % 7))
        name = etree.SubElement(item, "name")
        name.text = "product number %d of catalog %d" % (i, seed)
        price = etree.SubElement(item, "price", currency="EUR")
        price.text = "%d.%02d" % (i, i % 100)
        price.tail = "\n"
    return root


before = _memtruth.mallinfo()
ROOTS = [build(6000, s) for s in range(12)]
gc.collect()
after = _memtruth.mallinfo()
grown = (after["uordblks"] + after["hblkhd"]) - (before["uordblks"] + before["hblkhd"])
_memtruth.run("mem_lxml", {"libxml2_bytes": grown, "documents": len(ROOTS)})

"""Real program 3: an lxml document kept alive by one element.

A feed importer parses a 2 MB XML catalogue with lxml, extracts what it
needs into plain dicts (strings, numbers), and then keeps -- by accident --
a single element of the document in a module-level "last seen" slot.  That
one proxy keeps the whole libxml2 tree alive (C memory the heap walk cannot
see) together with its _Document, its parser and dictionary.  Some element
proxies, XPath results and an ElementTree are garbage in cycles (a proxy
stored in a dict that the proxy's own attribute list refers to).
"""
import gc
gc.disable()

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _realtruth  # noqa: E402

etree = _realtruth.need("lxml.etree", "python3-lxml").etree

NITEMS = 6000


def make_feed():
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<catalog xmlns:x="urn:x" version="3">']
    for i in range(NITEMS):
        parts.append(
            '<item id="i%d" x:sku="SKU-%06d" price="%d.%02d"><name>Item number %d</name>'
            '<desc lang="en">%s</desc><tags><tag>t%d</tag><tag>c%d</tag></tags></item>'
            % (i, i, i % 500, i % 100, i, "lorem ipsum " * (i % 7 + 1), i % 13, i % 5))
    parts.append("</catalog>")
    return "".join(parts).encode("utf-8")


PRODUCTS = {}
LAST_SEEN = None            # the leak: one element keeps the document alive
GARBAGE_HINT = []


class Holder:
    def __init__(self, el):
        self.el = el
        self.attrs = dict(el.attrib)
        self.attrs["holder"] = self      # cycle


def import_feed(data):
    global LAST_SEEN
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(data, parser)
    tree = root.getroottree()
    for item in root.iterfind("item"):
        pid = item.get("id")
        PRODUCTS[pid] = {"name": item.findtext("name"), "price": float(item.get("price")),
                         "tags": [t.text for t in item.iterfind("tags/tag")]}
        if pid.endswith("99"):
            Holder(item)                  # garbage cycle with an element proxy
    expensive = tree.xpath("//item[number(@price) > 450]/name")
    Holder(expensive[0])
    LAST_SEEN = root[NITEMS // 2][1]      # a <desc> element
    GARBAGE_HINT.append(len(expensive))


import_feed(make_feed())
del import_feed

_realtruth.run("real_lxml")

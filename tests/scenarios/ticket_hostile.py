"""ticket (issue 13): heap text that would break a Markdown or HTML page.
A module `ticket_mod` (made at run time) whose `_CACHE` dict maps a key
full of markup -- a table pipe, backticks, "<script>", "</script>", a
newline, an escape character, a bidi override, U+2028 -- to a list of
5,000 bytes objects of 1 KB: the top suspect's path ends in that key, so
the verdict, the suspects table and the HTML page all carry it. The same
text, made 50 times at run time, is a duplicate str in the waste section;
a local of main() holds one copy (the thread's frame shows it)."""
import gc
gc.disable()

import sys
import types

import _truth
import _whytruth

HOSTILE = "a|b `c` <script>alert(1)</script>\n\x1b[31m\u202e\u2028 & @here #1 **x**"

mod = types.ModuleType("ticket_mod")
sys.modules["ticket_mod"] = mod
mod._CACHE = {HOSTILE: [bytes([i % 251]) * 1000 for i in range(5000)]}
mod.COPIES = ["".join(list(HOSTILE)) for _ in range(50)]
_whytruth.write({"module": "ticket_mod", "name": "_CACHE", "hostile": HOSTILE})
del mod


def main():
    held = "".join(list(HOSTILE))  # noqa: F841 (a frame local)
    _truth.run("ticket_hostile", cycles=False)


main()

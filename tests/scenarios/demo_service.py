"""The program `make demo` dumps: a small order service with a real leak.

    python demo_service.py MODE TRUTH.json      MODE: abort | sleep

It looks like what people run: a package `shop` with a pricing module that
memoizes rendered quotes in a module-level dict that nobody ever trims (the
leak: 12,000 quotes of about 2 KB), finished orders whose line items point
back at their order (cycles that only the collector frees; the service runs
with gc disabled, as some latency-sensitive services do), a worker thread
blocked on its queue and the main thread inside the request handler.

Standard library only, CPython 3.8 - 3.15.  No ground truth is measured
here beyond what the demo test needs (tests/e2e/run_why.py, which reads
TRUTH.json.why.json): the leaking dict's module, name, address and the
number of quotes it holds.
"""
import gc
gc.disable()

import json
import os
import queue
import sys
import threading
import types

QUOTES = 12000


def _module(name):
    mod = types.ModuleType(name)
    sys.modules[name] = mod
    return mod


shop = _module("shop")
pricing = _module("shop.pricing")
orders = _module("shop.orders")
shop.pricing = pricing
shop.orders = orders

exec('''
class Customer:
    def __init__(self, cid, name):
        self.cid = cid
        self.name = name


class Order:
    def __init__(self, oid, customer):
        self.oid = oid
        self.customer = customer
        self.items = []

    def add(self, sku, qty, price):
        self.items.append(LineItem(self, sku, qty, price))


class LineItem:
    def __init__(self, order, sku, qty, price):
        self.order = order          # back-reference: order <-> item cycle
        self.sku = sku
        self.qty = qty
        self.price = price
''', orders.__dict__)

exec('''
_QUOTE_CACHE = {}


class Quote:
    def __init__(self, order, total, rendered):
        self.order_id = order.oid
        self.total = total
        self.rendered = rendered


def quote(order):
    key = (order.customer.cid, order.oid)
    q = _QUOTE_CACHE.get(key)
    if q is None:
        total = sum(i.qty * i.price for i in order.items)
        body = ("quote %d for %s: %.2f\\n" % (order.oid, order.customer.name, total)) * 60
        q = _QUOTE_CACHE[key] = Quote(order, total, body.encode())
    return q
''', pricing.__dict__)


def handle_requests(n):
    customers = [orders.Customer(c, "customer-%d" % c) for c in range(200)]
    for oid in range(n):
        order = orders.Order(oid, customers[oid % len(customers)])
        for k in range(3):
            order.add("sku-%d" % ((oid * 7 + k) % 500), k + 1, 9.5 + k)
        pricing.quote(order)
        # the order itself is dropped here: its items keep it in a cycle


jobs = queue.Queue()


def worker():
    while True:
        job = jobs.get()
        if job is None:
            return


t = threading.Thread(target=worker, name="shop-worker", daemon=True)
t.start()


def serve(mode, truth_path):
    handle_requests(QUOTES)
    truth = {"leak_module": "shop.pricing", "leak_name": "_QUOTE_CACHE",
             "leak_id": id(pricing._QUOTE_CACHE), "quotes": len(pricing._QUOTE_CACHE)}
    for path in (truth_path, truth_path + ".why.json"):
        with open(path, "w") as f:
            json.dump(truth, f)
    if mode == "sleep":
        sys.stdout.write("READY %d\n" % os.getpid())
        sys.stdout.flush()
        threading.Event().wait()
    os.abort()


serve(sys.argv[1], sys.argv[2])

"""Real program 4: an asyncio service caught with work in flight.

An aiohttp web application (routes, middleware, an app-level session store
that leaks one entry per request) serves a client on the same loop over
real localhost sockets.  At dump time:
  - 40 client requests are in flight against a "slow" endpoint whose
    handlers wait on an asyncio.Event (pending handler tasks on the server
    side, pending client tasks and connections on the other);
  - 200 background tasks wait on asyncio.sleep(3600), on futures nobody
    will resolve, on an asyncio.Queue, and in an asyncio.gather;
  - a plain asyncio streams echo server has 10 connected clients mid-read.
A multidict that had its first entry deleted keeps the stale words of its
last inline pair (the later pairs move down, the spare slot is not
cleared): a conservative scan of it finds one reference more than the
refcount of that pair's list allows (run_real's "stale_copies" check).
The loop is stopped (not closed) by the main coroutine returning; the
program then dumps from the main thread: every pending task, coroutine,
future, transport and protocol is alive in the heap.  Requests that
completed left garbage cycles behind (request/response objects, traceback
of a handled 404).
"""
import gc
gc.disable()

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _realtruth  # noqa: E402

import asyncio  # noqa: E402

web = _realtruth.need("aiohttp.web", "python3-aiohttp").web
aiohttp = sys.modules["aiohttp"]

SESSIONS = {}               # the leak: one entry per request, never expired
RELEASE = None              # asyncio.Event the slow handlers wait on
STATE = {}


@web.middleware
async def session_middleware(request, handler):
    sid = request.headers.get("X-Session", "anon")
    SESSIONS.setdefault(sid, []).append({"path": request.path, "peer": request.remote,
                                         "headers": dict(request.headers)})
    return await handler(request)


async def hello(request):
    return web.json_response({"hello": request.match_info.get("name", "world"),
                              "n": len(SESSIONS)})


async def slow(request):
    await RELEASE.wait()
    return web.Response(text="finally")


async def upload(request):
    body = await request.read()
    return web.json_response({"size": len(body)})


async def echo_handler(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()


async def forever_waiters(loop):
    tasks = []
    futures = [loop.create_future() for _ in range(50)]
    queue = asyncio.Queue()
    for i in range(60):
        tasks.append(asyncio.ensure_future(asyncio.sleep(3600 + i)))
    for i, fut in enumerate(futures):
        async def wait_fut(f=fut, i=i):
            buf = ["pending-%d" % i] * 10
            return await f, buf
        tasks.append(asyncio.ensure_future(wait_fut()))
    for i in range(40):
        async def consumer(i=i):
            return await queue.get()
        tasks.append(asyncio.ensure_future(consumer()))
    tasks.append(asyncio.ensure_future(asyncio.gather(*[asyncio.sleep(7200) for _ in range(50)])))
    STATE["waiters"] = tasks
    STATE["futures"] = futures
    STATE["queue"] = queue


async def main():
    global RELEASE
    loop = asyncio.get_running_loop()
    RELEASE = asyncio.Event()
    app = web.Application(middlewares=[session_middleware])
    app.router.add_get("/", hello)
    app.router.add_get("/hello/{name}", hello)
    app.router.add_get("/slow", slow)
    app.router.add_post("/upload", upload)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    echo = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
    echo_port = echo.sockets[0].getsockname()[1]
    STATE.update(app=app, runner=runner, site=site, echo=echo)

    session = aiohttp.ClientSession()
    STATE["session"] = session
    base = "http://127.0.0.1:%d" % port
    for i in range(150):
        async with session.get("%s/hello/user%d" % (base, i), headers={"X-Session": "s%d" % (i % 30)}) as r:
            await r.json()
    for i in range(20):
        async with session.post(base + "/upload", data=b"x" * (1000 * (i + 1))) as r:
            await r.json()
    async with session.get(base + "/missing") as r:
        await r.read()

    async def slow_client(i):
        async with session.get(base + "/slow", headers={"X-Session": "slow%d" % i}) as r:
            return await r.text()
    STATE["slow_clients"] = [asyncio.ensure_future(slow_client(i)) for i in range(40)]

    streams = []
    for i in range(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", echo_port)
        writer.write(b"hello %d\n" % i)
        await writer.drain()
        await reader.readline()
        streams.append((reader, writer))
    STATE["streams"] = streams

    await forever_waiters(loop)
    # let every handler reach its await, then stop with all of it pending
    while len([s for s in SESSIONS if s.startswith("slow")]) < 40:
        await asyncio.sleep(0.01)
    for _ in range(20):
        await asyncio.sleep(0)


# multidict keeps its first pairs inside the object; deleting "k0" moves
# k1..k3 down one slot and leaves k3's old words in the fourth slot.
STALE = sys.modules["multidict"].MultiDict()
for _i in range(4):
    STALE.add("k%d" % _i, [_i])
del STALE["k0"], _i

LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)
LOOP.run_until_complete(main())
del main

_realtruth.run("real_async")

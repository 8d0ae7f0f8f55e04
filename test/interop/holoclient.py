"""A small asyncio client for holoserve (docs/PROTOCOL.md) from stock libraries only.

Dependencies: msgpack (standard API: packb(obj, use_bin_type=True), unpackb(data, raw=False)),
websockets (10.4 as in Debian bookworm, or the newer websockets.asyncio API) and numpy.
No msgpack extension types in either direction.

    async with await HoloClient.connect('ws://127.0.0.1:7878/v1') as c:
        r = await c.request('bind', a=f32(a), b=f32(b))
        v = from_f32(r['vector'])

Replies are matched to requests by id, so any number of requests may be in flight at once
(`request` can be awaited concurrently with asyncio.gather). Ids need not be unique on the
wire: several waiters on one id are answered in the order they were sent.
"""
import asyncio
import collections
import itertools

import msgpack
import numpy as np

try:  # websockets >= 13: the new asyncio implementation
    from websockets.asyncio.client import connect as _ws_connect
except ImportError:  # websockets 10.x-12.x (Debian bookworm: 10.4)
    from websockets.client import connect as _ws_connect


# ---------------------------------------------------------------- wire arrays (little-endian)

def f32(x):
    """numpy array → bin of little-endian float32 (an HRR vector)."""
    return np.ascontiguousarray(x, dtype='<f4').tobytes()


def f64(x):
    """numpy array → bin of little-endian float64 (Sinkhorn, heat)."""
    return np.ascontiguousarray(x, dtype='<f8').tobytes()


def u32(x):
    """numpy array → bin of little-endian uint32 (graph edge indices)."""
    return np.ascontiguousarray(x, dtype='<u4').tobytes()


def from_f32(b):
    return np.frombuffer(b, dtype='<f4').astype(np.float32)


def from_f64(b):
    return np.frombuffer(b, dtype='<f8').astype(np.float64)


def from_u32(b):
    return np.frombuffer(b, dtype='<u4').astype(np.uint32)


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False)


# ---------------------------------------------------------------- client

class HoloError(Exception):
    def __init__(self, reply):
        err = reply.get('error') or {}
        super().__init__(f"{err.get('code')}: {err.get('message')}")
        self.code = err.get('code')
        self.reply = reply


class HoloClient:
    def __init__(self, ws):
        self.ws = ws
        self._ids = itertools.count(1)
        self._waiting = collections.defaultdict(collections.deque)  # id -> futures, send order
        self.unmatched = []  # replies nobody waited for (a protocol violation if non-empty)
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url, max_size=64 * 2**20):
        ws = await _ws_connect(url, max_size=max_size, compression=None)
        c = cls(ws)
        c.url = url
        return c

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        await self.ws.close()
        try:
            await asyncio.wait_for(self._reader, 5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self._reader.cancel()

    async def _read(self):
        err = None
        try:
            async for data in self.ws:
                if isinstance(data, str):
                    self.unmatched.append({'text frame': data})
                    continue
                reply = unpack(data)
                q = self._waiting.get(reply.get('id')) if isinstance(reply, dict) else None
                if q:
                    fut = q.popleft()
                    if not q:
                        del self._waiting[reply['id']]
                    if not fut.done():
                        fut.set_result(reply)
                else:
                    self.unmatched.append(reply)
        except Exception as e:  # connection closed or a bad frame: fail every waiter
            err = e
        for q in self._waiting.values():
            for fut in q:
                if not fut.done():
                    fut.set_exception(ConnectionError(f'connection closed before the reply: {err!r}'))
        self._waiting.clear()

    def next_id(self):
        return next(self._ids)

    async def send_raw(self, data, expect_id):
        """Sends bytes as one binary frame (a str as a text frame); resolves with the next reply
        carrying expect_id (0 for a frame the server cannot decode)."""
        fut = asyncio.get_running_loop().create_future()
        self._waiting[expect_id].append(fut)
        await self.ws.send(data)
        return await fut

    async def call(self, frame):
        """Sends a frame (a dict; an id is added if missing) and returns the whole reply map."""
        if 'id' not in frame:
            frame = {'id': self.next_id(), **frame}
        return await self.send_raw(pack(frame), frame['id'])

    async def request(self, op, **fields):
        """Sends {id, op, **fields}; returns the reply map, raising HoloError when ok is false."""
        reply = await self.call({'op': op, **fields})
        if reply.get('ok') is not True:
            raise HoloError(reply)
        return reply


class HoloClusterClient:
    """Several holoserve processes sharing one Redis (setting advertiseUrl): connect to any one;
    a tenant request that gets `moved` (its message is the owner's URL) is sent again there and
    the owner is remembered for the tenant (at most 5 hops, waiting 50·hop ms from the second
    on, as the TypeScript HoloClusterClient does). Requests without a tenant go to the first."""

    def __init__(self, first):
        self.first = first
        self.clients = {}      # url -> HoloClient (the first included)
        self.owners = {}       # tenant -> url
        self.hops = 0          # moved replies followed (for tests and curiosity)

    @classmethod
    async def connect(cls, url):
        c = cls(url)
        c.clients[url] = await HoloClient.connect(url)
        return c

    async def _client(self, url):
        if url not in self.clients:
            self.clients[url] = await HoloClient.connect(url)
        return self.clients[url]

    async def request(self, op, **fields):
        tenant = fields.get('tenant')
        for hop in range(6):
            url = self.owners.get(tenant, self.first) if isinstance(tenant, str) else self.first
            try:
                return await (await self._client(url)).request(op, **fields)
            except HoloError as e:
                if e.code != 'moved' or not isinstance(tenant, str) or hop == 5:
                    raise
                self.owners[tenant] = e.reply['error']['message']
                self.hops += 1
                if hop >= 1:
                    await asyncio.sleep(0.05 * hop)

    async def close(self):
        for c in self.clients.values():
            await c.close()

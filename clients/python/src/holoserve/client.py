"""The asyncio client (docs/PROTOCOL.md): one WebSocket, one msgpack map per binary frame.

Requests are pipelined: each gets an id, any number are in flight at once (await them
concurrently with asyncio.gather) and replies are matched by id, in any order. Ids need not be
unique on the wire: several waiters on one id are answered in the order they were sent.

Reconnect (as the TypeScript client): when the connection drops, the requests in flight fail
with HoloError('unavailable') (they may or may not have run: retry the idempotent ones) and the
next request opens a new connection, backing off from 50 ms up to 2 s between failed attempts.
"""
from __future__ import annotations

import asyncio
import collections
import itertools
from typing import Any, Deque, Dict, List, Mapping, Optional, Sequence, Union

from .errors import HoloError
from .types import (AnchorPutResult, CleanupResult, GraphPutResult, Hello, RecallResult,
                    RememberResult, RemovedResult, SinkhornResult, TenantStats, UnbindResult)
from .wire import f32, f64, from_f32, from_f64, pack, u32, unpack

try:  # websockets >= 13: the asyncio implementation
    from websockets.asyncio.client import connect as _ws_connect  # type: ignore[import]
    _HEADERS = 'additional_headers'
except ImportError:  # websockets 10.x-12.x (Debian bookworm: 10.4)
    from websockets.client import connect as _ws_connect  # type: ignore[no-redef]
    _HEADERS = 'extra_headers'

Reply = Dict[str, Any]
Vector = Any  # a numpy float32 array of length D (or any sequence f32() accepts)


def _status(e: BaseException) -> Optional[int]:
    """The HTTP status of a refused upgrade, across websockets versions."""
    code = getattr(e, 'status_code', None)
    if code is None and getattr(e, 'response', None) is not None:
        code = getattr(e.response, 'status_code', None)  # type: ignore[attr-defined]
    return code


class _Conn:
    """One WebSocket and the requests waiting on it (a drop fails exactly these)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.waiting: Dict[Any, Deque[asyncio.Future[Reply]]] = collections.defaultdict(collections.deque)
        self.reader: Optional[asyncio.Task[None]] = None


class HoloClient:
    def __init__(self, url: str, *, token: Optional[str] = None, timeout: float = 30.0,
                 reconnect: bool = True, max_size: int = 256 * 2**20) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self.reconnect = reconnect
        self.max_size = max_size
        self._conn: Optional[_Conn] = None
        self._opening: Optional[asyncio.Lock] = None
        #: connections opened so far (1 + reconnects)
        self.connects = 0
        self._closed = False
        self._backoff = 0.0
        self._ids = itertools.count(1)
        #: replies nobody waited for (a protocol violation if non-empty)
        self.unmatched: List[Any] = []
        #: the server's D as of the last hello; read again after a bad_dimension (a dimension
        #: switch changes it, docs/OPERATIONS.md "Rolling dimension increase")
        self.dim: Optional[int] = None

    @classmethod
    async def connect(cls, url: str, **options: Any) -> 'HoloClient':
        """A client with its connection open (see __init__ for the options)."""
        c = cls(url, **options)
        await c.open()
        return c

    async def __aenter__(self) -> 'HoloClient':
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ connection

    async def open(self) -> None:
        """Opens the connection now (requests also open it on demand)."""
        await self._socket()

    @property
    def inflight(self) -> int:
        return sum(len(q) for q in self._conn.waiting.values()) if self._conn else 0

    async def _socket(self) -> _Conn:
        if self._conn is not None and getattr(self._conn.ws, 'close_code', None) is not None:
            self._conn = None  # closed; its reader has not noticed yet
        if self._conn is not None:
            return self._conn
        if self._closed:
            raise HoloError('unavailable', 'client is closed')
        if self.connects > 0 and not self.reconnect:
            raise HoloError('unavailable', 'connection closed (reconnect is off)')
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._conn is not None:
                return self._conn
            if self._backoff > 0:
                await asyncio.sleep(self._backoff)
            headers = {'Authorization': f'Bearer {self.token}'} if self.token else None
            try:
                ws = await _ws_connect(self.url, max_size=self.max_size, compression=None, **{_HEADERS: headers})
            except Exception as e:
                self._backoff = min(2.0, max(0.05, self._backoff * 2))
                status = _status(e)
                if status is not None:
                    raise HoloError('unauthorized' if status == 401 else 'unavailable', f'upgrade refused: HTTP {status}') from e
                raise HoloError('unavailable', f'cannot connect to {self.url}: {e}') from e
            self._backoff = 0.0
            self.connects += 1
            conn = self._conn = _Conn(ws)
            conn.reader = asyncio.ensure_future(self._read(conn))
            return conn

    async def _read(self, conn: _Conn) -> None:
        err: Optional[BaseException] = None
        try:
            async for data in conn.ws:
                if isinstance(data, str):
                    self.unmatched.append({'text frame': data})
                    continue
                reply = unpack(data)
                rid = reply.get('id') if isinstance(reply, dict) else None
                q = conn.waiting.get(rid)
                if q:
                    fut = q.popleft()
                    if not q:
                        del conn.waiting[rid]
                    if not fut.done():
                        fut.set_result(reply)
                else:
                    self.unmatched.append(reply)
        except Exception as e:  # the connection closed, or a frame that is not msgpack
            err = e
        finally:
            if self._conn is conn:
                self._conn = None
            self._fail_all(conn, f'connection closed before the reply ({err!r})' if err else 'connection closed before the reply')

    @staticmethod
    def _fail_all(conn: _Conn, why: str) -> None:
        waiting, conn.waiting = conn.waiting, collections.defaultdict(collections.deque)
        for q in waiting.values():
            for fut in q:
                if not fut.done():
                    fut.set_exception(HoloError('unavailable', why))

    async def close(self) -> None:
        """Closes the connection; requests in flight fail with `unavailable`."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is None:
            return
        await conn.ws.close()
        if conn.reader is not None:
            try:
                await asyncio.wait_for(conn.reader, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                conn.reader.cancel()
        self._fail_all(conn, 'client closed')

    # ------------------------------------------------------------ frames

    def next_id(self) -> int:
        return next(self._ids)

    async def send_raw(self, data: Union[bytes, str], expect_id: Any) -> Reply:
        """Sends `data` as one binary frame (a str as a text frame) and returns the next reply
        carrying `expect_id` (0 for a frame the server cannot decode), whatever its `ok`."""
        conn = await self._socket()
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        q = conn.waiting[expect_id]
        q.append(fut)
        try:
            await conn.ws.send(data)
            return await asyncio.wait_for(asyncio.shield(fut), self.timeout)
        except asyncio.TimeoutError:
            raise HoloError('timeout', f'no reply to id {expect_id} in {self.timeout} s') from None
        except HoloError:
            raise
        except Exception as e:  # the send failed: the connection is gone, the next request reconnects
            if self._conn is conn:
                self._conn = None
            raise HoloError('unavailable', f'send failed: {e!r}') from e
        finally:
            if not fut.done():
                fut.cancel()
            if fut in q:
                q.remove(fut)
                if not q and conn.waiting.get(expect_id) is q:
                    del conn.waiting[expect_id]

    async def call(self, frame: Mapping[str, Any]) -> Reply:
        """Sends a frame (a map; an id is added if missing); returns the whole reply map."""
        if 'id' not in frame:
            frame = {'id': self.next_id(), **frame}
        return await self.send_raw(pack(frame), frame['id'])

    async def request(self, op: str, **fields: Any) -> Reply:
        """Sends {id, op, **fields} (None fields left out) and returns the result: the reply
        without `id` and `ok`. Raises HoloError with the server's code on an error reply."""
        reply = await self.call({'op': op, **{k: v for k, v in fields.items() if v is not None}})
        if reply.get('ok') is not True:
            err = HoloError.from_reply(reply)
            if err.code == 'bad_dimension' and op != 'hello':
                # The server's D may have changed (a dimension switch): read hello again so
                # `dim` tells the caller the D to send now; the error is still raised.
                try:
                    await self.hello()
                except HoloError:
                    pass
            raise err
        result = {k: v for k, v in reply.items() if k not in ('id', 'ok')}
        if op == 'hello' and isinstance(result.get('dim'), int):
            self.dim = result['dim']
        return result

    # ------------------------------------------------------------ typed ops (docs/PROTOCOL.md)

    async def hello(self) -> Hello:
        return await self.request('hello')  # type: ignore[return-value]

    async def dimension(self, action: str, dim: Optional[int] = None, **options: Any) -> Reply:
        """The admin op `dimension` (shadow | status | switch | rollback | finalize)."""
        return await self.request('dimension', action=action, dim=dim, **options)

    async def role(self, token: str) -> Any:
        return from_f32((await self.request('role', token=token))['vector'])

    async def bind(self, a: Vector, b: Optional[Vector] = None, *, role: Optional[str] = None) -> Any:
        r = await self.request('bind', a=f32(a), b=None if b is None else f32(b), role=role)
        return from_f32(r['vector'])

    async def unbind(self, c: Vector, b: Optional[Vector] = None, *, role: Optional[str] = None, mode: Optional[str] = None,
                     eps: Optional[float] = None, snr: Optional[float] = None, beta: Optional[float] = None) -> UnbindResult:
        r = await self.request('unbind', c=f32(c), b=None if b is None else f32(b), role=role, mode=mode, eps=eps, snr=snr, beta=beta)
        r['vector'] = from_f32(r['vector'])
        return r  # type: ignore[return-value]

    async def bundle(self, vectors: Sequence[Vector], weights: Optional[Sequence[float]] = None) -> Any:
        r = await self.request('bundle', vectors=[f32(v) for v in vectors], weights=None if weights is None else [float(w) for w in weights])
        return from_f32(r['vector'])

    async def cosine(self, a: Vector, b: Vector) -> float:
        return float((await self.request('cosine', a=f32(a), b=f32(b)))['cosine'])

    async def encode(self, text: str) -> Any:
        return from_f32((await self.request('encode', text=text))['vector'])

    async def sinkhorn(self, cost: Any, epsilon: float, *, a: Any = None, b: Any = None,
                       max_iter: Optional[int] = None, tol: Optional[float] = None) -> SinkhornResult:
        """`cost`: an n×m array (numpy); a, b: the marginals (uniform by default)."""
        n, m = cost.shape
        r = await self.request('sinkhorn', cost=f64(cost), n=int(n), m=int(m), epsilon=float(epsilon),
                               a=None if a is None else f64(a), b=None if b is None else f64(b), maxIter=max_iter, tol=tol)
        r['plan'] = from_f64(r['plan']).reshape(n, m)
        return r  # type: ignore[return-value]

    async def heat(self, signal: Any, t: Union[float, Sequence[float]], *, graph: Optional[str] = None, n: Optional[int] = None,
                   src: Any = None, dst: Any = None, weight: Any = None, K: Optional[int] = None) -> Any:
        """exp(−tL)·signal on a stored graph (`graph`) or an inline one (n, src, dst, weight);
        one array, or a list of arrays when t is a list."""
        inline = {} if graph is not None else {'n': n, 'src': u32(src), 'dst': u32(dst), 'weight': None if weight is None else f64(weight)}
        tt: Any = [float(x) for x in t] if isinstance(t, (list, tuple)) else float(t)  # type: ignore[arg-type]
        r = (await self.request('heat', graph=graph, signal=f64(signal), t=tt, K=K, **inline))['result']
        return [from_f64(x) for x in r] if isinstance(r, list) else from_f64(r)

    async def graph_put(self, graph: str, n: int, src: Any, dst: Any, weight: Any = None) -> GraphPutResult:
        return await self.request('graph.put', graph=graph, n=n, src=u32(src), dst=u32(dst),  # type: ignore[return-value]
                                  weight=None if weight is None else f64(weight))

    async def graph_delete(self, graph: str) -> RemovedResult:
        return await self.request('graph.delete', graph=graph)  # type: ignore[return-value]

    async def remember(self, tenant: str, key: str, vector: Optional[Vector] = None, *, text: Optional[str] = None,
                       payload: Any = None, reward: Optional[float] = None) -> RememberResult:
        return await self.request('remember', tenant=tenant, key=key, vector=None if vector is None else f32(vector),  # type: ignore[return-value]
                                  text=text, payload=payload, reward=reward)

    async def recall(self, tenant: str, vector: Optional[Vector] = None, *, text: Optional[str] = None, k: Optional[int] = None) -> RecallResult:
        return await self.request('recall', tenant=tenant, vector=None if vector is None else f32(vector), text=text, k=k)  # type: ignore[return-value]

    async def cleanup(self, tenant: str, vector: Vector) -> CleanupResult:
        return await self.request('cleanup', tenant=tenant, vector=f32(vector))  # type: ignore[return-value]

    async def anchor_put(self, tenant: str, name: str, vector: Optional[Vector] = None, *, text: Optional[str] = None) -> AnchorPutResult:
        return await self.request('anchor.put', tenant=tenant, name=name, vector=None if vector is None else f32(vector), text=text)  # type: ignore[return-value]

    async def anchor_delete(self, tenant: str, name: str) -> RemovedResult:
        return await self.request('anchor.delete', tenant=tenant, name=name)  # type: ignore[return-value]

    async def forget(self, tenant: str, key: str) -> RemovedResult:
        return await self.request('forget', tenant=tenant, key=key)  # type: ignore[return-value]

    async def stats(self, tenant: str) -> TenantStats:
        return await self.request('stats', tenant=tenant)  # type: ignore[return-value]


async def connect(url: str, **options: Any) -> HoloClient:
    """`await connect('ws://127.0.0.1:7878/v1', token=None, timeout=30.0, reconnect=True)`."""
    return await HoloClient.connect(url, **options)

"""Several holoserve processes sharing one Redis (setting advertiseUrl), as one client.

`HoloClusterClient` has HoloClient's API and connects first to any one process. A tenant's
request goes to the process last known to own it; a `moved` error reply (its message is the
owner's URL, like Redis Cluster's MOVED) updates that mapping and the request is sent again
there, transparently: at most 5 hops, waiting 50·hop ms from the second on, then
HoloError('unavailable') (the servers' views disagree for up to a heartbeat while membership
changes). Requests without a tenant (bind, sinkhorn, heat …) go to the first process. When an
owner cannot be reached (`unavailable` or `timeout` from its connection) its tenants are
forgotten and its connection dropped, so the next request asks the first process again.
Same rules as the TypeScript client (src/client/cluster.ts).
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

from .client import HoloClient, Reply
from .errors import HoloError

MAX_HOPS = 5
MAX_MAPPED = 100_000


class HoloClusterClient(HoloClient):
    def __init__(self, url: str, *, token: Optional[str] = None, timeout: float = 30.0,
                 reconnect: bool = True, max_size: int = 256 * 2**20) -> None:
        super().__init__(url, token=token, timeout=timeout, reconnect=reconnect, max_size=max_size)
        self._options: Dict[str, Any] = {'token': token, 'timeout': timeout, 'reconnect': reconnect, 'max_size': max_size}
        self._peers: Dict[str, HoloClient] = {}
        #: tenant → owner URL (insertion order: the oldest leaves first beyond MAX_MAPPED)
        self.owners: Dict[str, str] = {}
        #: `moved` replies followed so far
        self.hops = 0

    def owner_of(self, tenant: str) -> Optional[str]:
        """The owner this client currently maps `tenant` to (None: not known yet)."""
        return self.owners.get(tenant)

    async def request(self, op: str, **fields: Any) -> Reply:
        tenant = fields.get('tenant')
        if not isinstance(tenant, str):
            return await super().request(op, **fields)
        hop = 0
        while True:
            url = self.owners.get(tenant, self.url)
            try:
                if url == self.url:
                    return await super().request(op, **fields)
                return await self._peer(url).request(op, **fields)
            except HoloError as e:
                if e.code == 'moved':
                    if hop >= MAX_HOPS:
                        raise HoloError('unavailable', 'the servers disagree on the owner of this tenant '
                                        f'(membership is changing): retry (last: {e.message})', e.reply) from e
                    self.owners.pop(tenant, None)
                    if len(self.owners) >= MAX_MAPPED:
                        del self.owners[next(iter(self.owners))]
                    self.owners[tenant] = e.message
                    self.hops += 1
                    if hop >= 1:
                        await asyncio.sleep(0.05 * hop)
                    hop += 1
                    continue
                if e.code in ('unavailable', 'timeout') and url != self.url:
                    await self._unmap(url)
                raise

    async def close(self) -> None:
        peers, self._peers = list(self._peers.values()), {}
        for p in peers:
            await p.close()
        await super().close()

    def _peer(self, url: str) -> HoloClient:
        p = self._peers.get(url)
        if p is None:
            p = self._peers[url] = HoloClient(url, **self._options)
        return p

    async def _unmap(self, url: str) -> None:
        """An owner that cannot be reached: its tenants are asked for again at the first
        process, and its connection is dropped (a fresh one has no reconnect backoff)."""
        for t in [t for t, u in self.owners.items() if u == url]:
            del self.owners[t]
        p = self._peers.pop(url, None)
        if p is not None:
            await p.close()


async def connect_cluster(url: str, **options: Any) -> HoloClusterClient:
    """Connects to one process of a cluster (any) and returns a client that follows `moved`."""
    c = HoloClusterClient(url, **options)
    await c.open()
    return c

"""Result shapes (docs/PROTOCOL.md), as the typed methods return them: the reply without `id`
and `ok`, vectors and plans as numpy arrays."""
from __future__ import annotations

from typing import Any, List, Optional, TypedDict


class Limits(TypedDict):
    maxFrameBytes: int
    maxInflight: int
    sinkhornMaxSize: int
    graphMaxNodes: int
    graphMaxEdges: int
    maxPayloadBytes: int
    maxTextChars: int
    #: most distinct tokens one text may have (encode; text in remember, recall, anchor.put)
    maxTokens: int
    maxBundle: int
    maxK: int


class Hello(TypedDict):
    server: str
    version: str
    dim: int
    engine: str
    #: the ops this server answers (admin ops only when adminOps is on)
    ops: List[str]
    limits: Limits


class UnbindResult(TypedDict):
    vector: Any
    epsUsed: float
    #: spectral bins with |B|² < λ
    flooredBins: int
    #: the truth budget's bound on the relative error at this λ (docs/PROTOCOL.md)
    relErr: float
    overBudget: bool


class SinkhornResult(TypedDict):
    plan: Any
    cost: float
    iterations: int
    marginalError: float
    converged: bool
    numericalError: bool


class _Hit(TypedDict):
    key: str
    score: float


class Hit(_Hit, total=False):
    payload: Any


class _RecallResult(TypedDict):
    hits: List[Hit]
    margin: float
    reranked: bool


class RecallResult(_RecallResult, total=False):
    #: present (True) when answered from the recall cache
    cached: bool


class CleanupResult(TypedDict):
    key: str
    score: float
    margin: float


class RememberResult(TypedDict):
    stored: bool
    evicted: int


class AnchorPutResult(TypedDict):
    stored: bool
    evicted: Optional[str]


class RemovedResult(TypedDict):
    removed: bool


class GraphPutResult(TypedDict):
    graph: str
    n: int
    nnz: int
    #: bytes the worker keeps for it (20·n + 24·nnz)
    bytes: int


class TenantStats(TypedDict):
    items: int
    capacity: int
    utilization: float
    evictions: int
    anchors: int
    anchorsMax: int
    saturation: float


__all__ = ['Limits', 'Hello', 'UnbindResult', 'SinkhornResult', 'Hit', 'RecallResult', 'CleanupResult',
           'RememberResult', 'AnchorPutResult', 'RemovedResult', 'GraphPutResult', 'TenantStats']

#!/usr/bin/env python3
"""Cross-language checks: the Python client (clients/python) against the real, compiled holoserve.

    npm run test:interop          (builds, then runs this file)
    /usr/bin/python3 test/interop/run.py     (after `npm run build`)

Starts `node dist/src/main.js` with PORT=0 and a temporary data directory (D = 2048, then a
second server at D = 8192), waits for the ready line, runs every check against numpy / scipy /
POT computed here, stops each server with SIGTERM and checks that it exits 0. Prints one line
per check and ends with exactly `N passed, M failed`; exits 1 if any check failed.

Needs msgpack, websockets, numpy, scipy and POT (Debian: python3-msgpack python3-websockets
python3-numpy python3-scipy python3-pot) and the client package in clients/python
(`pip install --no-deps --no-build-isolation --break-system-packages ./clients/python`). If the
running interpreter lacks them and /usr/bin/python3 exists, the script re-executes itself with
/usr/bin/python3.
"""
import os
import sys

_NEEDED = ('msgpack', 'websockets', 'numpy', 'scipy', 'ot', 'holoserve')


def _deps_missing():
    import importlib
    missing = []
    for m in _NEEDED:
        try:
            importlib.import_module(m)
        except ImportError:
            missing.append(m)
    return missing


_missing = _deps_missing()
if _missing:
    # (not a HOLOSERVE_* name: the server refuses unknown HOLOSERVE_* variables, and inherits this env)
    if os.path.exists('/usr/bin/python3') and not os.environ.get('INTEROP_REEXEC'):
        os.environ['INTEROP_REEXEC'] = '1'
        os.execv('/usr/bin/python3', ['/usr/bin/python3', os.path.abspath(__file__), *sys.argv[1:]])
    sys.stderr.write(f"interop: {sys.executable} lacks {', '.join(_missing)} (Debian: apt-get install "
                     'python3-msgpack python3-websockets python3-numpy python3-scipy python3-pot; the client: '
                     'pip install --no-deps --no-build-isolation --break-system-packages ./clients/python)\n')
    sys.exit(2)

import asyncio  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

import msgpack  # noqa: E402
import numpy as np  # noqa: E402
import ot  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.csgraph import laplacian  # noqa: E402
from scipy.sparse.linalg import expm_multiply  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import hrr_reference  # noqa: E402
import holoserve  # noqa: E402  (the package in clients/python, pip-installed)
from holoserve import HoloClient, HoloClusterClient, HoloError, f32, f64, from_f32, from_f64, pack, u32  # noqa: E402
from holoserve.client import _ws_connect  # noqa: E402  (websockets' connect, whichever version is installed)
from hrr_reference import bind64, cos64, irfft, rfft, role_spectrum, unbind_spectrum  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAIN = os.path.join(ROOT, 'dist', 'src', 'main.js')
rng = np.random.default_rng(20241126)


# ================================================================ results

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=''):
        ok = bool(ok)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f'  ({detail})' if detail else ''), flush=True)
        return ok


R = Results()


# ================================================================ numpy references
# role, encode and the unbind formulas of src/kernels/hrr/ live in test/fixtures/hrr_reference.py
# (shared with gen-hrr.py, which writes hrr.json); this file only caches roles and adds approx.

_role_cache = {}


def role(token, D, seed=0):
    key = (token, D, seed)
    if key not in _role_cache:
        _role_cache[key] = hrr_reference.role(token, D, seed)
    return _role_cache[key]


def unbind_ref(c, B, power, mode, eps=None, snr=None, beta=None):
    """(vector, lambda, floored, margin) by the formulas of unbind.ts, B = rfft(b) (or a role
    spectrum with power 1); see hrr_reference.unbind_spectrum. approx: irfft(rfft(c)·conj(B))."""
    if mode == 'approx':
        return irfft(rfft(c) * np.conj(B), len(c)), 0.0, 0, math.inf
    # The server's live defaults (docs/OPERATIONS.md "The truth budget"): wiener without snr uses
    # max(beta or 1/wienerSnr, wienerLambda) = 1e-4 by default; exact max(beta or unbindBeta, apprEps).
    if mode == 'wiener' and snr is None:
        beta = max(beta if beta is not None else 1e-4, 1e-4)
    return unbind_spectrum(c, B, power, mode, eps=eps, snr=snr, beta=beta)


def encode_ref(text, D, seed=0):
    return hrr_reference.encode(text, D, seed)[1]


def gauss(D, scale=None):
    return (rng.standard_normal(D) * (1 / math.sqrt(D) if scale is None else scale)).astype(np.float32)


def ulps(x, y):
    """Largest distance in float32 units in the last place between two float32 arrays."""
    def ordered(v):
        i = np.asarray(v, dtype=np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    return int(np.max(np.abs(ordered(x) - ordered(y))))


def same(x, y):
    """Deep equality that also compares msgpack types (int vs float, str vs bin)."""
    if type(x) is not type(y):
        return False
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    if isinstance(x, list):
        return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y))
    return x == y


def maxabs(x, y):
    return float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))


# ================================================================ the server

class Server:
    """node dist/src/main.js on an ephemeral loopback port with its own data directory."""

    def __init__(self, dim, extra_env=None):
        self.dim = dim
        self.data_dir = tempfile.mkdtemp(prefix='holoserve-interop-')  # no '.' in the name
        node = shutil.which('node') or 'node'
        env = {**os.environ, 'LOG_FORMAT': 'json', 'PORT': '0', 'HOST': '127.0.0.1', 'HOLOSERVE_DATA_DIR': self.data_dir,
               'HOLOSERVE_ROLE_FILE': os.path.join(self.data_dir, 'roles.bin'), 'HOLOSERVE_DIM': str(dim),
               **(extra_env or {})}
        self.lines = []
        self.ready = threading.Event()
        self.port = None
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([node, MAIN], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip('\n'))
            # the server logs JSON lines (src/log.ts); the ready line carries the port
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and str(rec.get('msg', '')).startswith('ready on ') and self.port is None:
                self.port = int(rec['port'])
                self.ready.set()
        self.ready.set()  # EOF: exited (port stays None if it never got ready)

    def wait_ready(self, timeout=60):
        self.ready.wait(timeout)
        return self.port is not None

    @property
    def url(self):
        return f'ws://127.0.0.1:{self.port}/v1'

    def output(self, last=30):
        return '\n'.join('    | ' + s for s in self.lines[-last:])

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
            code = f'{code} (killed after {timeout} s without exiting)'
        self.reader.join(5)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return code


async def guarded(name, coro):
    """Runs one group of checks; an exception fails the group instead of the run."""
    try:
        await coro
    except Exception as e:
        R.check(name, False, f'raised {type(e).__name__}: {e}')
        traceback.print_exc(limit=4, file=sys.stdout)


# ================================================================ checks

EXPECTED_OPS = {'hello', 'role', 'bind', 'unbind', 'bundle', 'cosine', 'encode', 'sinkhorn', 'heat',
                'graph.put', 'graph.delete', 'remember', 'recall', 'cleanup', 'anchor.put',
                'anchor.delete', 'forget', 'stats'}
LIMIT_KEYS = {'maxFrameBytes', 'maxInflight', 'sinkhornMaxSize', 'graphMaxNodes', 'graphMaxEdges',
              'maxPayloadBytes', 'maxTextChars', 'maxTokens', 'maxBundle', 'maxK'}


async def check_hello(c, D):
    r = await c.call({'id': 4242, 'op': 'hello'})
    ok = (r.get('id') == 4242 and r.get('ok') is True and r.get('server') == 'holoserve'
          and isinstance(r.get('version'), str) and isinstance(r.get('engine'), str)
          and isinstance(r.get('ops'), list) and EXPECTED_OPS <= set(r['ops'])
          and isinstance(r.get('limits'), dict) and LIMIT_KEYS <= set(r['limits']))
    R.check(f'hello D={D}: id, server, version, engine, ops, limits present', ok,
            f"version={r.get('version')} engine={r.get('engine')} ops={len(r.get('ops') or [])}")
    R.check(f'hello D={D}: dim is HOLOSERVE_DIM', r.get('dim') == D, f"dim={r.get('dim')}")
    return r


async def check_roles(c, D, tokens):
    # Tolerance: bit-identical expected (numpy's pocketfft and fft.js both round the same
    # float64 inverse once to float32); ≤ 1 ulp accepted.
    worst, ident, norms = 0, 0, []
    for t in tokens:
        v = from_f32((await c.request('role', token=t))['vector'])
        ref = role(t, D)
        if len(v) != D:
            R.check(f'role D={D} {t!r}', False, f'length {len(v)}')
            return
        u = ulps(v, ref)
        worst = max(worst, u)
        ident += u == 0
        norms.append(abs(float(np.linalg.norm(v.astype(np.float64))) - 1))
    R.check(f'role D={D}: {len(tokens)} tokens (ASCII, UTF-8, prewarmed) equal the Python role() within 1 ulp',
            worst <= 1, f'{ident}/{len(tokens)} bit-identical, worst {worst} ulp')
    # Tolerance: |F_k| = 1 exactly in float64, so ‖role‖ = 1 up to the float32 rounding (≤ 1e-6).
    R.check(f'role D={D}: unit norm', max(norms) <= 1e-6, f'max |‖r‖-1| = {max(norms):.1e}')


async def check_bind(c, D):
    # Tolerance (float32 FFT engine): max abs error ≤ 1e-6·‖a‖‖b‖ against float64 numpy.
    for name, a, b in [('gaussian', gauss(D), gauss(D)),
                       ('scaled (‖a‖≈1000, b uniform)', gauss(D, 1000 / math.sqrt(D)), rng.uniform(-1, 1, D).astype(np.float32))]:
        v = from_f32((await c.request('bind', a=f32(a), b=f32(b)))['vector'])
        ref = bind64(a, b)
        scale = float(np.linalg.norm(a.astype(np.float64)) * np.linalg.norm(b.astype(np.float64)))
        err = maxabs(v, ref) / scale
        R.check(f'bind D={D} {{a, b}} {name}: vs irfft(rfft(a)·rfft(b)) float64', err <= 1e-6, f'max|Δ|/(‖a‖‖b‖) = {err:.1e}')
    a = gauss(D)
    v = from_f32((await c.request('bind', a=f32(a), role='subject'))['vector'])
    ref = irfft(rfft(a) * role_spectrum(role('subject', D)), D)
    err = maxabs(v, ref) / float(np.linalg.norm(a.astype(np.float64)))
    # Tolerance: ≤ 1e-6·‖a‖ (‖role‖ = 1); the server binds with the unit-modulus role spectrum.
    R.check(f"bind D={D} {{a, role:'subject'}}: vs irfft(rfft(a)·R), R = unit-modulus rfft(role)", err <= 1e-6,
            f'max|Δ|/‖a‖ = {err:.1e}')


async def check_unbind(c, D):
    a, b = gauss(D), gauss(D)
    c_ = bind64(a, b).astype(np.float32)
    B = rfft(b)
    nb2 = float(b.astype(np.float64) @ b.astype(np.float64))
    runs = [{'mode': 'exact'}, {'mode': 'exact', 'eps': 0.1 * nb2}, {'mode': 'exact', 'beta': 0.3},
            {'mode': 'wiener'}, {'mode': 'wiener', 'snr': 1 / (0.05 * nb2)}, {'mode': 'approx'}]
    for opts in runs:
        r = await c.request('unbind', c=f32(c_), b=f32(b), **opts)
        v = from_f32(r['vector'])
        kw = {k: x for k, x in opts.items() if k != 'mode'}
        ref, lam, floored, margin = unbind_ref(c_, B, nb2, opts['mode'], **kw)
        err = maxabs(v, ref) / float(np.linalg.norm(ref))
        # Tolerances: vector max abs ≤ 1e-6·‖ref‖ (float32 engine); epsUsed relative ≤ 1e-12
        # (both sum ‖b‖² in float64, in another order); floored exact unless a bin's |B|² lies
        # within 1e-3 relative of λ (then float32 vs float64 may legitimately disagree).
        eps_ok = (r['epsUsed'] == 0) if opts['mode'] == 'approx' else abs(r['epsUsed'] / lam - 1) <= 1e-12
        fl_ok = r['flooredBins'] == floored or margin <= 1e-3
        R.check(f'unbind D={D} b {opts}: vector, epsUsed, flooredBins vs numpy',
                err <= 1e-6 and eps_ok and fl_ok,
                f"max|Δ|/‖ref‖ = {err:.1e}, epsUsed {r['epsUsed']:.6g} vs {lam:.6g}, flooredBins {r['flooredBins']} vs {floored}"
                f", cos(â, a) = {cos64(v, a):.4f}")

    # By role: the server treats a role as ‖b‖² = 1 and uses its unit-modulus spectrum R.
    a = gauss(D)
    Rs = role_spectrum(role('object', D))
    c_ = irfft(rfft(a) * Rs, D).astype(np.float32)
    for opts in [{'mode': 'exact'}, {'mode': 'wiener'}, {'mode': 'approx'}, {'mode': 'exact', 'eps': 2.0},
                 {'mode': 'wiener', 'snr': 4.0}]:
        r = await c.request('unbind', c=f32(c_), role='object', **opts)
        v = from_f32(r['vector'])
        kw = {k: x for k, x in opts.items() if k != 'mode'}
        ref, lam, floored, _ = unbind_ref(c_, Rs, 1.0, opts['mode'], **kw)
        err = maxabs(v, ref) / float(np.linalg.norm(ref))
        eps_ok = (r['epsUsed'] == 0) if opts['mode'] == 'approx' else abs(r['epsUsed'] / lam - 1) <= 1e-15
        # Tolerance as above; with the default beta every mode is the exact inverse: cos(â, a) ≥ 0.9999.
        cos_ok = cos64(v, a) >= 0.9999 if 'eps' not in opts and 'snr' not in opts else True
        R.check(f"unbind D={D} role 'object' {opts}: vector, epsUsed, flooredBins vs numpy",
                err <= 1e-6 and eps_ok and r['flooredBins'] == floored and cos_ok,
                f"max|Δ|/‖ref‖ = {err:.1e}, epsUsed {r['epsUsed']:.6g} vs {lam:.6g}, flooredBins {r['flooredBins']} vs {floored}"
                f", cos(â, a) = {cos64(v, a):.6f}")


async def check_cosine_bundle_encode(c, D):
    a, b = gauss(D), gauss(D)
    near = (a + 0.3 * b).astype(np.float32)
    worst = 0.0
    for x, y in [(a, b), (a, near), (a, a), (a, -a)]:
        r = await c.request('cosine', a=f32(x), b=f32(y))
        worst = max(worst, abs(r['cosine'] - cos64(x, y)))
    # Tolerance: 1e-12 absolute (float64 sums over the float32 inputs, order differs).
    R.check(f'cosine D={D}: 4 pairs vs float64 numpy', worst <= 1e-12, f'max|Δ| = {worst:.1e}')
    r = await c.request('cosine', a=f32(a), b=f32(np.zeros(D)))
    R.check(f'cosine D={D}: zero vector gives 0', r['cosine'] == 0, f"cosine={r['cosine']}")

    vs = [gauss(D) for _ in range(3)]
    for label, w in [('weights [0.5, -1.25, 2.0] as a list of floats', [0.5, -1.25, 2.0]),
                     ('no weights', None), ('weights as bin f64', 'bin')]:
        fields = {'vectors': [f32(v) for v in vs]}
        wv = [1.0, 1.0, 1.0] if w is None else ([0.25, 3.0, -0.5] if w == 'bin' else w)
        if w is not None:
            fields['weights'] = f64(wv) if w == 'bin' else w
        v = from_f32((await c.request('bundle', **fields))['vector'])
        acc = sum(wi * vi.astype(np.float64) for wi, vi in zip(wv, vs))
        ref = acc / np.linalg.norm(acc)
        err = maxabs(v, ref)
        # Tolerance: float64 sum, one float32 rounding per element: ≤ 2^-24·max|ref| (+ slack) → 1e-7.
        R.check(f'bundle D={D} {label}: vs Σwv/‖Σwv‖', err <= 1e-7, f'max|Δ| = {err:.1e}')

    texts = ['dog bites man', 'man bites dog', 'The quick brown fox jumps over the lazy dog.',
             'Hello, World! 42 times; hello again']
    enc = {}
    for t in texts:
        v = from_f32((await c.request('encode', text=t))['vector'])
        enc[t] = v
        ref = encode_ref(t, D)
        err = maxabs(v, ref)
        # Tolerance: 1e-6 max abs (float32 engine; encode.test.ts uses the same bound vs gen-hrr.py).
        R.check(f'encode D={D} {t!r}: vs numpy re-implementation, unit norm',
                err <= 1e-6 and abs(np.linalg.norm(v.astype(np.float64)) - 1) <= 1e-6, f'max|Δ| = {err:.1e}')
    same = cos64(enc['dog bites man'], enc['man bites dog'])
    far = cos64(enc['dog bites man'], enc['Hello, World! 42 times; hello again'])
    # Same words reordered ≈ n/(2n−1) = 0.6 for n = 3; unrelated ≈ 0 ± 1/√D.
    R.check(f'encode D={D}: reordered text scores higher than unrelated text', same > 0.5 and abs(far) < 6 / math.sqrt(D),
            f'cos(dog bites man, man bites dog) = {same:.3f}, unrelated = {far:.3f}')


async def check_sinkhorn(c):
    cases = []
    C16 = rng.random((16, 16))
    cases.append(('16x16 uniform', None, None, C16))
    a5 = rng.random(5) + 0.05
    b7 = rng.random(7) + 0.05
    cases.append(('5x7 histograms', a5 / a5.sum(), b7 / b7.sum(), rng.random((5, 7))))
    for name, a, b, C in cases:
        n, m = C.shape
        eps = 0.05 * float(np.abs(C).max())
        fields = {'n': n, 'm': m, 'cost': f64(C.ravel()), 'epsilon': eps, 'maxIter': 100000, 'tol': 1e-12}
        if a is not None:
            fields['a'], fields['b'] = f64(a), f64(b)
        r = await c.request('sinkhorn', **fields)
        P = from_f64(r['plan']).reshape(n, m)
        aa = np.full(n, 1 / n) if a is None else a
        bb = np.full(m, 1 / m) if b is None else b
        Pot = ot.bregman.sinkhorn_log(aa, bb, C, eps, numItermax=10**6, stopThr=1e-13)
        # Tolerances: plan ≤ 1e-9 per entry vs POT's converged sinkhorn_log (sinkhorn.ts's
        # documented accuracy); cost ≤ 1e-9 vs ⟨P_POT, C⟩; marginals: row and column sums of the
        # returned plan within 1e-12 (L1, as the server's marginalError) and marginalError itself
        # equal to the numpy recomputation within 1e-14.
        dP = maxabs(P, Pot)
        dcost = abs(r['cost'] - float(np.sum(Pot * C)))
        me = float(np.abs(P.sum(1) - aa).sum() + np.abs(P.sum(0) - bb).sum())
        R.check(f'sinkhorn {name} ε=0.05·max C: plan vs ot.bregman.sinkhorn_log', dP <= 1e-9,
                f"max|Δ| = {dP:.1e}, iterations {r['iterations']}")
        R.check(f'sinkhorn {name}: cost = ⟨plan, C⟩ vs POT', dcost <= 1e-9 and abs(r['cost'] - float(np.sum(P * C))) <= 1e-14,
                f"cost {r['cost']:.12f}, |Δ| vs POT = {dcost:.1e}")
        R.check(f'sinkhorn {name}: marginals, converged', me <= 1e-12 and abs(r['marginalError'] - me) <= 1e-14
                and r['converged'] is True and r['numericalError'] is False,
                f"L1 marginal error {me:.1e}, reported {r['marginalError']:.1e}, converged={r['converged']}")


def heat_graph(n=30, edges=70):
    src = rng.integers(0, n - 1, edges)  # node n-1 stays isolated (its value must pass through)
    dst = rng.integers(0, n - 1, edges)
    w = rng.uniform(0.1, 2.0, edges)
    src[-1], dst[-1] = 3, 3  # a self loop (ignored)
    src[-2], dst[-2] = dst[0], src[0]  # a duplicate edge in the other orientation (weights sum)
    return n, src, dst, w


def heat_ref(n, src, dst, w, x, t):
    A = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([src, dst]), np.concatenate([dst, src]))),
                      shape=(n, n)).tocsr()
    L = laplacian(A, normed=True)
    return expm_multiply(-t * sp.csr_matrix(L), x), A


async def check_heat(c):
    n, src, dst, w = heat_graph()
    x = rng.standard_normal(n)
    ts = [0.5, 2.0]
    r = await c.request('heat', n=n, src=u32(src), dst=u32(dst), weight=f64(w), signal=f64(x), t=ts)
    ys = [from_f64(b) for b in r['result']]
    tol = 1e-9 * max(1.0, float(np.linalg.norm(x)))
    # Tolerance: 1e-9·‖x‖ (K = 24 Chebyshev terms bound the truncation far below that for t ≤ 2).
    errs = [maxabs(y, heat_ref(n, src, dst, w, x, t)[0]) for y, t in zip(ys, ts)]
    R.check(f'heat inline n={n}, {len(src)} edges, t={ts}: vs expm_multiply(−t·laplacian(normed=True))',
            len(ys) == 2 and max(errs) <= tol and ys[0][n - 1] == x[n - 1],
            'max|Δ| = ' + ', '.join(f'{e:.1e}' for e in errs) + '; isolated node unchanged')
    r1 = await c.request('heat', n=n, src=u32(src), dst=u32(dst), weight=f64(w), signal=f64(x), t=2.0)
    R.check('heat inline scalar t=2.0: one bin, equal to the list result bit for bit',
            isinstance(r1['result'], bytes) and np.array_equal(from_f64(r1['result']), ys[1]))

    _, A = heat_ref(n, src, dst, w, x, 0.0)
    nnz = int(np.count_nonzero(A.toarray() * (1 - np.eye(n))))
    g = await c.request('graph.put', graph='interop-g30', n=n, src=u32(src), dst=u32(dst), weight=f64(w))
    R.check('graph.put: {graph, n, nnz}', g.get('graph') == 'interop-g30' and g.get('n') == n and g.get('nnz') == nnz,
            f"nnz {g.get('nnz')} vs off-diagonal nonzeros of A {nnz}")
    x2 = rng.random(n)
    r2 = await c.request('heat', graph='interop-g30', signal=f64(x2), t=ts)
    ys2 = [from_f64(b) for b in r2['result']]
    errs = [maxabs(y, heat_ref(n, src, dst, w, x2, t)[0]) for y, t in zip(ys2, ts)]
    R.check(f'heat by graph id, t={ts}: vs expm_multiply', max(errs) <= 1e-9 * max(1.0, float(np.linalg.norm(x2))),
            'max|Δ| = ' + ', '.join(f'{e:.1e}' for e in errs))
    r3 = await c.request('heat', n=n, src=u32(src), dst=u32(dst), weight=f64(w), signal=f64(x2), t=ts)
    R.check('heat by graph id equals inline heat bit for bit',
            all(np.array_equal(from_f64(p), q) for p, q in zip(r3['result'], ys2)))
    d = await c.request('graph.delete', graph='interop-g30')
    gone = await c.call({'op': 'heat', 'graph': 'interop-g30', 'signal': f64(x2), 't': 1.0})
    R.check('graph.delete, then heat by id → not_found', d.get('removed') is True
            and gone.get('ok') is False and gone['error']['code'] == 'not_found', f"removed={d.get('removed')}")


async def check_memory(c, D):
    tenant = f'interop-{os.getpid()}'
    payload = {'name': 'second', 'tags': ['a', 'b', {'n': 3, 'deep': [1.5, -2, None, True, False]}],
               'count': 4000000000, 'neg': -7, 'unicode': 'Ωμέγα 🙂', 'raw': b'\x00\x01\xff', 'empty': {}}
    vs = {f'k{i}': gauss(D) for i in range(1, 4)}
    for k, v in vs.items():
        r = await c.request('remember', tenant=tenant, key=k, vector=f32(v), **({'payload': payload} if k == 'k2' else {}))
        if not (r.get('stored') is True and r.get('evicted') == 0):
            R.check('remember', False, repr(r))
            return
    q = (vs['k2'] + 0.5 * gauss(D)).astype(np.float32)
    r = await c.request('recall', tenant=tenant, vector=f32(q), k=3)
    hits = r['hits']
    want = sorted(((cos64(q, v), k) for k, v in vs.items()), reverse=True)
    # Tolerance: scores are cosines against float32-normalised stored vectors: 1e-6.
    serr = max(abs(h['score'] - s) for h, (s, _) in zip(hits, want))
    R.check(f'remember ×3, recall k=3: order and scores vs numpy cosines',
            [h['key'] for h in hits] == [k for _, k in want] and serr <= 1e-6
            and abs(r['margin'] - (hits[0]['score'] - hits[1]['score'])) <= 1e-12,
            f"keys {[h['key'] for h in hits]}, max|Δscore| = {serr:.1e}, margin {r['margin']:.4f}")
    R.check('recall: msgpack payload (dict with nested list, bin, None, bools, UTF-8) comes back equal, types too',
            same(hits[0].get('payload'), payload) and 'payload' not in hits[1] and 'payload' not in hits[2],
            repr(hits[0].get('payload'))[:120])
    # PROTOCOL.md: integers come back exactly (64-bit ones included) and non-integral floats
    # stay floats; the one documented exception, an integral float (1.0) coming back as the
    # integer 1, is checked as documented, not skipped.
    wide = {'int40': 2**40, 'negint40': -2**40, 'int63': 2**63 - 1, 'float15': 1.5, 'float1': 1.0}
    want_wide = {**wide, 'float1': 1}
    vw = gauss(D)
    await c.request('remember', tenant=tenant, key='wide', vector=f32(vw), payload=wide)
    r = await c.request('recall', tenant=tenant, vector=f32(vw), k=1)
    got = r['hits'][0].get('payload')
    R.check('recall: payload numbers as documented (ints 2^40, -2^40, 2^63-1 exact; 1.5 float; 1.0 → int 1)',
            r['hits'][0]['key'] == 'wide' and same(got, want_wide), f'sent {wide!r}, got {got!r}')
    await c.request('forget', tenant=tenant, key='wide')

    anchors = {'red': gauss(D), 'green': gauss(D), 'blue': gauss(D)}
    for name, v in anchors.items():
        await c.request('anchor.put', tenant=tenant, name=name, vector=f32(v))
    noisy = (anchors['green'] + 0.8 * gauss(D)).astype(np.float32)
    r = await c.request('cleanup', tenant=tenant, vector=f32(noisy))
    cs = sorted(((cos64(noisy, v), k) for k, v in anchors.items()), reverse=True)
    R.check('anchor.put ×3, cleanup(noisy green): key, score, margin vs numpy',
            r.get('key') == 'green' and abs(r['score'] - cs[0][0]) <= 1e-6 and abs(r['margin'] - (cs[0][0] - cs[1][0])) <= 2e-6,
            f"key {r.get('key')}, score {r['score']:.6f} vs {cs[0][0]:.6f}, margin {r['margin']:.6f} vs {cs[0][0] - cs[1][0]:.6f}")
    st = await c.request('stats', tenant=tenant)
    f = await c.request('forget', tenant=tenant, key='k2')
    r = await c.request('recall', tenant=tenant, vector=f32(q), k=3)
    R.check('stats, forget, recall after forget', st.get('items') == 3 and st.get('anchors') == 3 and f.get('removed') is True
            and [h['key'] for h in r['hits']] == [k for _, k in want if k != 'k2'],
            f"items {st.get('items')}, anchors {st.get('anchors')}, after forget {[h['key'] for h in r['hits']]}")


async def check_ids(c):
    # PROTOCOL.md: id is an unsigned integer 0 … 2^53−1 and the reply carries the same id.
    # A typed client decodes it as an integer: a float64 id is not "the same id".
    bad = []
    for rid in [0, 2**31, 2**32 - 1, 2**32, 2**40, 2**53 - 1]:
        r = await c.send_raw(pack({'id': rid, 'op': 'hello'}), rid)
        if not same(r.get('id'), rid):
            bad.append(f"{rid} -> {r.get('id')!r}")
    R.check('reply id equals the request id as a msgpack integer (0 … 2^53−1)', not bad, ', '.join(bad))


async def check_errors(c, D):
    async def usable():
        r = await c.request('cosine', a=f32(np.ones(D)), b=f32(np.ones(D)))
        return abs(r['cosine'] - 1) < 1e-12

    cases = [
        ('garbage bytes', b'\xc1\xff\x00 not msgpack', 0, 'bad_request'),
        ('a msgpack array, not a map', pack([1, 2, 3]), 0, 'bad_request'),
        ('two maps in one frame', pack({'id': 9, 'op': 'hello'}) + pack({'id': 10, 'op': 'hello'}), 0, 'bad_request'),
        ('unknown op', pack({'id': 77, 'op': 'frobnicate'}), 77, 'unknown_op'),
        ('missing op', pack({'id': 78}), 78, 'bad_request'),
        ('wrong vector length (D−1 float32)', pack({'id': 79, 'op': 'cosine', 'a': f32(np.ones(D - 1)), 'b': f32(np.ones(D))}),
         79, 'bad_dimension'),
        ('bin not a whole number of float32', pack({'id': 80, 'op': 'cosine', 'a': f32(np.ones(D))[:-1], 'b': f32(np.ones(D))}),
         80, 'bad_request'),
        ('vector as a list, not a bin', pack({'id': 81, 'op': 'cosine', 'a': [1.0] * D, 'b': f32(np.ones(D))}), 81, 'bad_request'),
        ('NaN in a float64 array', pack({'id': 82, 'op': 'sinkhorn', 'n': 1, 'm': 2, 'epsilon': 0.1, 'cost': f64([0.0, math.nan])}),
         82, 'bad_request'),
        ('sinkhorn n > sinkhornMaxSize', pack({'id': 83, 'op': 'sinkhorn', 'n': 65, 'm': 1, 'epsilon': 0.1, 'cost': f64(np.zeros(65))}),
         83, 'too_large'),
    ]
    for label, data, want_id, want_code in cases:
        r = await c.send_raw(data, want_id)
        ok = r.get('id') == want_id and r.get('ok') is False and r.get('error', {}).get('code') == want_code \
            and isinstance(r['error'].get('message'), str)
        R.check(f'error: {label} → {want_code}, id {want_id}; connection still usable', ok and await usable(),
                f"got {r.get('error', {}).get('code')}: {str(r.get('error', {}).get('message'))[:70]}")
    # A text (not binary) WebSocket frame.
    r = await c.send_raw('{"id": 1, "op": "hello"}', 0)  # a str goes out as a text frame
    R.check('error: text frame → bad_request, id 0; connection still usable',
            r.get('id') == 0 and r.get('error', {}).get('code') == 'bad_request' and await usable(),
            f"got {r.get('error', {}).get('code')}")


async def check_pipelining(c, D):
    N = 100
    ids = [int(i) for i in rng.permutation(N) + 5000]
    frames = []
    for i, rid in enumerate(ids):
        if i % 4 == 3:
            frames.append(({'id': rid, 'op': 'role', 'token': f'pos:{i % 7}'}, ('role', f'pos:{i % 7}')))
        else:
            a, b = gauss(D), gauss(D)
            frames.append(({'id': rid, 'op': 'cosine', 'a': f32(a), 'b': f32(b)}, ('cosine', cos64(a, b))))
    t0 = time.monotonic()
    # All 100 frames go out before any reply is awaited (each task sends, then waits).
    replies = await asyncio.gather(*(c.call(f) for f, _ in frames))
    dt = time.monotonic() - t0
    bad = 0
    for (f, (kind, want)), r in zip(frames, replies):
        if r.get('id') != f['id'] or r.get('ok') is not True:
            bad += 1
        elif kind == 'cosine' and abs(r['cosine'] - want) > 1e-12:
            bad += 1
        elif kind == 'role' and ulps(from_f32(r['vector']), role(want, D)) > 1:
            bad += 1
    R.check(f'pipelining: {N} requests (cosine and role, shuffled ids) sent without waiting, {N} replies matched by id',
            bad == 0 and len(replies) == N and not c.unmatched, f'{bad} wrong, {len(c.unmatched)} unmatched, {dt * 1000:.0f} ms')


# ================================================================ the client package (clients/python)

async def check_client_package(c, D):
    """holoserve's typed methods (results without id/ok, numpy in and out), errors as HoloError
    with the server's code, a client-side timeout, and reconnect after the server drops the
    connection; on clients of their own so that c sees no stray frames."""
    a, b = gauss(D), gauss(D)
    async with await HoloClient.connect(c.url) as t:
        v = await t.bind(a, b)
        ref = bind64(a, b)
        R.check('client: bind(a, b) → numpy float32 = numpy reference',
                v.dtype == np.float32 and v.shape == (D,) and np.max(np.abs(v - ref)) <= 1e-6 * np.linalg.norm(a) * np.linalg.norm(b))
        u = await t.unbind(await t.bind(a, role='agent'), role='agent')
        R.check('client: unbind(bind(a, role), role) ≈ a, with epsUsed, flooredBins 0, relErr 0 (|R| = 1 > λ: no bin filtered), overBudget false',
                np.max(np.abs(u['vector'] - a)) <= 1e-5 * np.linalg.norm(a) and isinstance(u['epsUsed'], float) and u['flooredBins'] == 0
                and u['relErr'] == 0 and u['overBudget'] is False, repr({k: v for k, v in u.items() if k != 'vector'}))
        C = rng.random((5, 7))
        sk = await t.sinkhorn(C, 0.05, tol=1e-12, max_iter=100000)
        P = ot.bregman.sinkhorn_log(np.full(5, 1 / 5), np.full(7, 1 / 7), C, 0.05, numItermax=100000, stopThr=1e-13)
        R.check('client: sinkhorn → plan (5×7 numpy) = POT, numericalError false',
                sk['plan'].shape == (5, 7) and np.max(np.abs(sk['plan'] - P)) <= 1e-9 and sk['numericalError'] is False and sk['converged'] is True)
        await t.remember('py-client', 'k1', text='the cat sat on the mat', payload={'n': 1})
        rc = await t.recall('py-client', text='a cat on a mat', k=3)
        want = cos64(encode_ref('the cat sat on the mat', D), encode_ref('a cat on a mat', D))
        R.check('client: remember/recall by text, score = numpy cosine of the encodings',
                [h['key'] for h in rc['hits']] == ['k1'] and abs(rc['hits'][0]['score'] - want) <= 1e-6 and rc['hits'][0]['payload'] == {'n': 1})
        st = await t.stats('py-client')
        R.check('client: stats returns the result alone', 'id' not in st and 'ok' not in st and st['items'] == 1, repr(st)[:200])
        h = await t.hello()
        R.check('client: hello lists no admin op (adminOps off) and documents maxTokens',
                not ({'knobs', 'status', 'drill'} & set(h['ops'])) and isinstance(h['limits']['maxTokens'], int), repr(h['ops']))
        codes = []
        for call in (lambda: t.request('no-such-op'), lambda: t.cosine(a[:D // 2], b[:D // 2]),
                     lambda: t.sinkhorn(rng.random((65, 2)), 0.1)):
            try:
                await call()
                codes.append(None)
            except HoloError as e:
                codes.append(e.code)
        R.check('client: error replies raise HoloError with the server code', codes == ['unknown_op', 'bad_dimension', 'too_large'], repr(codes))
        pipelined = await asyncio.gather(*(t.cosine(a, gauss(D) if i % 2 else a) for i in range(50)))
        R.check('client: 50 concurrent typed calls, each its own result', all(abs(x - 1) < 1e-6 for x in pipelined[::2])
                and all(abs(x) < 0.5 for x in pipelined[1::2]))
    async with await HoloClient.connect(c.url, timeout=0.3) as t:
        try:
            await t.send_raw(b'\xc1', 1)  # answered with id 0 (undecodable), so id 1 never comes
            got = 'a reply'
        except HoloError as e:
            got = e.code
        R.check('client: no reply within timeout → HoloError timeout', got == 'timeout', got)
    async with await HoloClient.connect(c.url) as t:
        try:  # more than 2·maxFrameBytes: the server closes the socket (1009)
            await t.send_raw(pack({'id': 7, 'op': 'hello', 'pad': bytes(9 * 2**20)}), 7)
            got = 'a reply'
        except HoloError as e:
            got = e.code
        after = await t.cosine(a, a)
        R.check('client: a dropped connection fails the request (unavailable), the next one reconnects',
                got == 'unavailable' and abs(after - 1) < 1e-6 and t.connects == 2, f'{got}, {t.connects} connections')


# ================================================================ many servers on one Redis

def free_port():
    import socket
    with socket.socket() as so:
        so.bind(('127.0.0.1', 0))
        return so.getsockname()[1]


def run_cluster():
    """Two servers sharing a real redis-server (advertiseUrl set): the Python HoloClusterClient,
    connected to the first, follows `moved` to the other; every write is recalled top-1."""
    redis_dir = tempfile.mkdtemp(prefix='holoserve-interop-redis-')
    rport = free_port()
    redis = subprocess.Popen(['redis-server', '--port', str(rport), '--bind', '127.0.0.1', '--dir', redis_dir, '--save', '',
                              '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers = []
    try:
        time.sleep(0.3)
        for _ in range(2):
            port = free_port()
            servers.append(Server(256, {'PORT': str(port), 'HOLOSERVE_STORE': 'redis', 'HOLOSERVE_REDIS_URL': f'redis://127.0.0.1:{rport}',
                                        'HOLOSERVE_ADVERTISE_URL': f'ws://127.0.0.1:{port}/v1', 'HOLOSERVE_HEARTBEAT_MS': '200',
                                        'HOLOSERVE_WORKERS': '1', 'HOLOSERVE_PREWARM_ROLES': '[]'}))
            if not servers[-1].wait_ready(60):
                R.check('cluster: two servers on one Redis start', False, servers[-1].output())
                return
        time.sleep(0.6)  # both views have both members

        async def go():
            c = await HoloClusterClient.connect(servers[0].url)
            rng = np.random.default_rng(11)
            vecs = {f'py-{i}': rng.standard_normal(256).astype(np.float32) for i in range(16)}
            try:
                for t, v in vecs.items():
                    await c.request('remember', tenant=t, key='k', vector=f32(v))
                found = 0
                for t, v in vecs.items():
                    r = await c.request('recall', tenant=t, vector=f32(v), k=1)
                    found += r['hits'][0]['key'] == 'k'
                owners = set(c.owners.values())
                R.check('cluster (Python): 16 tenants over two servers, moved followed, every write recalled top-1',
                        found == 16 and c.hops > 0 and owners == {servers[1].url},
                        f'found {found}/16, {c.hops} moved followed, owners {sorted(owners)}')
            finally:
                await c.close()
        asyncio.run(go())
    finally:
        for s in servers:
            s.stop()
        redis.kill()
        redis.wait()
        shutil.rmtree(redis_dir, ignore_errors=True)


def strict_unpack(data):
    """A stock msgpack decoder that refuses every extension type (docs/PROTOCOL.md: none are used)."""
    def no_ext(code, _data):
        raise ValueError(f'reply holds msgpack extension type {code}')
    return msgpack.unpackb(data, raw=False, ext_hook=no_ext, timestamp=0, strict_map_key=True)


async def check_decode_profile(c, D):
    # docs/PROTOCOL.md "Decode profile": every hostile frame of issue #9, built with the stock
    # Python msgpack (and by hand), is refused with bad_request / too_large, never internal.
    def frame(**fields):
        return pack({'id': 5, **fields})

    nested = lambda depth: functools.reduce(lambda acc, _: [acc], range(depth), 0)  # noqa: E731
    cases = [
        ('the 9-byte bundled-strings frame', bytes([0xa0, 0xa0, 0xd6, 0x62, 0xff, 0xff, 0xff, 0xfc, 0xc0]), 0, 'bad_request', None),
        ('bundled strings in the tenant field', frame(op='stats', tenant=msgpack.ExtType(0x62, b'\xff\xff\xff\xfc')), 0, 'bad_request', 'extension type 98'),
        ('msgpackr BigInt extension payload (1 MB)', frame(op='remember', tenant='ext', key='k', text='x', payload=msgpack.ExtType(0x42, b'\x7f' * 2**20)),
         0, 'bad_request', 'extension type 66'),
        ('timestamp payload', frame(op='remember', tenant='ext', key='k', text='x', payload=msgpack.Timestamp(1, 5)), 0, 'bad_request', 'extension type -1'),
        ('structured-clone payload', frame(op='remember', tenant='ext', key='k', text='x', payload=[msgpack.ExtType(0x73, b'\x90')]),
         0, 'bad_request', 'extension type 115'),
        ('payload nested 40 deep', frame(op='remember', tenant='ext', key='k', text='x', payload=nested(40)), 0, 'bad_request', 'deeper than 32'),
        ('payload nested 2,000 deep (built by hand)', bytes([0x86]) + b''.join(pack(x) for x in ['id', 5, 'op', 'remember', 'tenant', 'ext', 'key', 'k', 'text', 'x', 'payload'])
         + b'\x91' * 2000 + b'\xc0', 0, 'bad_request', 'deeper than 32'),
        ('a map with an integer key', frame(op='remember', tenant='ext', key='k', text='x', payload={1: 'a'}), 0, 'bad_request', 'keys'),
        ('float id 2.0', pack({'id': 2.0, 'op': 'hello'}), 0, 'bad_request', "'id'"),
        ('float id -0.0', pack({'id': -0.0, 'op': 'hello'}), 0, 'bad_request', "'id'"),
        ('array 32 declaring 4 G elements', b'\x82\xa2id\x05\xa1p\xdd\xff\xff\xff\xff', 0, 'bad_request', None),
    ]
    for label, data, want_id, want_code, want_msg in cases:
        r = await c.send_raw(data, want_id)
        err = r.get('error') or {}
        ok = r.get('id') == want_id and r.get('ok') is False and err.get('code') == want_code \
            and (want_msg is None or want_msg in str(err.get('message')))
        R.check(f'decode profile: {label} → {want_code}', ok, f"got {err.get('code')}: {str(err.get('message'))[:90]}")
    r = await c.request('stats', tenant='ext')
    R.check('decode profile: nothing refused was stored', r.get('items') == 0, f"items {r.get('items')}")
    # 32 levels pass (the frame's map is level 1), and a plain payload round-trips through a
    # strict stock decoder: ints of every width exactly, str, bin, nested maps and arrays.
    payload = {'u64': 2**64 - 1, 'i64': -2**63, 'i8': -5, 's': 'Ωμέγα', 'b': b'\x00\xff', 'f': 1.5, 'deep': nested(30),
               'm': {'x': [None, True, False]}}
    await c.request('remember', tenant='plain', key='k', text='plain payload', payload=payload)
    async with _ws_connect(c.url, max_size=64 * 2**20, compression=None) as ws:
        await ws.send(pack({'id': 1, 'op': 'recall', 'tenant': 'plain', 'text': 'plain payload', 'k': 1}))
        raw = await ws.recv()
    try:
        got = strict_unpack(raw)['hits'][0]['payload']
        R.check('decode profile: a stored payload comes back equal, decoded by a strict stock decoder', got == payload,
                repr(got)[:120])
    except Exception as e:
        R.check('decode profile: a stored payload comes back equal, decoded by a strict stock decoder', False, repr(e)[:200])


# ================================================================ driver

async def against(server, groups):
    c = await HoloClient.connect(server.url)
    try:
        for name, fn in groups:
            await guarded(name, fn(c))
        R.check(f'D={server.dim}: no unexpected reply frames', not c.unmatched, repr(c.unmatched[:2])[:200])
    finally:
        await c.close()


def run_server(dim, groups):
    t0 = time.monotonic()
    s = Server(dim)
    if not s.wait_ready(60):
        R.check(f'server D={dim} starts and prints the ready line', False, 'no ready line in 60 s\n' + s.output())
        s.stop()
        return
    R.check(f'server D={dim} starts and prints the ready line', True, f'port {s.port}, {time.monotonic() - t0:.1f} s')
    try:
        asyncio.run(against(s, groups))
    except Exception as e:
        R.check(f'D={dim}: connection', False, f'{type(e).__name__}: {e}')
    code = s.stop()
    R.check(f'server D={dim}: SIGTERM → exit code 0', code == 0, f'exit {code}' + ('' if code == 0 else '\n' + s.output()))


async def check_dimension_switch(server):
    """A rolling dimension increase seen from the Python client (docs/OPERATIONS.md): after the
    server switches 256 → 512, a 256-float vector gets bad_dimension naming 512, the client has
    read hello again (client.dim = 512), and a 512-float bind equals numpy's."""
    c = await HoloClient.connect(server.url)
    try:
        await c.hello()
        R.check('dimension: the client reads dim from hello', c.dim == 256, repr(c.dim))
        await c.dimension('shadow', dim=512)
        deadline = time.monotonic() + 60
        st = await c.dimension('status')
        while st.get('coverage') != 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            st = await c.dimension('status')
        await c.dimension('switch')
        a, b = gauss(256), gauss(256)
        code, msg = None, ''
        try:
            await c.bind(a, b)
        except HoloError as e:
            code, msg = e.code, str(e)
        R.check('dimension: after the switch a D = 256 bind is bad_dimension naming 512', code == 'bad_dimension' and '512' in msg, f'{code}: {msg}'[:200])
        R.check('dimension: the client read hello again after bad_dimension (client.dim = 512)', c.dim == 512, repr(c.dim))
        a, b = gauss(512), gauss(512)
        v = from_f32((await c.request('bind', a=f32(a), b=f32(b)))['vector'])
        err = maxabs(v, bind64(a, b)) / float(np.linalg.norm(a.astype(np.float64)) * np.linalg.norm(b.astype(np.float64)))
        R.check('dimension: a D = 512 bind after the switch = numpy float64 (≤ 1e-6·‖a‖‖b‖)', err <= 1e-6, f'{err:.1e}')
    finally:
        await c.close()


def run_dimension():
    s = Server(256, {'HOLOSERVE_ADMIN_OPS': '1'})
    if not s.wait_ready(60):
        R.check('server D=256 (dimension switch) starts', False, s.output())
        s.stop()
        return
    try:
        asyncio.run(guarded('dimension switch', check_dimension_switch(s)))
    finally:
        code = s.stop()
        R.check('server D=256 → 512: SIGTERM → exit code 0', code == 0, f'exit {code}' + ('' if code == 0 else '\n' + s.output()))


def main():
    t0 = time.monotonic()
    print(f'interop: {sys.executable} (msgpack {".".join(map(str, msgpack.version))}, '
          f'websockets {__import__("websockets").__version__}, numpy {np.__version__}, POT {ot.__version__}; '
          f'client: holoserve {holoserve.__version__} from {os.path.dirname(holoserve.__file__)})', flush=True)
    if not os.path.exists(MAIN):
        R.check('dist/src/main.js exists (run `npm run build` first)', False, MAIN)
    else:
        D = 2048
        role_tokens = ['dog', 'a', 'agent', 'pos:3', 'hello world', 'naïve', 'Ωμέγα', '日本語', '🙂', 'Straße', 'x' * 40]
        run_server(D, [
            ('hello', lambda c: check_hello(c, D)),
            ('role', lambda c: check_roles(c, D, role_tokens)),
            ('bind', lambda c: check_bind(c, D)),
            ('unbind', lambda c: check_unbind(c, D)),
            ('cosine/bundle/encode', lambda c: check_cosine_bundle_encode(c, D)),
            ('sinkhorn', check_sinkhorn),
            ('heat', check_heat),
            ('memory', lambda c: check_memory(c, D)),
            ('ids', check_ids),
            ('errors', lambda c: check_errors(c, D)),
            ('decode profile', lambda c: check_decode_profile(c, D)),
            ('pipelining', lambda c: check_pipelining(c, D)),
            ('client package', lambda c: check_client_package(c, D)),
        ])
        D8 = 8192
        run_server(D8, [
            ('hello', lambda c: check_hello(c, D8)),
            ('role', lambda c: check_roles(c, D8, ['dog', 'Ωμέγα', 'agent'])),
            ('bind', lambda c: check_bind(c, D8)),
        ])
        run_cluster()
        run_dimension()
    print(f'interop: {time.monotonic() - t0:.1f} s', flush=True)
    print(f'{R.passed} passed, {R.failed} failed', flush=True)
    sys.exit(1 if R.failed else 0)


if __name__ == '__main__':
    main()

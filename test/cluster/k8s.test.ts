/**
 * deploy/k8s, validated client-side with what is installable here (no cluster, no API server):
 *   - `kubectl kustomize` renders the kustomization (every file exists and parses as YAML,
 *     resource ids are unique), and `kubectl label --local -o json` parses every object into
 *     JSON (apiVersion/kind/metadata present). NOT checked: the objects against the API's
 *     OpenAPI schema (kubectl needs a server for that), admission, CRDs being installed.
 *   - the points that matter, asserted on the rendered objects: probes on /readyz and
 *     /healthz at the container's port, selectors that match the pod labels, the HPA's target,
 *     the Deployment's environment accepted by holoserve's own loadConfig;
 *   - the Redis StatefulSet's arguments given to a real redis-server pass holoserve's start-up
 *     check, and every metric the alert rules name is exported by the Redis gauges.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.js';
import { checkRedisServer, inspectRedis, redisClient } from '../../src/store/redis.js';
import { watchRedis } from '../../src/store/redis-metrics.js';
import { ROOT } from '../server/harness.js';
import { startRedis, type RedisServer } from '../../bench/redis-server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function render(dir = 'deploy/k8s'): Obj[] {
  const yaml = execFileSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8', timeout: 60_000 });
  const json = execFileSync('kubectl', ['label', '--local', '-f', '-', '-o', 'json', 'holoserve.dev/validated=client'], { input: yaml, encoding: 'utf8', timeout: 60_000 });
  // one pretty-printed JSON object after another
  return JSON.parse(`[${json.trim().replace(/\n}\n{/g, '\n},\n{')}]`) as Obj[];
}

const one = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  expect(o, `${kind}/${name}`).toBeDefined();
  return o!;
};
/** The container's env as holoserve would see it (a well-formed placeholder for secret values). */
function envOf(c: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env) env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? '[{"salt":"s","sha256":"' + 'a'.repeat(64) + '","tenants":["*"]}]' : '');
  return env;
}
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s manifests', () => {
  let objs: Obj[];
  beforeAll(() => { objs = render(); });

  it('render and parse: the expected objects, each labelled part-of holoserve', () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/holoserve', 'HorizontalPodAutoscaler/holoserve', 'PodDisruptionBudget/holoserve', 'PodMonitor/holoserve',
      'PrometheusRule/holoserve-redis', 'Service/holoserve', 'Service/holoserve-redis', 'StatefulSet/holoserve-redis',
    ]);
    for (const o of objs) expect(o.metadata.labels['app.kubernetes.io/part-of']).toBe('holoserve');
  });

  it('the Deployment: Redis mode, probes on /readyz and /healthz, resources, an environment holoserve accepts', () => {
    const d = one(objs, 'Deployment', 'holoserve');
    const pod = d.spec.template;
    expect(matches(d.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    const c = pod.spec.containers[0];
    const port = c.ports.find((p: Obj) => p.name === 'http');
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.startupProbe.httpGet.path).toBe('/healthz');
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.requests.memory).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    const env = envOf(c);
    const cfg = loadConfig(env); // throws, naming the setting, on any bad value
    expect(cfg.store).toBe('redis');
    expect(cfg.port).toBe(port.containerPort);
    expect(cfg.host).toBe('0.0.0.0');
    expect(cfg.tokens.length).toBe(1); // off loopback, tokens are required
    expect(String(cfg.workers)).toBe(String(c.resources.requests.cpu));
    // every HOLOSERVE_* variable names a real setting (a typo would be silently ignored)
    const known = new Set(Object.keys(cfg).map((k) => 'HOLOSERVE_' + k.replace(/[A-Z]/g, (x) => '_' + x).toUpperCase()));
    for (const name of Object.keys(env).filter((n) => n.startsWith('HOLOSERVE_'))) expect(known.has(name), name).toBe(true);
    // the URL names the Redis Service
    expect(new URL(cfg.redisUrl).hostname).toBe('holoserve-redis');
    // SIGTERM drains for drainTimeoutMs; the grace period must outlast it plus the preStop sleep
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(cfg.drainTimeoutMs + 3000);
    // ownership across pods: each advertises its pod IP at the container's port; POD_IP is
    // defined before the variable that uses it (Kubernetes expands $(VAR) only from earlier ones)
    expect(cfg.advertiseUrl).toBe(`ws://$(POD_IP):${port.containerPort}/v1`);
    const names = c.env.map((e: Obj) => e.name);
    expect(c.env.find((e: Obj) => e.name === 'POD_IP').valueFrom.fieldRef.fieldPath).toBe('status.podIP');
    expect(names.indexOf('POD_IP')).toBeLessThan(names.indexOf('HOLOSERVE_ADVERTISE_URL'));
    expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it('Service, PDB, HPA and PodMonitor point at the Deployment\'s pods and port', () => {
    const labels = one(objs, 'Deployment', 'holoserve').spec.template.metadata.labels;
    const svc = one(objs, 'Service', 'holoserve');
    expect(matches(svc.spec.selector, labels)).toBe(true);
    expect(svc.spec.ports[0].targetPort).toBe('http');
    expect(matches(one(objs, 'PodDisruptionBudget', 'holoserve').spec.selector.matchLabels, labels)).toBe(true);
    const hpa = one(objs, 'HorizontalPodAutoscaler', 'holoserve');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'holoserve' });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    const pm = one(objs, 'PodMonitor', 'holoserve');
    expect(matches(pm.spec.selector.matchLabels, labels)).toBe(true);
    expect(pm.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    const redisSvc = one(objs, 'Service', 'holoserve-redis');
    const sts = one(objs, 'StatefulSet', 'holoserve-redis');
    expect(sts.spec.serviceName).toBe('holoserve-redis');
    expect(matches(redisSvc.spec.selector, sts.spec.template.metadata.labels)).toBe(true);
  });

  it('LMDB mode (deploy/k8s/lmdb): one StatefulSet pod whose data directory is its volume', () => {
    const lm = render('deploy/k8s/lmdb');
    expect(lm.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Service/holoserve', 'StatefulSet/holoserve']);
    const sts = one(lm, 'StatefulSet', 'holoserve');
    expect(sts.spec.replicas).toBe(1);
    const pod = sts.spec.template;
    expect(matches(sts.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    expect(matches(one(lm, 'Service', 'holoserve').spec.selector, pod.metadata.labels)).toBe(true);
    const c = pod.spec.containers[0];
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const cfg = loadConfig(envOf(c));
    expect(cfg.store).toBe('lmdb');
    const mount = c.volumeMounts.find((m: Obj) => m.mountPath === cfg.dataDir);
    expect(sts.spec.volumeClaimTemplates.map((v: Obj) => v.metadata.name)).toContain(mount.name);
  });

  describe('the Redis StatefulSet\'s configuration on a real redis-server', () => {
    let redis: RedisServer;
    let directives: Record<string, string>;
    beforeAll(async () => {
      const args: string[] = one(objs, 'StatefulSet', 'holoserve-redis').spec.template.spec.containers[0].args;
      directives = {};
      for (let i = 0; i < args.length; i += 2) directives[args[i].replace(/^--/, '')] = args[i + 1];
      delete directives.dir; // the test's own temporary directory
      redis = await startRedis(directives);
    });
    afterAll(async () => { await redis?.stop(); });

    it('passes holoserve\'s start-up check with no warning', async () => {
      expect(directives).toMatchObject({ appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'noeviction' });
      const c = redisClient(redis.url, 'k8s-test');
      await c.connect();
      expect(await inspectRedis(c)).toEqual({ fsync: [], eviction: [] });
      expect(await checkRedisServer(c, { url: redis.url, allowEviction: false, allowWithoutFsync: false })).toEqual([]);
      expect(Number((await c.config('GET', 'maxmemory') as string[])[1])).toBe(3 * 2 ** 30);
      c.disconnect();
    });

    it('the PrometheusRule carries exactly the holoserve.redis group of deploy/prometheus/rules.yml (promtool-tested there)', () => {
      const text = readFileSync(join(ROOT, 'deploy/prometheus/rules.yml'), 'utf8');
      const group = text.slice(text.indexOf('- name: holoserve.redis'));
      const fromRules = [...group.matchAll(/- alert: (\w+)\n\s+expr: (.+)\n/g)].map((m) => [m[1], m[2].trim()]);
      const rules = one(objs, 'PrometheusRule', 'holoserve-redis').spec.groups.flatMap((g: Obj) => g.rules);
      expect(fromRules.length).toBe(4);
      expect(rules.map((r: Obj) => [r.alert, String(r.expr).trim()])).toEqual(fromRules);
    });

    it('every metric the alert rules name is one the Redis gauges export', async () => {
      const reg = new Registry();
      const w = await watchRedis({ url: redis.url, prefix: 'k8s:', allowEviction: false, allowWithoutFsync: false, waitReplicas: 0, waitTimeoutMs: 1000 }, reg, () => undefined);
      const exported = new Set((await reg.getMetricsAsJSON()).map((m) => m.name));
      const rules = one(objs, 'PrometheusRule', 'holoserve-redis').spec.groups.flatMap((g: Obj) => g.rules);
      const named = new Set<string>(rules.flatMap((r: Obj) => [...String(r.expr).matchAll(/holoserve_\w+/g)].map((m) => m[0])));
      expect(named.size).toBeGreaterThanOrEqual(5);
      for (const n of named) expect(exported.has(n), n).toBe(true);
      await w.close();
    });
  });
});

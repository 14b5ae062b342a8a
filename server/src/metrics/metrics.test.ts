// Prometheus metrics (docs/metrics.md): the counters move when the things happen, /metrics is
// never open on the public port, and no label carries a secret, an id, an email or an IP (H3).
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListeningApp, type ListeningApp } from '../../test/device-client.js';
import { createTestApp, createUser, issueApiToken } from '../../test/harness.js';
import { startPairing } from '../../test/pairing-helpers.js';
import { ALICE, signIn } from '../../test/sign-in.js';
import { AuditSealer } from '../audit/index.js';
import { startMetricsServer } from './index.js';

const METRICS_TOKEN = 'metrics-bearer-secret-of-at-least-32-bytes';

/** The sum of the series of `name` that carry these labels (in any order), 0 when there are none. */
function seriesSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

let t: ListeningApp;
const scrape = async () => {
  const response = await t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
  expect(response.status).toBe(200);
  return response.text;
};

beforeAll(async () => {
  t = await createListeningApp({ METRICS_TOKEN, RATE_LIMIT_PER_MINUTE: '40' });
  t.services.metrics.watchRedis(t.redis);
  t.services.metrics.watchMongo(t.db.client);
});
afterAll(async () => {
  await t?.close();
});

describe('/metrics on the public port', () => {
  it('is not there without METRICS_TOKEN', async () => {
    const plain = await createListeningApp();
    try {
      const response = await plain.http.get('/metrics');
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('gatehouse_');
    } finally {
      await plain.close();
    }
  });

  it('wants the bearer secret: none, wrong, or in another scheme → 401 UNAUTHENTICATED', async () => {
    for (const header of [
      undefined,
      'Bearer wrong-secret',
      `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}`,
      METRICS_TOKEN,
    ]) {
      const request = t.http.get('/metrics');
      const response = await (header ? request.set('Authorization', header) : request);
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('UNAUTHENTICATED');
      expect(response.text).not.toContain('gatehouse_');
    }
    expect((await t.http.post('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`)).status).toBe(405);
  });

  it('answers the Prometheus text format with the process metrics', async () => {
    const response = await t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.text).toContain('process_cpu_seconds_total');
    expect(response.text).toContain('nodejs_eventloop_lag_seconds');
    expect(seriesSum(response.text, 'gatehouse_redis_breaker_open')).toBe(0);
  });
});

describe('the counters move when the things happen', () => {
  it('a sign-in through the IdP: a succeeded sign-in of provider dev and a session token', async () => {
    // The dev IdP knows the test origin's redirect URI, not the listening app's port.
    const s = await createTestApp({ METRICS_TOKEN });
    const scrapeS = async () => (await s.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`)).text;
    let before = '';
    let after = '';
    try {
      before = await scrapeS();
      await signIn(s, ALICE);
      after = await scrapeS();
    } finally {
      await s.close();
    }
    const signIns = (text: string) => seriesSum(text, 'gatehouse_sign_ins_total', { provider: 'dev', outcome: 'succeeded' });
    expect(signIns(after) - signIns(before)).toBe(1);
    const sessions = (text: string) => seriesSum(text, 'gatehouse_tokens_issued_total', { type: 'session' });
    expect(sessions(after) - sessions(before)).toBe(1);
  });

  it('a refused credential, a revocation, and the request histogram by route template', async () => {
    const user = await createUser(t);
    const kept = await issueApiToken(t, user);
    const ended = await issueApiToken(t, user);
    const before = await scrape();
    expect((await t.http.get('/api/v1/me').set('Authorization', 'Bearer not-a-token')).status).toBe(401);
    const gone = await t.http.delete(`/api/v1/me/sessions/${ended.sessionId}`).set('Authorization', `Bearer ${kept.token}`);
    expect(gone.status).toBe(204);
    expect((await t.http.get('/api/v1/me').set('Authorization', `Bearer ${ended.token}`)).status).toBe(401);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => seriesSum(after, name, labels) - seriesSum(before, name, labels);
    expect(delta('gatehouse_token_checks_refused_total', { reason: 'TOKEN_INVALID' })).toBe(1);
    expect(delta('gatehouse_token_checks_refused_total', { reason: 'TOKEN_REVOKED' })).toBe(1);
    expect(delta('gatehouse_revocations_total', { kind: 'api_token' })).toBe(1);
    expect(delta('gatehouse_tokens_issued_total', { type: 'api' })).toBe(0);
    expect(delta('gatehouse_http_requests_total', { route: '/api/v1/me/sessions/:id', method: 'DELETE', status: '204' })).toBe(1);
    expect(delta('gatehouse_http_request_duration_seconds_count', { route: '/api/v1/me', method: 'GET', status: '401' })).toBe(2);
    // Redis and MongoDB calls were timed.
    expect(delta('gatehouse_redis_command_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(delta('gatehouse_mongodb_command_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
  });

  it('a pairing started by a device', async () => {
    const before = await scrape();
    await startPairing(t);
    const after = await scrape();
    const started = (text: string) => seriesSum(text, 'gatehouse_pairing_outcomes_total', { outcome: 'started' });
    expect(started(after) - started(before)).toBe(1);
  });

  it('a rate-limit trip, and the audit sealer', async () => {
    const stop = new AuditSealer({ ...t.deps, metrics: t.services.metrics }).start(20);
    try {
      let status = 200;
      for (let i = 0; i < 60 && status !== 429; i++) status = (await t.http.get('/healthz-not-a-route')).status;
      expect(status).toBe(429);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      stop();
    }
    const text = await scrape();
    expect(seriesSum(text, 'gatehouse_rate_limit_trips_total', { limiter: 'general' })).toBeGreaterThan(0);
    expect(seriesSum(text, 'gatehouse_audit_sealer_last_run_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(seriesSum(text, 'gatehouse_audit_sealer_lag_seconds')).toBeLessThan(60);
  });
});

describe('H3 labels', () => {
  it('carry no secret, id, email or address, and random paths add no label value', async () => {
    const user = await createUser(t);
    const { token, sessionId } = await issueApiToken(t, user);
    await t.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    const before = await scrape();
    for (let i = 0; i < 20; i++) await t.http.get(`/probe-${i}-${user._id}/alice@example.com`).set('X-Forwarded-For', `10.9.8.${i}`);
    const after = await scrape();
    for (const secret of [token, METRICS_TOKEN, user._id, sessionId, 'alice@example.com', '127.0.0.1', '10.9.8.', 'probe-']) {
      expect(after).not.toContain(secret);
    }
    const series = (text: string) => text.split('\n').filter((line) => line.startsWith('gatehouse_http_requests_total{')).length;
    // At most one new series (the unmatched route's 404 or 429), whatever the paths were.
    expect(series(after) - series(before)).toBeLessThanOrEqual(2);
    expect(after).toContain('route="unmatched"');
  });
});

describe('the metrics port', () => {
  it('serves /metrics and nothing else; with a token it wants the token', async () => {
    const open = await startMetricsServer(t.services.metrics, { port: 0, host: '127.0.0.1' });
    const guarded = await startMetricsServer(t.services.metrics, { port: 0, host: '127.0.0.1', token: METRICS_TOKEN });
    const url = (server: typeof open, path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    try {
      const scraped = await fetch(url(open, '/metrics'));
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('gatehouse_http_requests_total');
      expect((await fetch(url(open, '/api/v1/me'))).status).toBe(404);
      expect((await fetch(url(guarded, '/metrics'))).status).toBe(401);
      expect((await fetch(url(guarded, '/metrics'), { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
      expect((await fetch(url(guarded, '/metrics'), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    } finally {
      open.close();
      guarded.close();
    }
  });
});

describe('docs/grafana-dashboard.json', () => {
  it('is built on series this server really exports', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exported = new Set((await t.services.metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    const used = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((target) => target.expr.match(/\b(gatehouse|nodejs|process)_[a-z_]+/g) ?? []),
    );
    expect(used.length).toBeGreaterThan(10);
    const missing = used.map((name) => name.replace(/_(bucket|count|sum)$/, '')).filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
  });
});

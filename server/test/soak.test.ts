// Issue 14: the short soak (3 minutes; `npm run soak` runs 30). Mixed load — sign-ins through
// the development IdP, refreshes, API reads, revocations — against the real server process
// (bench/soak.ts, run as `npm run soak` would): every request must succeed and, after warm-up,
// the server's RSS must grow by less than 10 %. Only slopes and error counts are checked, never
// speed, so a loaded machine only makes it slower.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MINUTES = Number(process.env.SOAK_TEST_MINUTES ?? 3);
const out = mkdtempSync(join(tmpdir(), 'gatehouse-soak-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Summary {
  samples: { rss: number; sockets: number; mongoConnections?: number; redisConnections?: number }[];
  requests: Record<string, number>;
  errors: Record<string, number>;
  rssGrowth: number;
}

// `npm test` runs it last and alone (scripts/test.mjs sets GATEHOUSE_SOAK_TEST): inside the full
// suite, with every other file loading the same two cores, the server's RSS after warm-up grew
// 11-12 % in 3 minutes (twice), against 0.9 % alone — the slope then measured the neighbours, not
// a leak. By hand: GATEHOUSE_SOAK_TEST=1 npx vitest run --project server test/soak.test.ts.
describe.skipIf(!process.env.GATEHOUSE_SOAK_TEST)('soak', () => {
  it(
    `${MINUTES} minutes of mixed load: no errors, RSS flat after warm-up, no piling connections`,
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=gatehouse-source', 'bench/soak.ts'], {
        cwd: new URL('../..', import.meta.url),
        // Samples every 3 s: a short run needs more of them for stable medians.
        env: { ...process.env, SOAK_MINUTES: String(MINUTES), SOAK_OUT: out, SOAK_INTERVAL_SECONDS: '3' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await new Promise((resolve) => child.once('exit', resolve));
      const result = JSON.parse(readFileSync(join(out, 'soak.json'), 'utf8')) as Summary;
      process.stdout.write(`soak: ${JSON.stringify(result.requests)}, RSS growth after warm-up ${(result.rssGrowth * 100).toFixed(1)} %\n`);
      expect(result.errors).toEqual({});
      for (const kind of ['read', 'refresh', 'revoke', 'sign-in']) expect(result.requests[kind] ?? 0, kind).toBeGreaterThan(0);
      expect(result.samples.length).toBeGreaterThanOrEqual(Math.floor((MINUTES * 60) / 10) - 2);
      expect(result.rssGrowth).toBeLessThan(0.1);
      // Sockets and the server's connections to MongoDB and Redis do not pile up.
      for (const series of ['sockets', 'mongoConnections', 'redisConnections'] as const) {
        const values = result.samples.map((s) => s[series] ?? 0);
        expect(Math.max(...values), series).toBeGreaterThan(0);
        expect(Math.max(...values.slice(-3)), series).toBeLessThanOrEqual(Math.max(...values.slice(0, 3)) + 5);
      }
    },
    (MINUTES + 4) * 60_000,
  );
});

describe('the soak verdict (growth)', async () => {
  // bench/ is outside the server's TypeScript project; the soak above runs the same file.
  const { growth } = (await import(new URL('../../bench/soak.ts', import.meta.url).href)) as {
    growth(samples: { at: number; rss: number; heapTotal?: number }[]): number;
  };
  const MiB = 2 ** 20;
  /** A 3-minute run sampled every 3 s; `rss` and `heapTotal` in MiB by second. */
  const run = (rss: (second: number) => number, heapTotal: (second: number) => number) =>
    Array.from({ length: 60 }, (_, i) => ({ at: 1_000_000 + i * 3000, rss: rss(i * 3) * MiB, heapTotal: heapTotal(i * 3) * MiB }));

  it('a one-time step of V8 heap reservation in the first half is warm-up, not growth', () => {
    const samples = run(
      (s) => (s < 84 ? 185 : 216),
      (s) => (s < 84 ? 110 : 175),
    );
    expect(growth(samples)).toBeLessThan(0.01);
    // Without the heap figures the same RSS step counts, as before.
    expect(growth(samples.map(({ at, rss }) => ({ at, rss })))).toBeGreaterThan(0.1);
  });

  it('RSS that keeps growing fails, however the heap steps', () => {
    expect(
      growth(
        run(
          (s) => 180 + s * 0.8,
          () => 110,
        ),
      ),
    ).toBeGreaterThan(0.1);
    expect(
      growth(
        run(
          (s) => 180 + s * 0.8,
          (s) => 110 * 1.12 ** Math.floor(s / 9),
        ),
      ),
    ).toBeGreaterThan(0.1);
  });
});

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

// Vitest global setup: one throw-away local stack (Redis, FerretDB on PostgreSQL, the dev
// IdP) for every integration test of the server, on free ports, removed at the end.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack } from '../../scripts/stack/index.mjs';
import { verdict } from './suite-audit.js';

/** What the tests get from `inject('stack')`. */
export interface TestStack {
  redisUrl: string;
  /** No database path: each test app appends its own database. */
  mongoUrl: string;
  idpIssuer: string;
  idpClientId: string;
  idpClientSecret: string;
  redisPort: number;
  dataDir: string;
  /** Where each test app leaves its audit-and-secrets report (see suite-audit.ts). */
  reportDir: string;
  /** The mail catcher: `SMTP_URL` for a test app, and its page (`messages.json?to=`). */
  smtpUrl: string;
  mailUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

/** The backend under test runs in-process (supertest) as if at this origin; never fetched. */
const TEST_ORIGIN = 'http://127.0.0.1:4555';
const CLIENT_ID = 'gatehouse-test';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  // mkdtemp makes it 0700; PostgreSQL runs as another user when we are root and must get in.
  chmodSync(dataDir, 0o755);
  const clientSecret = randomBytes(24).toString('base64url');

  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack({
      dataDir,
      persistent: false,
      ports: {}, // all free, picked at random
      idp: {
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: clientSecret,
            redirect_uris: [`${TEST_ORIGIN}/auth/dev/callback`],
            post_logout_redirect_uris: [`${TEST_ORIGIN}/`],
            backchannel_logout_uri: `${TEST_ORIGIN}/auth/dev/backchannel-logout`,
          },
        ],
      },
      // The development mail catcher: tests that set SMTP_URL read what was sent from it (docs/mail.md).
      mail: true,
      log: (line) => console.log(`[stack] ${line}`),
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  project.provide('stack', {
    redisUrl: stack.redisUrl,
    mongoUrl: stack.mongoUrl,
    idpIssuer: stack.idpIssuer ?? '',
    idpClientId: CLIENT_ID,
    idpClientSecret: clientSecret,
    redisPort: Number(new URL(stack.redisUrl).port || 6379),
    dataDir,
    reportDir: join(dataDir, 'reports'),
    smtpUrl: stack.mail?.smtpUrl ?? '',
    mailUrl: stack.mail?.webUrl ?? '',
  });

  return async () => {
    const { missing, leaks, apps } = verdict(join(dataDir, 'reports'));
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    // Only a run of the whole suite can judge coverage (npm test sets this); leaks count always.
    const wholeSuite = process.env.GATEHOUSE_SUITE_CHECKS === '1';
    const coverage = wholeSuite && missing.length > 0;
    // A run of some files (one test, the soak) produces few actions: listing the rest says nothing.
    const produced = wholeSuite ? `; audit actions never produced: ${missing.join(', ') || 'none'}` : '';
    console.log(`[suite] ${apps} test apps reported${produced}; leaks: ${leaks.length}`);
    if (coverage || leaks.length > 0)
      throw new Error(
        [
          coverage ? `audit actions no test produced: ${missing.join(', ')}` : '',
          leaks.length ? `known secrets found: ${leaks.join('; ')}` : '',
        ]
          .filter(Boolean)
          .join(' — '),
      );
  };
}

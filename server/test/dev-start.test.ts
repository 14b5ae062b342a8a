// `npm start` as a developer runs it (issue #10, developer experience): with a PUBLIC_URL of
// one's own, the development IdP is registered with that URL and sign-in works through it; the
// `gatehouse` command run from the checkout reaches that stack without any exported variable.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAtDevIdp } from '../../scripts/dev-idp/index.mjs';
import { withDevStackEnv } from '../bin/dev-stack-env.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The variables a developer's shell may carry that would hide what this test checks. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(MONGODB_|REDIS_|MASTER_KEY|SECRET_KEY|OIDC_|PUBLIC_URL|PORT|HOST|NODE_ENV|VITEST)/.test(key)) delete env[key];
  }
  return env;
}

describe('npm start with a PUBLIC_URL of its own', () => {
  let stackDir: string;
  let start: ChildProcess;
  let publicUrl: string;
  let output = '';

  beforeAll(async () => {
    stackDir = mkdtempSync(join(tmpdir(), 'gatehouse-dev-start-'));
    // PostgreSQL runs as its own user and must reach the data folder.
    spawnSync('chmod', ['755', stackDir]);
    const port = await freePort();
    // 127.0.0.1 instead of the default localhost: a URL the old start script would not register.
    publicUrl = `http://127.0.0.1:${port}`;
    start = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: repo,
      env: {
        ...cleanEnv(),
        GATEHOUSE_STACK_DIR: stackDir,
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        DEV_IDP_PORT: String(await freePort()),
        REDIS_PORT: String(await freePort()),
        POSTGRES_PORT: String(await freePort()),
        FERRETDB_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout?.on('data', (chunk) => (output += chunk));
    start.stderr?.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 150_000;
    while (!output.includes(`Gatehouse ready: ${publicUrl}`)) {
      if (start.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not get ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 180_000);

  afterAll(async () => {
    if (start && start.exitCode === null) {
      const exited = new Promise((resolve) => start.once('exit', resolve));
      start.kill('SIGINT');
      await exited;
    }
    if (stackDir) rmSync(stackDir, { recursive: true, force: true });
  }, 60_000);

  it('prints the URL the backend uses, and sign-in through the dev IdP lands signed in there', async () => {
    expect(output).toContain(`Backend       ${publicUrl}`);
    // No owner yet: the banner shows how to make one.
    expect(output).toContain('First run     FIRST_RUN_PASSWORD=');
    const login = await fetch(`${publicUrl}/auth/dev/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const loginCookie = login.headers.getSetCookie().map((c) => c.split(';')[0]);
    const authorize = new URL(login.headers.get('location') ?? '');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${publicUrl}/auth/dev/callback`);

    const callback = await signInAtDevIdp(authorize, { login: 'bob@example.com', password: 'bob-password' });
    expect(callback.startsWith(`${publicUrl}/auth/dev/callback?`)).toBe(true);
    const done = await fetch(callback, { redirect: 'manual', headers: { cookie: loginCookie.join('; ') } });
    expect(done.status).toBe(302);
    const session = done.headers.getSetCookie().find((c) => c.startsWith('__Host-gatehouse='));
    expect(session).toBeDefined();

    const me = await fetch(`${publicUrl}/api/v1/me`, { headers: { cookie: session?.split(';')[0] ?? '' } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe('bob@example.com');
  });

  it('the gatehouse command reaches that stack with nothing exported, and says where its settings came from', () => {
    expect(statSync(join(stackDir, 'dev-env.json')).mode & 0o777).toBe(0o600);
    const cli = spawnSync(process.execPath, ['server/bin/gatehouse.mjs', 'users', 'list'], {
      cwd: repo,
      env: { ...cleanEnv(), GATEHOUSE_STACK_DIR: stackDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(cli.stderr).toContain("using the development stack's MONGODB_URL, REDIS_URL, MASTER_KEY");
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('bob@example.com');
  }, 90_000);
});

describe('the development stack settings of the gatehouse command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-dev-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are never used in production, nor when the operator names a database, nor when absent', () => {
    expect(withDevStackEnv(repo, { GATEHOUSE_STACK_DIR: dir }).taken).toEqual([]);
    spawnSync('sh', ['-c', `printf '{"MONGODB_URL":"mongodb://x/y","MASTER_KEY":"k"}' > ${join(dir, 'dev-env.json')}`]);
    expect(withDevStackEnv(repo, { GATEHOUSE_STACK_DIR: dir }).taken).toEqual(['MONGODB_URL', 'MASTER_KEY']);
    expect(withDevStackEnv(repo, { GATEHOUSE_STACK_DIR: dir, NODE_ENV: 'production' }).taken).toEqual([]);
    expect(withDevStackEnv(repo, { GATEHOUSE_STACK_DIR: dir, MONGODB_URL: 'mongodb://prod/db' }).taken).toEqual([]);
    const mine = withDevStackEnv(repo, { GATEHOUSE_STACK_DIR: dir, MASTER_KEY: 'mine' });
    expect(mine.taken).toEqual(['MONGODB_URL']);
    expect(mine.env.MASTER_KEY).toBe('mine');
  });
});

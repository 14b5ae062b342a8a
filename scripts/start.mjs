// `npm start`: the whole development setup in one command. Installs dependencies when
// needed, starts the local stack (Redis, FerretDB on PostgreSQL, the dev IdP) with its data
// under .stack/, then the backend; Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installIfStale } from './install.mjs';
import { reexecUnderSupportedNode } from './runtime.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
// The stack runs on the supported LTS (scripts/runtime.mjs), installed first where it is missing.
await reexecUnderSupportedNode(fileURLToPath(import.meta.url));
const env = process.env;
// GATEHOUSE_STACK_DIR: another data folder, so a test can start a second stack beside yours.
const dataDir = env.GATEHOUSE_STACK_DIR ?? join(repo, '.stack');
const say = (line) => console.log(`gatehouse: ${line}`);
const port = (name, fallback) => Number(env[name] ?? fallback);
const PORT = port('PORT', 3000);
// The URL people use is the one the backend builds its redirect URIs from, so the dev IdP must
// register exactly that one: a PUBLIC_URL of your own (a proxy, another host name) works too.
const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${PORT}`).replace(/\/+$/, '');
// Health is asked of the listener itself, which a PUBLIC_URL behind a proxy may not reach.
const localUrl = `http://${(env.HOST ?? '127.0.0.1').replace(/^::$|^0\.0\.0\.0$/, '127.0.0.1')}:${PORT}`;

// Generated once, kept beside the data they protect; never committed (.stack/ is ignored).
function devSecrets() {
  const file = join(dataDir, 'dev-secrets.json');
  const secrets = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const wanted = {
    MASTER_KEY: () => randomBytes(32).toString('base64url'),
    FIRST_RUN_PASSWORD: () => randomBytes(32).toString('base64url'),
    DEV_IDP_CLIENT_SECRET: () => randomBytes(32).toString('base64url'),
  };
  const missing = Object.keys(wanted).filter((k) => !secrets[k]);
  for (const key of missing) secrets[key] = wanted[key]();
  if (missing.length) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return secrets;
}

/**
 * What the `gatehouse` command needs to reach this stack, so that it works from the checkout
 * without exporting anything (server/bin/dev-stack-env.mjs reads it). Rewritten at every start:
 * the ports may change. Mode 600, like the secrets it repeats.
 */
function writeCliSettings(backendEnv) {
  const keys = ['MONGODB_URL', 'REDIS_URL', 'REDIS_KEY_PREFIX', 'MASTER_KEY', 'SECRET_KEY', 'PUBLIC_URL', 'SMTP_URL', 'MAIL_FROM'];
  const settings = Object.fromEntries(keys.filter((k) => backendEnv[k] !== undefined).map((k) => [k, backendEnv[k]]));
  const file = join(dataDir, 'dev-env.json');
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function waitForHealth(backend, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (backend.exitCode !== null || backend.signalCode !== null) {
      throw new Error(`the backend exited (${backend.exitCode ?? backend.signalCode}) before /healthz answered`);
    }
    const ok = await fetch(`${localUrl}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${localUrl}/healthz did not answer 200 within ${timeoutMs / 1000} s`);
}

/** Whether first-run setup is still open: the setup page is gone (404) once an owner exists. */
async function setupOpen() {
  const page = await fetch(`${localUrl}/setup`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
  return page?.status === 200;
}

function printReady(stack, backendEnv, firstRun) {
  const pw = backendEnv.FIRST_RUN_PASSWORD;
  const setup = firstRun
    ? [
        `  First run     FIRST_RUN_PASSWORD=${pw}`,
        `                open ${publicUrl}/setup, or:`,
        `                curl -X POST ${publicUrl}/api/v1/setup \\`,
        `                  -H 'Authorization: Bootstrap ${pw}' -H 'Content-Type: application/json' \\`,
        `                  -d '{"email":"alice@example.com","name":"Alice Admin"}'`,
      ].join('\n')
    : '  Setup         done: an owner exists (delete .stack/ to start over)';
  console.log(`
  Backend       ${publicUrl}
  Dev IdP       ${stack.idpIssuer}  (client gatehouse-dev)
  MongoDB       ${backendEnv.MONGODB_URL}${env.MONGODB_URL ? '' : '  (FerretDB on PostgreSQL)'}
  Redis         ${backendEnv.REDIS_URL}
  Mail (dev)    ${stack.mail ? `${stack.mail.webUrl}  (every message the backend sends, with its links)` : `${backendEnv.SMTP_URL} (SMTP_URL)`}
  Data          ${dataDir}${stack.postgresData ? `, PostgreSQL in ${stack.postgresData}` : ''}
                (delete .stack/ to start over; logs in .stack/logs/)
  Demo users    alice@example.com / alice-password   (group admins → Gatehouse admin)
                bob@example.com   / bob-password     (group staff)
  Admin command npm run gatehouse -- users list   (reads this stack's settings from ${join(dataDir, 'dev-env.json')})
${setup}
`);
  console.log(`Gatehouse ready: ${publicUrl}`);
}

async function main() {
  installIfStale(say);
  const secrets = devSecrets();
  // Imported after the install: the dev IdP needs oidc-provider from node_modules.
  const { startStack } = await import('./stack/index.mjs');
  const stack = await startStack({
    dataDir,
    persistent: true,
    ports: {
      redis: port('REDIS_PORT', 6380),
      postgres: port('POSTGRES_PORT', 5433),
      ferretdb: port('FERRETDB_PORT', 27018),
      idp: port('DEV_IDP_PORT', 3001),
      smtp: port('DEV_SMTP_PORT', 2525),
      mailWeb: port('DEV_MAIL_PORT', 8025),
    },
    // Mail goes to a local catcher unless the environment names a real server (docs/mail.md).
    mail: !env.SMTP_URL,
    idp: {
      keysDir: join(dataDir, 'dev-idp'), // tokens stay verifiable across restarts
      clients: [
        {
          client_id: 'gatehouse-dev',
          client_secret: secrets.DEV_IDP_CLIENT_SECRET,
          client_name: 'Gatehouse (development)',
          redirect_uris: [`${publicUrl}/auth/dev/callback`],
          post_logout_redirect_uris: [`${publicUrl}/`],
          backchannel_logout_uri: `${publicUrl}/auth/dev/backchannel-logout`,
        },
      ],
    },
    log: say,
  });

  const mongoUrl = new URL(stack.mongoUrl);
  mongoUrl.pathname = '/gatehouse';
  // (e) Our defaults first, then whatever the user set in the environment wins.
  const backendEnv = {
    NODE_ENV: 'development',
    PORT: String(PORT),
    PUBLIC_URL: publicUrl,
    MONGODB_URL: env.MONGODB_URL ?? mongoUrl.href,
    REDIS_URL: stack.redisUrl,
    MASTER_KEY: secrets.MASTER_KEY,
    FIRST_RUN_PASSWORD: secrets.FIRST_RUN_PASSWORD,
    OIDC_PROVIDERS: 'dev',
    OIDC_DEV_ISSUER: stack.idpIssuer,
    OIDC_DEV_CLIENT_ID: 'gatehouse-dev',
    OIDC_DEV_CLIENT_SECRET: secrets.DEV_IDP_CLIENT_SECRET,
    OIDC_DEV_NAME: 'Development IdP',
    OIDC_DEV_SCOPES: 'openid email profile groups',
    OIDC_DEV_GROUPS_CLAIM: 'groups',
    OIDC_DEV_ADMIN_GROUPS: 'admins',
    ...(stack.mail ? { SMTP_URL: stack.mail.smtpUrl } : {}),
    ...env,
  };
  writeCliSettings(backendEnv);
  const backend = spawn(process.execPath, ['--import', 'tsx', '--conditions=gatehouse-source', 'server/src/main.ts'], {
    cwd: repo,
    env: backendEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  stack.track(backend); // if this script is killed outright, the watchdog stops the backend too
  const backendExit = new Promise((resolve) => {
    backend.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    backend.once('error', (err) => {
      say(`cannot start the backend: ${err.message}`);
      resolve(1);
    });
  });

  // (g) One way out, whoever triggers it: the backend first (it still needs its stores), then the stack.
  let exiting;
  const shutdown = (reason, exitCode = 0) =>
    (exiting ??= (async () => {
      if (reason) say(`${reason}: stopping …`);
      if (backend.exitCode === null && backend.signalCode === null) backend.kill('SIGTERM');
      const force = setTimeout(() => backend.kill('SIGKILL'), 12_000);
      const code = await backendExit;
      clearTimeout(force);
      await stack.stop();
      say('stopped');
      process.exit(exitCode || (reason === 'backend exited' ? code || 1 : 0));
    })());
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  backendExit.then(() => shutdown('backend exited'));

  try {
    await waitForHealth(backend);
  } catch (err) {
    say(err.message);
    return shutdown('backend not healthy', 1);
  }
  printReady(stack, backendEnv, await setupOpen());
}

main().catch((err) => {
  console.error(`gatehouse: ${err.stack ?? err}`);
  process.exit(1);
});

// The e2e stack: real Redis, FerretDB and development IdP (scripts/stack), the real backend
// built and started as in production (./production.ts) behind a TLS proxy, Debian's Chromium
// and Firefox ESR (installed when missing; Puppeteer never downloads a browser) and the
// extension's test build.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { aptInstall, freePort, startStack } from '../../scripts/stack/index.mjs';
import { CHROMIUM, extensionOrigin, FIREFOX_ESR } from './extension-browsers.js';
import { buildTestExtension, type TestExtensionBuild } from './extension-build.js';
import {
  BACKEND_HOST,
  IDP_HOST,
  installBuiltServer,
  makeCertificates,
  resolveTestHosts,
  spawnBuiltServer,
  startTlsProxy,
} from './production.js';

export interface E2eStack {
  backendUrl: string;
  chromium: string;
  artifacts: string;
  serverLog: string;
  /** The unpacked test extension (`npm run -w extension build:test`), one folder per browser. */
  extension: TestExtensionBuild;
  /** The stack's Redis and MongoDB, for suites that start a backend of their own. */
  stackUrls: { redisUrl: string; mongoUrl: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eStack;
  }
}

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** One apt-get for whichever browser is missing (`npm test` installs both up front). */
async function ensureBrowsers(log: (line: string) => void, logsDir: string): Promise<void> {
  const missing = [...(existsSync(CHROMIUM) ? [] : ['chromium']), ...(existsSync(FIREFOX_ESR) ? [] : ['firefox-esr'])];
  if (missing.length) await aptInstall(missing, { logsDir, log });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => console.log(`[e2e] ${line}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  chmodSync(dataDir, 0o755);
  await ensureBrowsers(log, dataDir);
  const artifacts = join(repo, 'e2e', 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  const extension = await buildTestExtension(log, join(artifacts, 'extension-build.log'));
  // Production as it runs (docs/deployment.md): the built server, behind a TLS proxy.
  resolveTestHosts();
  const tls = makeCertificates(dataDir);
  const proxyPort = await freePort();
  const port = await freePort();
  const backendUrl = `https://${BACKEND_HOST}:${proxyPort}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const install = installBuiltServer(join(dataDir, 'app'), log);
  const stack = await startStack({
    dataDir,
    persistent: false,
    ports: {},
    idp: {
      issuer: `https://${IDP_HOST}:${proxyPort}`,
      clients: [{ client_id: 'gatehouse-e2e', client_secret: clientSecret, redirect_uris: [`${backendUrl}/auth/dev/callback`] }],
    },
    log,
  });
  const proxy = await startTlsProxy(proxyPort, tls, { [BACKEND_HOST]: port, [IDP_HOST]: stack.idp?.port ?? 0 });
  const serverLog = join(artifacts, 'server.log');
  const out = openSync(serverLog, 'w');
  let backend: ChildProcess | undefined;
  try {
    backend = spawnBuiltServer(
      install,
      {
        PORT: String(port),
        PUBLIC_URL: backendUrl,
        TRUST_PROXY_HOPS: '1',
        // The throw-away CA of the proxy, for the server's own calls to the IdP.
        NODE_EXTRA_CA_CERTS: tls.caFile,
        MONGODB_URL: `${stack.mongoUrl}/e2e`,
        REDIS_URL: stack.redisUrl,
        MASTER_KEY: randomBytes(32).toString('base64url'),
        OIDC_PROVIDERS: 'dev',
        OIDC_DEV_ISSUER: stack.idpIssuer ?? '',
        OIDC_DEV_CLIENT_ID: 'gatehouse-e2e',
        OIDC_DEV_CLIENT_SECRET: clientSecret,
        OIDC_DEV_NAME: 'Development IdP',
        OIDC_DEV_SCOPES: 'openid email profile groups',
        OIDC_DEV_ADMIN_GROUPS: 'admins',
        // The test extension calls the API from its own origin in each browser.
        CORS_ORIGINS: [extensionOrigin('chromium', extension.chromium), extensionOrigin('firefox', extension.firefox)].join(','),
      },
      out,
    );
    stack.track(backend);
    await waitUntilReady(`http://127.0.0.1:${port}/readyz`, backend);
  } catch (error) {
    proxy.close();
    await stack.stop();
    throw error;
  }
  project.provide('e2e', {
    backendUrl,
    chromium: CHROMIUM,
    artifacts,
    serverLog,
    extension,
    stackUrls: { redisUrl: stack.redisUrl, mongoUrl: stack.mongoUrl },
  });
  return async () => {
    backend?.kill('SIGTERM');
    proxy.closeAllConnections();
    proxy.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

async function waitUntilReady(url: string, backend: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (backend.exitCode !== null) throw new Error(`the backend exited with ${backend.exitCode}; see e2e/artifacts/server.log`);
    if (
      await fetch(url).then(
        (response) => response.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready; see e2e/artifacts/server.log`);
}

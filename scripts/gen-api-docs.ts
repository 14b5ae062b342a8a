/** Writes docs/openapi.json, the API reference, from the same document the server serves. */
import { writeFileSync } from 'node:fs';
import { API_DOCS_SERVER, renderOpenApiFile } from '../server/src/http/index.js';

writeFileSync(new URL('../docs/openapi.json', import.meta.url), renderOpenApiFile());
process.stdout.write(`updated docs/openapi.json (server ${API_DOCS_SERVER})\n`);

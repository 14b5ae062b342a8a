// The OpenAPI 3.1 document (docs/architecture.md "Routes"): served at /api/openapi.json, built
// from the shared zod schemas, and complete — every JSON, OAuth and signal route the app mounts
// is in it, so the reference cannot fall behind the code.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { renderOpenApiFile } from './index.js';

describe('the OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** `/api/v1/me/sessions/:id` → `/api/v1/me/sessions/{id}` */
  const toOpenApi = (path: string) => path.replace(/:(\w+)/g, '{$1}');

  it('lists every API, OAuth, well-known, back-channel and signal route the app mounts', async () => {
    const response = await t.http.get('/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const documented = new Set(
      Object.entries(response.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const routers = (t.app.middleware as { router?: { stack: { methods: string[]; path: string }[] } }[]).flatMap((m) => m.router ?? []);
    const mounted = routers
      .flatMap((router) => router.stack)
      .filter(({ path }) => /^\/(api\/v1|oauth|\.well-known|ssf)\/|\/backchannel-logout$/.test(path))
      .flatMap(({ methods, path }) => methods.filter((m) => m !== 'HEAD').map((method) => `${method} ${toOpenApi(path)}`));
    expect(mounted.length).toBeGreaterThan(20);
    const missing = mounted.filter((route) => !documented.has(route));
    expect(missing).toEqual([]);
  });

  it('docs/openapi.json is the same document (run npm run docs:api after changing an endpoint)', async () => {
    // `npm run docs:api` runs this file with GATEHOUSE_WRITE_API_DOCS=1: the document is generated
    // from the routes the app mounts, so it takes the app (and its stack) to write it.
    if (process.env.GATEHOUSE_WRITE_API_DOCS === '1')
      writeFileSync(new URL('../../../docs/openapi.json', import.meta.url), renderOpenApiFile());
    const file = readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
    expect(file, 'docs/openapi.json is stale: run npm run docs:api').toBe(renderOpenApiFile());
  });

  it('describes request bodies and answers with the shared schemas', async () => {
    const { body } = await t.http.get('/api/openapi.json');
    const createToken = body.paths['/api/v1/me/api-tokens'].post;
    const tokenSchema = createToken.requestBody.content['application/json'].schema;
    expect(tokenSchema.required).toEqual(expect.arrayContaining(['name', 'scopes', 'expiresInDays']));
    expect(tokenSchema.properties.scopes.items.enum).toContain('sessions:read');
    expect(body.paths['/api/v1/me/sessions'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['cursor', 'limit']);
    expect(
      body.paths['/oauth/token'].post.requestBody.content['application/x-www-form-urlencoded'].schema.oneOf ??
        body.paths['/oauth/token'].post.requestBody.content['application/x-www-form-urlencoded'].schema.anyOf,
    ).toHaveLength(2);
    expect(body.paths['/api/v1/me'].get.security).toEqual([{ bearer: ['profile:read'] }, { dpop: ['profile:read'] }, { session: [] }]);
  });
});

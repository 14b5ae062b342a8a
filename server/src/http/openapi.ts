import { problemSchema, SCOPES } from '@gatehouse/shared';
import Router from '@koa/router';
import { z } from 'zod';
import { type RegisteredRoute, registeredRoutes } from './route.js';
import type { AppState } from './state.js';

const schema = (type: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const AUTH_TEXT: Record<string, string> = {
  cookie: 'Browser session only (cookie, Origin and X-CSRF-Token).',
  bootstrap: '`Authorization: Bootstrap <FIRST_RUN_PASSWORD>`.',
  client: 'A registered public client, with a DPoP proof.',
  'resource-server': 'HTTP Basic as a configured resource server.',
  signed: 'Authenticated by the signature of the token in the body.',
};

/** What a route's `auth` says, in the document's words: a security requirement or a sentence. */
function describeAuth(auth: RegisteredRoute['spec']['auth']): Record<string, unknown> {
  if (!auth) return {};
  if ('kind' in auth) return { description: AUTH_TEXT[auth.kind] };
  if (auth.browserOnly) return { description: AUTH_TEXT.cookie };
  return auth.scope in SCOPES ? { security: [{ bearer: [auth.scope] }, { dpop: [auth.scope] }, { session: [] }] } : {};
}

function parametersOf({ path, spec }: RegisteredRoute): unknown[] {
  const parameters: unknown[] = [];
  const params = spec.params ? (schema(spec.params) as { properties?: Record<string, unknown> }) : {};
  for (const [, name] of path.matchAll(/:(\w+)/g)) {
    parameters.push({ name, in: 'path', required: true, schema: params.properties?.[name as string] ?? { type: 'string' } });
  }
  if (spec.query) {
    const query = schema(spec.query) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, property] of Object.entries(query.properties ?? {}))
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema: property });
  }
  return parameters;
}

/**
 * The OpenAPI 3.1 document (JSON Schema 2020-12 dialect, as zod emits it), generated from the
 * routes mounted with `route()`: their declared auth, parameters, bodies and answers are the ones
 * that validate the requests, so the document cannot drift from the code.
 */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const ordered = registeredRoutes().sort((a, b) => a.path.localeCompare(b.path) || a.spec.method.localeCompare(b.spec.method));
  for (const registered of ordered) {
    const { spec } = registered;
    const parameters = parametersOf(registered);
    const path = registered.path.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[spec.method] = {
      summary: spec.summary,
      ...describeAuth(spec.auth),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: {
                [spec.body.kind === 'json' ? 'application/json' : 'application/x-www-form-urlencoded']: {
                  schema: schema(spec.body.schema),
                },
              },
            },
          }
        : {}),
      responses: {
        [String(spec.status ?? 200)]: {
          description: 'Success.',
          ...(spec.response ? { content: { 'application/json': { schema: schema(spec.response) } } } : {}),
        },
        default: { description: 'An error.', content: { 'application/problem+json': { schema: schema(problemSchema) } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse API', version: '1', description: 'Generated from the shared zod schemas that validate every request.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A personal API token.' },
        dpop: { type: 'http', scheme: 'DPoP', description: 'A paired client’s access token, with a DPoP proof (RFC 9449).' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: '__Host-gatehouse',
          description: 'Browser session; unsafe methods also need Origin and X-CSRF-Token.',
        },
      },
    },
    paths,
  };
}

export function openApiRoutes(serverUrl: string) {
  const router = new Router<AppState>();
  // Built on first request, once every feature has mounted its routes.
  let document: string | null = null;
  router.get('/api/openapi.json', (ctx) => {
    document ??= JSON.stringify(openApiDocument(serverUrl));
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = document;
  });
  return router;
}

/** The example server named in docs/openapi.json. */
export const API_DOCS_SERVER = 'https://gatehouse.example.com';

/** docs/openapi.json as `npm run docs:api` writes it (a test fails when it is stale). */
export function renderOpenApiFile(): string {
  return `${JSON.stringify(openApiDocument(API_DOCS_SERVER), null, 2)}\n`;
}

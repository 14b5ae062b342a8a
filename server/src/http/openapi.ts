import {
  accountViewSchema,
  activityListSchema,
  activityQuerySchema,
  adminUserQuerySchema,
  adminUserViewSchema,
  changePasswordSchema,
  createApiTokenSchema,
  createdApiTokenSchema,
  deviceAuthorizationRequestSchema,
  localAuthStatusSchema,
  passwordResetSchema,
  passwordSignInSchema,
  pendingStepSchema,
  problemSchema,
  recoveryCodesSchema,
  resetLinkSchema,
  roleChangeSchema,
  SCOPES,
  type Scope,
  sessionListQuerySchema,
  sessionListSchema,
  setPasswordSchema,
  setupBodySchema,
  tokenGrantRequestSchema,
  tokenRequestSchema,
  totpChangeSchema,
  totpOfferSchema,
  totpStepSchema,
} from '@gatehouse/shared';
import Router from '@koa/router';
import { z } from 'zod';
import type { AppState } from './state.js';

type Method = 'get' | 'post' | 'delete';

/** One API operation: what it takes, what it answers, and who may call it. */
interface Operation {
  method: Method;
  path: string;
  summary: string;
  /** The scope a credential needs; `cookie` when only a browser session may call it. */
  auth?: Scope | 'cookie' | 'bootstrap' | 'client' | 'resource-server' | 'signed';
  query?: z.ZodType;
  json?: z.ZodType;
  form?: z.ZodType;
  response?: z.ZodType;
  status?: number;
}

const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' } };
const statusChange = (change: string): Operation => ({
  method: 'post',
  path: `/api/v1/admin/users/{id}/${change}`,
  summary: `${change[0]?.toUpperCase()}${change.slice(1)} the account (admins; not owners, other admins or oneself).`,
  auth: 'admin:users',
  response: z.object({ id: z.string(), status: z.string() }),
});

/**
 * Every JSON and OAuth endpoint, described from the same shared zod schemas that validate the
 * requests. A test checks that each route the app mounts under /api, /oauth and /.well-known
 * is listed here, so the document cannot fall behind the code.
 */
export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/api/v1/me', summary: 'Who the credential acts for.', auth: 'profile:read', response: accountViewSchema },
  {
    method: 'get',
    path: '/api/v1/me/sessions',
    summary: 'The active sessions of every kind, newest first, a page at a time.',
    auth: 'sessions:read',
    query: sessionListQuerySchema,
    response: sessionListSchema,
  },
  { method: 'delete', path: '/api/v1/me/sessions/{id}', summary: 'End one of your sessions.', auth: 'sessions:revoke', status: 204 },
  {
    method: 'post',
    path: '/api/v1/me/sessions/revoke-others',
    summary: 'End every session but the current one.',
    auth: 'sessions:revoke',
    response: z.object({ revoked: z.number().int() }),
  },
  {
    method: 'post',
    path: '/api/v1/me/api-tokens',
    summary: 'Create a personal API token (shown once; browser session only).',
    auth: 'cookie',
    json: createApiTokenSchema,
    response: createdApiTokenSchema,
    status: 201,
  },
  {
    method: 'get',
    path: '/api/v1/me/activity',
    summary: 'Your recent security activity, newest first.',
    auth: 'activity:read',
    query: activityQuerySchema,
    response: activityListSchema,
  },
  { method: 'post', path: '/api/v1/login/logout', summary: 'Sign this browser session out.', auth: 'cookie', status: 204 },
  {
    method: 'post',
    path: '/api/v1/users/{id}/sessions/revoke-all',
    summary: 'Sign a user out everywhere (admins; same rules as disable).',
    auth: 'sessions:revoke',
    response: z.object({ revoked: z.number().int() }),
  },
  { method: 'post', path: '/api/v1/setup', summary: 'First run: name the owner.', auth: 'bootstrap', json: setupBodySchema, status: 201 },
  {
    method: 'get',
    path: '/api/v1/admin/users',
    summary: 'Search users by email or name prefix, status and role.',
    auth: 'admin:users',
    query: adminUserQuerySchema,
    response: z.object({ users: z.array(adminUserViewSchema), next: z.string().nullable() }),
  },
  { method: 'get', path: '/api/v1/admin/users/{id}', summary: 'One user: identities, sessions, recent events.', auth: 'admin:users' },
  {
    method: 'delete',
    path: '/api/v1/admin/users/{id}',
    summary: 'Delete a user, crypto-shredding their IPs (owners).',
    auth: 'admin:users',
    status: 204,
  },
  statusChange('disable'),
  statusChange('enable'),
  statusChange('ban'),
  statusChange('unban'),
  {
    method: 'post',
    path: '/api/v1/admin/users/{id}/roles',
    summary: 'Grant or take away the admin role (owners).',
    auth: 'admin:users',
    json: roleChangeSchema,
    response: z.object({ id: z.string(), roles: z.array(z.string()) }),
  },
  {
    method: 'post',
    path: '/api/v1/admin/users/{id}/sessions/revoke-all',
    summary: 'Sign a user out everywhere (same rules as disable).',
    auth: 'admin:users',
    response: z.object({ revoked: z.number().int() }),
  },
  { method: 'get', path: '/.well-known/oauth-authorization-server', summary: 'Authorization server metadata (RFC 8414).' },
  { method: 'get', path: '/.well-known/jwks.json', summary: 'The public signing keys (RFC 7517).' },
  {
    method: 'post',
    path: '/oauth/device_authorization',
    summary: 'Start pairing (RFC 8628) with a DPoP proof.',
    auth: 'client',
    form: deviceAuthorizationRequestSchema,
  },
  {
    method: 'post',
    path: '/oauth/token',
    summary: 'device_code and refresh_token grants with a DPoP proof (RFC 8628, RFC 9449).',
    auth: 'client',
    form: tokenGrantRequestSchema,
  },
  { method: 'post', path: '/oauth/revoke', summary: 'Revoke a token (RFC 7009); 200 whatever the token.', form: tokenRequestSchema },
  {
    method: 'post',
    path: '/oauth/introspect',
    summary: 'Token introspection for resource servers (RFC 7662).',
    auth: 'resource-server',
    form: tokenRequestSchema,
  },
  {
    method: 'post',
    path: '/auth/{provider}/backchannel-logout',
    summary: 'OpenID Connect Back-Channel Logout from the identity provider.',
    auth: 'signed',
    form: z.object({ logout_token: z.string() }),
  },
  {
    method: 'post',
    path: '/auth/password',
    summary: 'Password sign-in (LOCAL_LOGIN); answers signed_in, totp_required or totp_enrolment_required.',
    json: passwordSignInSchema,
  },
  {
    method: 'post',
    path: '/auth/password/enrol',
    summary: 'The TOTP secret an owner or admin must enrol before a session.',
    json: pendingStepSchema,
    response: totpOfferSchema,
  },
  { method: 'post', path: '/auth/password/totp', summary: 'Second step: a TOTP or recovery code opens the session.', json: totpStepSchema },
  {
    method: 'post',
    path: '/auth/password/reset',
    summary: 'Set a new password with a single-use reset link.',
    json: passwordResetSchema,
    status: 204,
  },
  {
    method: 'get',
    path: '/api/v1/me/local-auth',
    summary: 'Whether the account has a password and two-factor authentication.',
    auth: 'cookie',
    response: localAuthStatusSchema,
  },
  {
    method: 'post',
    path: '/api/v1/me/password/set',
    summary: 'Set a first password (session under 10 minutes old).',
    auth: 'cookie',
    json: setPasswordSchema,
    status: 204,
  },
  {
    method: 'post',
    path: '/api/v1/me/password',
    summary: 'Change the password (current one required); every other credential dies.',
    auth: 'cookie',
    json: changePasswordSchema,
    status: 204,
  },
  {
    method: 'post',
    path: '/api/v1/me/totp/setup',
    summary: 'A new TOTP secret to enrol (text, otpauth URI, QR code as SVG).',
    auth: 'cookie',
    response: totpOfferSchema,
  },
  {
    method: 'post',
    path: '/api/v1/me/totp/enable',
    summary: 'Turn on TOTP (password and a code); returns 10 recovery codes, once.',
    auth: 'cookie',
    json: totpChangeSchema,
    response: recoveryCodesSchema,
  },
  {
    method: 'post',
    path: '/api/v1/me/totp/disable',
    summary: 'Turn off TOTP (password and a code).',
    auth: 'cookie',
    json: totpChangeSchema,
    status: 204,
  },
  {
    method: 'post',
    path: '/api/v1/admin/users/{id}/password-reset',
    summary: 'Remove the password, end every session, and make a single-use reset link (shown when not mailed).',
    auth: 'admin:users',
    response: resetLinkSchema,
    status: 201,
  },
  {
    method: 'post',
    path: '/ssf/events/{transmitter}',
    summary: 'Shared Signals push delivery (RFC 8935) of a Security Event Token.',
    auth: 'signed',
  },
];

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

/** The OpenAPI 3.1 document (JSON Schema 2020-12 dialect, as zod emits it). */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const parameters: unknown[] = [];
    for (const name of operation.path.match(/\{(\w+)\}/g) ?? []) {
      parameters.push(name === '{id}' ? id : { name: name.slice(1, -1), in: 'path', required: true, schema: { type: 'string' } });
    }
    if (operation.query) {
      const query = schema(operation.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(query.properties ?? {}))
        parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema: property });
    }
    const body = operation.json ?? operation.form;
    const auth = operation.auth;
    const scoped = auth && auth in SCOPES;
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, unknown>)[operation.method] = {
      summary: operation.summary,
      ...(auth && !scoped ? { description: AUTH_TEXT[auth] } : {}),
      ...(scoped ? { security: [{ bearer: [auth] }, { dpop: [auth] }, { session: [] }] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(body
        ? {
            requestBody: {
              required: true,
              content: { [operation.json ? 'application/json' : 'application/x-www-form-urlencoded']: { schema: schema(body) } },
            },
          }
        : {}),
      responses: {
        [String(operation.status ?? 200)]: {
          description: 'Success.',
          ...(operation.response ? { content: { 'application/json': { schema: schema(operation.response) } } } : {}),
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
  const document = JSON.stringify(openApiDocument(serverUrl));
  router.get('/api/openapi.json', (ctx) => {
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

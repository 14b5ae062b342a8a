/** Scopes a token can carry. A route names the scope it needs; tokens carry the least they need. */
export const SCOPES = {
  'profile:read': 'Read your name, email and account status.',
  'sessions:read': 'List your sessions and paired devices.',
  'sessions:revoke': 'Revoke your sessions and paired devices.',
  'activity:read': 'Read your recent security activity.',
  'admin:users': 'Manage users: search, disable, ban, sign out everywhere (admins only).',
} as const;

export type Scope = keyof typeof SCOPES;
export const SCOPE_NAMES = Object.keys(SCOPES) as Scope[];

/** Token types: each has its own JWT `typ` header and audience so none can stand in for another. */
export const TOKEN_TYPES = {
  session: { typ: 'gh-session+jwt', audience: 'gatehouse:session' },
  api: { typ: 'gh-api+jwt', audience: 'gatehouse:api' },
  access: { typ: 'at+jwt', audience: 'gatehouse:resource' },
  invitation: { typ: 'gh-invite+jwt', audience: 'gatehouse:invitation' },
  passwordReset: { typ: 'gh-reset+jwt', audience: 'gatehouse:password-reset' },
} as const;

export type TokenType = keyof typeof TOKEN_TYPES;

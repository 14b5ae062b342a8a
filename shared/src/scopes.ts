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

/** A public OAuth client Gatehouse ships: its id, the name people see on the pair page, the scopes it asks for. */
export interface KnownClient {
  id: string;
  name: string;
  scopes: readonly Scope[];
}

/** The browser extension. */
export const EXTENSION_CLIENT = {
  id: 'gatehouse-extension',
  name: 'Gatehouse browser extension',
  scopes: ['profile:read', 'sessions:read', 'sessions:revoke', 'activity:read'],
} as const satisfies KnownClient;

/** The first-party command-line client. */
export const CLI_CLIENT = {
  id: 'gatehouse-cli',
  name: 'Gatehouse command-line client',
  scopes: ['profile:read', 'sessions:read', 'sessions:revoke'],
} as const satisfies KnownClient;

export const KNOWN_CLIENTS: readonly KnownClient[] = [EXTENSION_CLIENT, CLI_CLIENT];

/** Token types: each has its own JWT `typ` header and audience so none can stand in for another. */
export const TOKEN_TYPES = {
  session: { typ: 'gh-session+jwt', audience: 'gatehouse:session' },
  api: { typ: 'gh-api+jwt', audience: 'gatehouse:api' },
  access: { typ: 'at+jwt', audience: 'gatehouse:resource' },
  invitation: { typ: 'gh-invite+jwt', audience: 'gatehouse:invitation' },
  passwordReset: { typ: 'gh-reset+jwt', audience: 'gatehouse:password-reset' },
  emailChange: { typ: 'gh-email+jwt', audience: 'gatehouse:email-change' },
  impersonation: { typ: 'gh-imp+jwt', audience: 'gatehouse:impersonation' },
} as const;

export type TokenType = keyof typeof TOKEN_TYPES;

import { KNOWN_CLIENTS, type Scope } from '@gatehouse/shared';
import type { OAuthClientConfig } from '../config/index.js';
import { AppError } from '../errors/index.js';

/** Names people see on the pair page for the clients we ship; others show their id. */
const KNOWN_NAMES = new Map(KNOWN_CLIENTS.map((client) => [client.id, client.name]));

export interface OAuthClient {
  id: string;
  name: string;
  scopes: readonly Scope[];
}

/** The registered public clients (OAUTH_CLIENTS). All of them are public and DPoP-bound. */
export class OAuthClients {
  private readonly byId: Map<string, OAuthClient>;

  constructor(configured: readonly OAuthClientConfig[]) {
    this.byId = new Map(configured.map((client) => [client.id, { ...client, name: KNOWN_NAMES.get(client.id) ?? client.id }]));
  }

  get(clientId: string): OAuthClient {
    const client = this.byId.get(clientId);
    if (!client) throw new AppError('CLIENT_UNKNOWN');
    return client;
  }

  /** The scopes to grant: the requested ones if all are allowed (default: all the client's). */
  grant(client: OAuthClient, requested: string | undefined): Scope[] {
    if (requested === undefined || requested.trim() === '') return [...client.scopes];
    const scopes = [...new Set(requested.split(' ').filter(Boolean))];
    if (!scopes.every((scope) => client.scopes.includes(scope as Scope))) throw new AppError('SCOPE_INVALID');
    return scopes as Scope[];
  }

  all(): OAuthClient[] {
    return [...this.byId.values()];
  }
}

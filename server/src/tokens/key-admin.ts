import type { AuditLog } from '../audit/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { announceKeysChanged } from './invalidation.js';
import { KeyStore } from './key-store.js';
import { createKey, importKey, type Keyring } from './keyring.js';
import { longestTokenLifetimeMs } from './lifetimes.js';

export interface KeyRow {
  kid: string;
  alg: string;
  state: 'active' | 'retired';
  createdAt: string;
  retiredAt: string | null;
  /** Retired long enough ago that no token signed with it can still be valid. */
  prunable: boolean;
}

/**
 * Managing the signing keyring, for the `gatehouse keys` command (actor `cli`) and the admin
 * console (the owner): every change is audited with its actor and announced, so every instance
 * reloads its ring at once (or at its next periodic refresh); this one reloads straight away
 * when it holds a ring.
 */
export class KeyAdmin {
  private readonly store: KeyStore;

  constructor(
    private readonly deps: Deps,
    private readonly audit: AuditLog,
    private readonly keyring: Keyring | null,
    /** How long a token can live, hence how long a retired key stays (default: from the config). */
    private readonly longestLifetimeMs = longestTokenLifetimeMs(deps.config),
  ) {
    this.store = new KeyStore(deps.db, deps.config.masterKey);
  }

  /** SECRET_KEY replaces the ring with one static key: nothing to list, rotate or prune. */
  get staticMode(): boolean {
    return !!this.deps.config.secretKey;
  }

  /** Retired keys retired before this may go: the longest any token can live. */
  pruneCutoff(): Date {
    return new Date(this.deps.clock.now().getTime() - this.longestLifetimeMs);
  }

  async list(): Promise<KeyRow[]> {
    if (this.staticMode) return [];
    const cutoff = this.pruneCutoff();
    return (await this.store.all()).map((key) => ({
      kid: key._id,
      alg: key.alg,
      state: key.state,
      createdAt: key.createdAt.toISOString(),
      retiredAt: key.retiredAt?.toISOString() ?? null,
      prunable: key.state === 'retired' && !!key.retiredAt && key.retiredAt < cutoff,
    }));
  }

  async rotate(actor: string, meta?: RequestMeta): Promise<string> {
    const kid = await createKey(this.store, this.deps.clock);
    await this.audit.record({ action: 'key.rotated', outcome: 'success', actor, target: `key:${kid}` }, meta);
    await this.reloadHere();
    await announceKeysChanged(this.deps);
    return kid;
  }

  /** Imports a PEM or JWK private key as the new active key. */
  async import(actor: string, text: string, meta?: RequestMeta): Promise<string> {
    const kid = await importKey(this.store, text, this.deps.clock);
    await this.audit.record({ action: 'key.imported', outcome: 'success', actor, target: `key:${kid}` }, meta);
    await this.reloadHere();
    await announceKeysChanged(this.deps);
    return kid;
  }

  async prune(actor: string, meta?: RequestMeta): Promise<string[]> {
    const kids = await this.store.pruneRetiredBefore(this.pruneCutoff());
    for (const kid of kids) await this.audit.record({ action: 'key.pruned', outcome: 'success', actor, target: `key:${kid}` }, meta);
    if (kids.length) {
      await this.reloadHere();
      await announceKeysChanged(this.deps);
    }
    return kids;
  }

  /** Best effort: the change is already stored; the periodic refresh catches up if this read fails. */
  private async reloadHere(): Promise<void> {
    await this.keyring?.reload().catch((error: unknown) => this.deps.log.warn({ err: error }, 'keyring.reload_failed'));
  }
}

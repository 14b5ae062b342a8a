import { sha256 } from '../crypto/index.js';

/**
 * A bounded cache of tokens whose signature and claims were already checked, keyed by the
 * token's hash and dropped when the token expires. It lets a repeated token skip the signature
 * check — never the revocation check, which runs on every request.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAtMs: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(token: string, nowMs: number): T | undefined {
    const key = sha256(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(token: string, value: T, expiresAtMs: number): void {
    if (this.entries.size >= this.maxEntries) {
      // Evict the oldest insertion (Map keeps insertion order): O(1), good enough as an LRU here.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(sha256(token), { value, expiresAtMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

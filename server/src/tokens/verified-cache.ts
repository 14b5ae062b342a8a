/**
 * A bounded cache of tokens whose signature and claims were already checked, dropped when the
 * token expires. It lets a repeated token skip the signature check — never the revocation check,
 * which runs on every request.
 *
 * Looked up by the token's signature (the part after the last dot, 86 characters for ES256), then
 * the whole token compared with the one verified: a hit is exactly the string verified before, so a
 * token with the same signature and another header or payload misses. This replaced a SHA-256 of
 * the whole token as the key, about 3 % of the bearer check's samples (docs/benchmarks.md, "What each
 * change bought"). The comparison is not constant-time, and need not be: it runs only for a
 * presented token whose signature is already that of a verified token, and what it could tell is
 * that token's header and payload, which are no secret to whoever holds its signature. The tokens
 * are held as long as they are valid, in the process that also holds the keys that signed them;
 * never logged or written anywhere.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, { token: string; value: T; expiresAtMs: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(token: string, nowMs: number): T | undefined {
    const key = signatureOf(token);
    const entry = this.entries.get(key);
    if (entry?.token !== token) return undefined;
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
    this.entries.set(signatureOf(token), { token, value, expiresAtMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

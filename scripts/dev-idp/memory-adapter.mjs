// A per-provider in-memory adapter (oidc-provider's adapter interface, see its
// example/my_adapter.js). Its own built-in one shares one store across every provider in the
// process and warns on each start; the dev IdP is deliberately memory-only, so this is enough.

/** Returns an adapter factory whose models share one private Map. */
export function createMemoryAdapter() {
  const store = new Map(); // `${model}:${id}` → { payload, expiresAt }

  const live = (key) => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  return (model) => ({
    async upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
      store.set(`${model}:${id}`, { payload, expiresAt });
    },
    async find(id) {
      return live(`${model}:${id}`);
    },
    async findByUid(uid) {
      for (const key of store.keys()) {
        if (key.startsWith(`${model}:`) && live(key)?.uid === uid) return live(key);
      }
      return undefined;
    },
    async findByUserCode(userCode) {
      for (const key of store.keys()) {
        if (key.startsWith(`${model}:`) && live(key)?.userCode === userCode) return live(key);
      }
      return undefined;
    },
    async consume(id) {
      const payload = live(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id) {
      store.delete(`${model}:${id}`);
    },
    async revokeByGrantId(grantId) {
      // Every token of the grant, whatever its model (dev scale: a scan is fine).
      for (const [key, { payload }] of store) if (payload.grantId === grantId) store.delete(key);
    },
  });
}

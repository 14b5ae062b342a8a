/**
 * The DPoP key pair (P-256, ES256). The private key is created non-extractable, so neither the
 * extension nor anyone who reads its storage can copy it out; only this browser profile can
 * sign with it. CryptoKey objects are structured-cloneable, so IndexedDB keeps them as they are
 * (storage.local cannot: it only holds JSON).
 */

const DB_NAME = 'gatehouse';
const STORE = 'keys';
const KEY_ID = 'dpop';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = run(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const pair = value as Partial<CryptoKeyPair>;
  return pair.privateKey instanceof CryptoKey && pair.publicKey instanceof CryptoKey;
}

/** The pair as loaded in this context: IndexedDB hands out a new clone on every read. */
let loaded: CryptoKeyPair | null = null;

export async function loadKeyPair(): Promise<CryptoKeyPair | null> {
  if (loaded) return loaded;
  const stored = await withStore('readonly', (store) => store.get(KEY_ID));
  loaded = isKeyPair(stored) ? stored : null;
  return loaded;
}

let creating: Promise<CryptoKeyPair> | null = null;

/** The stored key pair, or a new one (created once even when asked twice at the same time). */
export async function loadOrCreateKeyPair(): Promise<CryptoKeyPair> {
  const existing = await loadKeyPair();
  if (existing) return existing;
  creating ??= (async () => {
    try {
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      await withStore('readwrite', (store) => store.put(pair, KEY_ID));
      loaded = pair;
      return pair;
    } finally {
      creating = null;
    }
  })();
  return creating;
}

export async function deleteKeyPair(): Promise<void> {
  loaded = null;
  await withStore('readwrite', (store) => store.delete(KEY_ID));
}

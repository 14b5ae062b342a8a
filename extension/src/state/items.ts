import { authorizationServerMetadataSchema, type Notice, noticeSchema } from '@gatehouse/shared';
import { storage } from 'wxt/utils/storage';
import { z } from 'zod';

/**
 * Everything the extension persists, typed and versioned. Where each value lives is a security
 * decision:
 * - `local:` survives restarts: the backend and the refresh token (the paired credential; it is
 *   useless without the non-extractable DPoP key kept in IndexedDB).
 * - `session:` is memory that survives a service-worker restart but not a browser restart:
 *   the short-lived access token and the pairing in progress.
 * Values are parsed on read (they cross a trust boundary: another version may have written them).
 */

/** The subset of RFC 8414 metadata the extension relies on (the server answers the whole schema). */
export const backendMetadataSchema = authorizationServerMetadataSchema.pick({
  issuer: true,
  device_authorization_endpoint: true,
  token_endpoint: true,
  revocation_endpoint: true,
  grant_types_supported: true,
  dpop_signing_alg_values_supported: true,
});
export type BackendMetadata = z.infer<typeof backendMetadataSchema>;

export const backendSchema = z.object({ origin: z.string(), metadata: backendMetadataSchema });

export const refreshTokenSchema = z.object({ token: z.string().min(1), origin: z.string() });

export const accessTokenSchema = z.object({ token: z.string().min(1), origin: z.string(), expiresAt: z.number() });

export const pairingSchema = z.object({
  origin: z.string(),
  deviceCode: z.string(),
  userCode: z.string(),
  verificationUri: z.string(),
  verificationUriComplete: z.string(),
  phrase: z.string(),
  /** Epoch milliseconds. */
  expiresAt: z.number(),
  /** Seconds between polls (RFC 8628 §3.5: grows by 5 on slow_down). */
  interval: z.number().int().min(1),
});
export type PairingState = z.infer<typeof pairingSchema>;

const backendItem = storage.defineItem<unknown>('local:backend', { version: 1 });
const refreshTokenItem = storage.defineItem<unknown>('local:refreshToken', { version: 1 });
const accessTokenItem = storage.defineItem<unknown>('session:accessToken', { version: 1 });
const pairingItem = storage.defineItem<unknown>('session:pairing', { version: 1 });
const noticeItem = storage.defineItem<unknown>('local:notice', { version: 1 });
const reachItem = storage.defineItem<unknown>('session:unreachableSince', { version: 1 });

/** A typed view of one stored value: unreadable values read as absent. */
function typedItem<T>(item: typeof backendItem, schema: z.ZodType<T>) {
  return {
    key: item.key,
    async get(): Promise<T | null> {
      const parsed = schema.safeParse(await item.getValue());
      return parsed.success ? parsed.data : null;
    },
    async set(value: T | null): Promise<void> {
      if (value === null) await item.removeValue();
      else await item.setValue(schema.parse(value));
    },
    watch(callback: () => void): () => void {
      return item.watch(() => callback());
    },
  };
}

export const backendStore = typedItem(backendItem, backendSchema);
export const refreshTokenStore = typedItem(refreshTokenItem, refreshTokenSchema);
export const accessTokenStore = typedItem(accessTokenItem, accessTokenSchema);
export const pairingStore = typedItem(pairingItem, pairingSchema);
export const noticeStore = typedItem<Notice>(noticeItem, noticeSchema);
/** When the backend last failed to answer at all (network, DNS, TLS), until it answers again. */
export const unreachableStore = typedItem<number>(reachItem, z.number());

/** Forgets every credential of the current pairing (the backend and the key stay). */
export async function clearCredentials(): Promise<void> {
  // The refresh token first: it is the one that outlives the browser session.
  await refreshTokenStore.set(null);
  await accessTokenStore.set(null);
  await pairingStore.set(null);
}

import { validateBackendUrl } from '../backend/url.js';
import { deleteKeyPair } from '../crypto/key-store.js';
import { ExtensionError, toExtensionError } from '../errors.js';
import { authorizationServer, discoverBackend, forgetDpopHandle, revokeRefreshToken } from '../oauth/client.js';
import { afterPendingRefresh } from '../oauth/tokens.js';
import {
  type BackendMetadata,
  backendMetadataSchema,
  backendStore,
  clearCredentials,
  noticeStore,
  refreshTokenStore,
} from '../state/items.js';

/** Checks the backend's metadata and stores it. A different backend than before means a fresh start. */
export async function setBackend(input: string): Promise<{ backend: string }> {
  const checked = validateBackendUrl(input);
  if (!checked.ok) throw new ExtensionError('BACKEND_INVALID', checked.reason);
  let metadata: BackendMetadata;
  try {
    metadata = backendMetadataSchema.parse(await discoverBackend(checked.origin));
  } catch (error) {
    const failure = toExtensionError(error);
    throw failure.code === 'UNEXPECTED' ? new ExtensionError('BACKEND_INVALID', undefined, { cause: error }) : failure;
  }
  const previous = await backendStore.get();
  if (previous && previous.origin !== checked.origin) await disconnect();
  await backendStore.set({ origin: checked.origin, metadata });
  return { backend: checked.origin };
}

/**
 * Disconnect: revoke the refresh token (RFC 7009, best effort: the person may be offline, and
 * the local wipe must happen anyway), then forget the backend, the tokens and the key.
 */
export async function disconnect(): Promise<Record<string, never>> {
  await afterPendingRefresh(async () => {
    const backend = await backendStore.get();
    const refresh = await refreshTokenStore.get();
    await clearCredentials();
    await backendStore.set(null);
    await noticeStore.set(null);
    await deleteKeyPair();
    forgetDpopHandle();
    if (backend && refresh?.origin === backend.origin) {
      await revokeRefreshToken(authorizationServer(backend.metadata), backend.origin, refresh.token);
    }
  });
  return {};
}

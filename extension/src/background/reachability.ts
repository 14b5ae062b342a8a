import { toExtensionError } from '../errors.js';
import { unreachableStore } from '../state/items.js';

/** Records whether the backend answered: failing to reach it at all sets the toolbar badge (badge.ts). */
export async function noteReachability(error: unknown | null): Promise<void> {
  if (error === null) await unreachableStore.set(null);
  else if (toExtensionError(error).code === 'BACKEND_UNREACHABLE' && (await unreachableStore.get()) === null)
    await unreachableStore.set(Date.now());
}

/** Runs a call to the backend and records whether it could be reached; the outcome is unchanged. */
export async function reaching<T>(call: () => Promise<T>): Promise<T> {
  try {
    const result = await call();
    await noteReachability(null);
    return result;
  } catch (error) {
    await noteReachability(error);
    throw error;
  }
}

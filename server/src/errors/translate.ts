import { MongoBulkWriteError, MongoError, MongoServerSelectionError, type WriteError } from 'mongodb';
import { AppError } from './app-error.js';

/**
 * Translates a storage error (MongoDB driver, ioredis) into an AppError once, at the edge of
 * the store, keeping the original as `cause` for the server log. Unavailability becomes 503
 * DEPENDENCY_UNAVAILABLE; anything else is an internal error, never the driver's message.
 */
export function storeError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isUnavailable(error)) return new AppError('DEPENDENCY_UNAVAILABLE', { cause: error });
  return new AppError('INTERNAL_ERROR', { cause: error });
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof MongoServerSelectionError) return true;
  // An insertMany whose connection went wraps the driver's own error (MongoNetworkError,
  // MongoTopologyClosedError) in a MongoBulkWriteError: judge the wrapped one.
  if (error instanceof MongoBulkWriteError && error.errorResponse instanceof MongoError) return isUnavailable(error.errorResponse);
  if (error instanceof MongoError) {
    return /MongoNetwork|MongoServerSelection|MongoTopologyClosed|MongoNotConnected|PoolClosed|PoolCleared/.test(error.name);
  }
  if (error instanceof Error) {
    // ioredis: commandTimeout, offline queue disabled, connection closed or refused.
    return /Command timed out|Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|MaxRetriesPerRequest/i.test(
      error.message,
    );
  }
  return false;
}

/**
 * Unique-index violations, of one command or of one document of an insertMany: MongoDB says
 * 11000; FerretDB v1 says code 1 with its own text.
 */
export function isDuplicateKey(error: MongoError | WriteError | unknown): boolean {
  if (error instanceof MongoError) return duplicateKeyCode(error.code, error.message);
  // A WriteError (one document of an insertMany): the driver exports its class as a type only.
  if (typeof error === 'object' && error !== null && 'errmsg' in error && 'index' in error)
    return duplicateKeyCode((error as WriteError).code, (error as WriteError).errmsg ?? '');
  return false;
}

function duplicateKeyCode(code: number | string | undefined, message: string): boolean {
  return code === 11000 || code === 11001 || /duplicate key/i.test(message);
}

/** Runs a store operation and translates any failure. */
export async function guardStore<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw storeError(error);
  }
}

/**
 * Runs an insert guarded by a unique index: false when the key exists. On both servers this is
 * the one exactly-once primitive (FerretDB v1's guarded updates are not atomic under load).
 */
export async function insertUnique(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await guardStore(insert);
    return true;
  } catch (error) {
    if (isDuplicateKey((error as Error).cause)) return false;
    throw error;
  }
}

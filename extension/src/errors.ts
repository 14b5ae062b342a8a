import { ERROR_CODES, isErrorCode } from '@gatehouse/shared';

/**
 * The extension's failures. Each has a stable code (the pages branch on it) and a sentence a
 * person understands, saying what to do next. Server problem codes (shared/) keep their own.
 */
export const EXTENSION_ERRORS = {
  NOT_CONFIGURED: 'No Gatehouse backend is set. Open the extension options and enter your Gatehouse address.',
  NOT_PAIRED: 'This browser is not paired with Gatehouse. Select "Pair this browser" to pair it.',
  PAIRING_ENDED:
    'The pairing with Gatehouse was ended (it was revoked, or the account was disabled). Select "Pair this browser" to pair again.',
  PAIRING_DECLINED: 'The pairing was declined on the Gatehouse page. Select "Pair this browser" to try again.',
  PAIRING_EXPIRED: 'The code expired before it was approved. Select "Pair this browser" to get a new code.',
  PAIRING_NOT_STARTED: 'Gatehouse did not start the pairing. Try again in a moment; if it keeps failing, ask your administrator.',
  BACKEND_UNREACHABLE: 'Gatehouse cannot be reached. Check your connection and that the backend address is right, then try again.',
  BACKEND_INVALID:
    'This address does not look like a Gatehouse backend (its metadata is missing or does not match). Check the address and try again.',
  BACKEND_PERMISSION_MISSING:
    'The extension is not allowed to contact this backend. Save the address again in the options and allow access when asked.',
  UNEXPECTED: 'Something unexpected went wrong. Try again; if it keeps happening, reload the extension.',
} as const;

export type ExtensionErrorCode = keyof typeof EXTENSION_ERRORS;

/** One error type for the extension: `code` to branch on, `message` safe to show. */
export class ExtensionError extends Error {
  readonly code: string;
  constructor(code: ExtensionErrorCode | string, message?: string, options?: { cause?: unknown }) {
    super(message ?? messageFor(code), options);
    this.name = 'ExtensionError';
    this.code = code;
  }
}

/** The sentence for an extension code or a server problem code. */
export function messageFor(code: string): string {
  if (Object.hasOwn(EXTENSION_ERRORS, code)) return EXTENSION_ERRORS[code as ExtensionErrorCode];
  if (isErrorCode(code)) return `Gatehouse refused the request: ${ERROR_CODES[code].message}`;
  return EXTENSION_ERRORS.UNEXPECTED;
}

/** Translates anything thrown into an ExtensionError once, at the edge (network failures included). */
export function toExtensionError(error: unknown): ExtensionError {
  if (error instanceof ExtensionError) return error;
  // fetch rejects with a TypeError when the network, DNS, TLS or CORS fails.
  if (error instanceof TypeError && /fetch|network|NetworkError/i.test(error.message)) {
    return new ExtensionError('BACKEND_UNREACHABLE', undefined, { cause: error });
  }
  if (error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new ExtensionError('BACKEND_UNREACHABLE', undefined, { cause: error });
  }
  return new ExtensionError('UNEXPECTED', undefined, { cause: error });
}

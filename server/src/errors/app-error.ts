import { ERROR_CODES, type ErrorCode } from '@gatehouse/shared';

export interface ValidationIssue {
  path: string;
  message: string;
}

/**
 * The one error type of the server. `code` is a stable code from shared/; the HTTP status
 * and the safe message come from the shared table. `expose` follows Koa's convention: only
 * client errors are shown as they are; anything else becomes a generic 500 with the request id.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly issues: ValidationIssue[] | undefined;
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    options: { cause?: unknown; issues?: ValidationIssue[]; headers?: Record<string, string>; detail?: string } = {},
  ) {
    super(options.detail ?? ERROR_CODES[code].message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.expose = this.status < 500;
    this.issues = options.issues;
    this.headers = options.headers;
  }
}

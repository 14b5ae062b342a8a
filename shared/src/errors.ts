/**
 * The stable error codes of Gatehouse. The server answers every failure with one of these
 * (problem details, RFC 9457, field `code`); the extension branches on the same codes.
 * `message` is safe to show to anyone: it never carries request data or internals.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  PARAMETER_DUPLICATED: { status: 400, message: 'A parameter was given more than once.' },
  METHOD_OVERRIDE_REFUSED: { status: 400, message: 'Method override headers are not accepted.' },
  UNAUTHENTICATED: { status: 401, message: 'Sign in to continue.' },
  TOKEN_INVALID: { status: 401, message: 'The credential is not valid.' },
  TOKEN_EXPIRED: { status: 401, message: 'The credential has expired.' },
  TOKEN_REVOKED: { status: 401, message: 'The credential has been revoked.' },
  TOKEN_ACCOUNT_DISABLED: { status: 401, message: 'The account behind this credential is disabled or banned.' },
  SETUP_PASSWORD_INVALID: { status: 401, message: 'The bootstrap password is missing or wrong.' },
  INVALID_CLIENT: { status: 401, message: 'Client authentication failed.' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do this.' },
  INSUFFICIENT_SCOPE: { status: 403, message: 'The credential does not allow this.' },
  ORIGIN_REJECTED: { status: 403, message: 'The request did not come from a trusted origin.' },
  CSRF_TOKEN_INVALID: { status: 403, message: 'The form has expired. Reload the page and try again.' },
  SETUP_DISABLED: {
    status: 403,
    message: 'First-run setup is disabled because FIRST_RUN_PASSWORD is not set.',
  },
  ACCOUNT_DISABLED: { status: 403, message: 'This account has been disabled.' },
  ACCOUNT_BANNED: { status: 403, message: 'This account has been banned.' },
  SIGNUP_CLOSED: { status: 403, message: 'New accounts cannot be created here.' },
  DOMAIN_NOT_ALLOWED: { status: 403, message: 'Accounts from this email domain are not allowed.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  PROVIDER_UNKNOWN: { status: 404, message: 'This sign-in provider is not configured.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session.' },
  USER_STATUS_CONFLICT: { status: 409, message: 'The account is not in a state that allows this change.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here.' },
  NOT_ACCEPTABLE: { status: 406, message: 'No acceptable representation.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'This content type is not accepted.' },
  LOGIN_STATE_INVALID: {
    status: 400,
    message: 'The sign-in attempt expired or was not started in this browser. Please start again.',
  },
  LOGIN_FAILED: { status: 400, message: 'The sign-in provider did not complete the sign-in.' },
  LOGIN_REJECTED: {
    status: 400,
    message: 'The sign-in provider sent a response that could not be verified.',
  },
  EMAIL_NOT_VERIFIED: {
    status: 403,
    message: 'Your provider did not confirm your email address, so no account could be matched.',
  },
  PAIRING_CODE_INVALID: {
    status: 400,
    message: 'That code is not valid or has expired. Check the code your extension shows, or start pairing again.',
  },
  CLIENT_UNKNOWN: { status: 401, message: 'This client is not registered.' },
  SCOPE_INVALID: { status: 400, message: 'The requested scope is not allowed for this client.' },
  GRANT_TYPE_UNSUPPORTED: { status: 400, message: 'This grant type is not supported.' },
  GRANT_INVALID: { status: 400, message: 'The code or credential is not valid, has been used, or has been revoked.' },
  AUTHORIZATION_PENDING: { status: 400, message: 'The person has not approved the pairing yet.' },
  SLOW_DOWN: { status: 400, message: 'Polling too fast; wait longer between requests.' },
  ACCESS_DENIED: { status: 400, message: 'The pairing was declined.' },
  CODE_EXPIRED: { status: 400, message: 'The pairing code has expired; start pairing again.' },
  DPOP_PROOF_INVALID: { status: 400, message: 'The DPoP proof is missing or not valid.' },
  DPOP_NONCE_REQUIRED: { status: 400, message: 'Use the server-provided DPoP nonce.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive.' },
  CREDENTIALS_INVALID: { status: 401, message: 'The email or password is wrong.' },
  TOTP_INVALID: { status: 401, message: 'The two-factor code is wrong or has already been used.' },
  TOTP_REQUIRED: { status: 403, message: 'Turn on two-factor authentication to continue.' },
  PASSWORD_REJECTED: { status: 400, message: 'This password is not allowed: check its length and choose one that is not common.' },
  LOCAL_LOGIN_DISABLED: { status: 403, message: 'Password sign-in is not enabled for this account.' },
  REAUTHENTICATION_REQUIRED: { status: 403, message: 'Sign in again to do this (your session is too old).' },
  RESET_LINK_INVALID: { status: 400, message: 'This reset link is not valid, has expired or has been used.' },
  INVITATION_INVALID: { status: 400, message: 'This invitation is not valid, has expired, was withdrawn or has been used.' },
  INVITATION_EXISTS: { status: 409, message: 'This address already has an account or an open invitation.' },
  EMAIL_LINK_INVALID: { status: 400, message: 'This confirmation link is not valid, has expired or has been used.' },
  EMAIL_TAKEN: { status: 409, message: 'Another account already uses this email address.' },
  IMPERSONATION_READ_ONLY: {
    status: 403,
    message: "This is a read-only support view of another person's account: nothing can be changed. Stop the support view first.",
  },
  MAIL_NOT_SENT: { status: 503, message: 'The confirmation mail could not be sent. Nothing was changed; try again later.' },
  EMAIL_READ_ONLY: { status: 403, message: 'Your email address comes from your sign-in provider; change it there.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests. Try again later.' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side.' },
  PROVIDER_UNAVAILABLE: {
    status: 503,
    message: 'The sign-in provider cannot be reached right now. Try again in a moment.',
  },
  DEPENDENCY_UNAVAILABLE: {
    status: 503,
    message: 'The service is temporarily unavailable. Try again in a moment.',
  },
  OVERLOADED: { status: 503, message: 'The server is busy. Try again in a moment.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

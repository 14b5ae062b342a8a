/** The single error type and the adapters that translate foreign errors into it. */
export { AppError, type ValidationIssue } from './app-error.js';
export { joseFailure } from './jose.js';
export { guardStore, insertUnique, isDuplicateKey, storeError } from './translate.js';

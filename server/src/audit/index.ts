/** The audit log: every security-relevant action, with encrypted IPs and no secrets, sealed into a hash chain. */
export { deriveChainKey } from './chain.js';
export { type ExportFormat, exportEntries } from './export.js';
export { pruneSealed } from './retention.js';
export { AuditSealer } from './sealer.js';
export type { AuditView } from './search.js';
export { type AuditDetails, AuditLog } from './service.js';
export { verifyChain } from './verify.js';

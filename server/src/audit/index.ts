/** The audit log: every security-relevant action, with encrypted IPs and no secrets, sealed into a hash chain. */
export { deriveChainKey, GENESIS_HASH } from './chain.js';
export { type ExportFormat, exportEntries } from './export.js';
export { type PruneResult, pruneSealed } from './retention.js';
export { AuditSealer } from './sealer.js';
export { type AuditDetails, type AuditEntry, type AuditEvent, AuditLog } from './service.js';
export { type Finding, type VerifyResult, verifyChain } from './verify.js';

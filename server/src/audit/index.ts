/** The audit log: every security-relevant action, with encrypted IPs and no secrets. */
export { type AuditDetails, type AuditEntry, type AuditEvent, AuditLog } from './service.js';

/** Session records of every kind (browser, API token, paired extension) and their lifecycle. */
export { describeDevice } from './device.js';
export { SessionService, type SessionTokenResult } from './service.js';
export type { SessionRecord } from './store.js';

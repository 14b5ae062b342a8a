import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { Config } from './config/index.js';
import type { IpCipher } from './crypto/index.js';
import type { Logger } from './log/index.js';
import type { Metrics } from './metrics/index.js';

/** A source of the current time, injectable so that tests control the clock. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** What every feature is built from: wired once in main.ts (or by a test), passed down. */
export interface Deps {
  config: Config;
  log: Logger;
  db: Db;
  redis: Redis;
  clock: Clock;
  ipCipher: IpCipher;
  /** The instance's Prometheus series; the app makes one when the caller did not (tests, CLI). */
  metrics?: Metrics;
}

/** Who made a request, as the audit log and the session records need it. */
export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string;
}

// Types for index.mjs (the local stack), for the TypeScript tests that import it.
import type { ChildProcess } from 'node:child_process';
import type { DevIdp, DevIdpOptions } from '../dev-idp/index.mjs';
import type { MailCatcher } from '../mail-catcher/index.mjs';

export interface StackOptions {
  /** Folder for data and logs (created if missing). */
  dataDir: string;
  /** Missing ports are picked free at random. */
  ports?: { redis?: number; postgres?: number; ferretdb?: number; idp?: number; smtp?: number; mailWeb?: number };
  /** Start the dev IdP with these options (its port comes from `ports.idp`). */
  idp?: Omit<DevIdpOptions, 'port'>;
  /** Start the development mail catcher (its ports come from `ports.smtp` and `ports.mailWeb`). */
  mail?: boolean;
  /** true: data survives restarts; false: throw-away (faster, fallback folders removed on stop). */
  persistent?: boolean;
  /** Receives progress lines. */
  log?: (line: string) => void;
}

export interface Stack {
  redisUrl: string;
  /** No database path: append `/<db>`. */
  mongoUrl: string;
  idpIssuer: string | undefined;
  idp: DevIdp | undefined;
  mail: MailCatcher | undefined;
  dataDir: string;
  /** The PostgreSQL cluster folder (may be a /var/tmp fallback), when this stack started one. */
  postgresData: string | undefined;
  /** Also stop `child` if this process dies without calling stop(). */
  track(child: ChildProcess, signal?: NodeJS.Signals): void;
  /** Stops everything this stack started; idempotent. */
  stop(): Promise<void>;
}

export function startStack(options: StackOptions): Promise<Stack>;
/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number>;
/** The cached FerretDB binary, built first when absent. */
export function buildFerretdb(options: { logsDir: string; log: (line: string) => void }): Promise<string>;
/** Where the FerretDB binary for the current sources is cached. */
export function ferretdbBinaryPath(): string;

/** apt-get installs Debian packages (update once per process; sudo -n when not root). */
export function aptInstall(packages: string[], options: { logsDir: string; log: (line: string) => void }): Promise<void>;
/** The absolute path of a command on PATH, or null. */
export function which(command: string): string | null;
/** The highest installed PostgreSQL bin directory, or null. */
export function findPostgresBin(): string | null;

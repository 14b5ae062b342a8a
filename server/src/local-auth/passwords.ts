import { readFileSync } from 'node:fs';
import { hash, type Options, verify } from '@node-rs/argon2';

/**
 * Argon2id with OWASP's Password Storage Cheat Sheet minimum (m = 19 MiB, t = 2, p = 1).
 * The PHC string records the parameters, so a hash made with other ones is recognised on
 * sign-in and rehashed (see needsRehash).
 */
export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
// Algorithm is a const enum, which isolatedModules cannot import: 2 is Argon2id.
const OPTIONS: Options = { ...ARGON2_PARAMS, algorithm: 2 as Options['algorithm'] };

export function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), OPTIONS);
}

/** False for a wrong password and for a stored value that is not a hash we can read. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFC'));
  } catch {
    return false;
  }
}

export function needsRehash(stored: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!match) return true;
  return (
    Number(match[1]) !== ARGON2_PARAMS.memoryCost ||
    Number(match[2]) !== ARGON2_PARAMS.timeCost ||
    Number(match[3]) !== ARGON2_PARAMS.parallelism
  );
}

/**
 * A hash of a random password, verified against when the email is unknown so that the answer
 * takes as long as for a wrong password (no user enumeration by timing, docs/security-tests.md A1).
 */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  return dummy;
}

let common: Set<string> | undefined;
/** The shipped list of common passwords (see common-passwords.LICENSE.md), compared case-insensitively. */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => line.trim().toLowerCase())
      .filter(Boolean),
  );
  return common;
}

export type PasswordProblem = 'empty' | 'too_short' | 'too_long' | 'common';

/** Why a new password is refused, or null when it is acceptable. Length counts code points. */
export function checkPassword(password: string, limits: { min: number; max: number }): PasswordProblem | null {
  const length = [...password.normalize('NFC')].length;
  if (length === 0) return 'empty';
  if (length < limits.min) return 'too_short';
  if (length > limits.max) return 'too_long';
  if (commonPasswords().has(password.trim().toLowerCase())) return 'common';
  return null;
}

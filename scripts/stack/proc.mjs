// Child processes, ports and waits shared by the stack's services.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Last `lines` lines of a log file, for error messages. */
export function tailOf(file, lines = 25) {
  if (!file || !existsSync(file)) return '(no log)';
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n') || '(empty log)';
}

/** Opens `<logsDir>/<name>.log` for appending, with a header line; returns its path and fd. */
export function openLog(logsDir, name) {
  mkdirSync(logsDir, { recursive: true });
  const path = join(logsDir, `${name}.log`);
  const fd = openSync(path, 'a');
  writeSync(fd, `\n--- ${new Date().toISOString()} ${name}\n`);
  return { path, fd };
}

/**
 * Spawns a long-running server with stdout+stderr going to its log file.
 * Detached (own process group) so a terminal Ctrl-C reaches only our node process,
 * which then stops things in order; the watchdog covers our own sudden death.
 */
export function spawnLogged(name, cmd, args, { logsDir, env, cwd } = {}) {
  const log = openLog(logsDir, name);
  const child = spawn(cmd, args, { stdio: ['ignore', log.fd, log.fd], detached: true, env, cwd });
  closeSync(log.fd); // the child holds its own copy
  child.logFile = log.path;
  child.name = name;
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (err) => {
    child.spawnError = err;
    child.emit('exit', null, null);
  });
  return child;
}

/** Runs a command to completion with output to a log file; rejects with the log tail on failure. */
export async function runLogged(name, cmd, args, { logsDir, env, cwd, timeoutMs = 120_000 } = {}) {
  const log = openLog(logsDir, name);
  const child = spawn(cmd, args, { stdio: ['ignore', log.fd, log.fd], env, cwd });
  closeSync(log.fd);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await Promise.race([
    once(child, 'exit'),
    once(child, 'error').then(([e]) => {
      throw e;
    }),
  ]).finally(() => clearTimeout(timer));
  if (code !== 0) {
    const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
    throw new Error(`${name} (${cmd} ${args.join(' ')}) ${why}; ${log.path}:\n${tailOf(log.path)}`);
  }
}

const hasEnded = (child) => child.exitCode !== null || child.signalCode !== null || !!child.spawnError;

/**
 * Polls `probe` until it returns true. Fails early when `child` exits, and after `timeoutMs`,
 * with an error carrying the tail of the child's log.
 */
export async function waitFor(what, probe, { child, timeoutMs = 30_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (child && hasEnded(child)) {
      const why = child.spawnError ? child.spawnError.message : `exited with ${child.exitCode ?? child.signalCode}`;
      throw new Error(`${what}: ${child.name} ${why}; ${child.logFile}:\n${tailOf(child.logFile)}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const last = lastError ? ` (last error: ${lastError.message})` : '';
  const tail = child ? `; ${child.logFile}:\n${tailOf(child.logFile)}` : '';
  throw new Error(`${what}: timed out after ${timeoutMs} ms${last}${tail}`);
}

/** Sends `signal`, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child, signal = 'SIGTERM', graceMs = 5_000) {
  if (!child || hasEnded(child)) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Throws when something already listens on 127.0.0.1:port, so we never probe a stranger. */
export async function assertPortFree(port, what) {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([e]) => {
        throw e;
      }),
    ]);
  } catch (err) {
    if (err.code !== 'EADDRINUSE') throw err;
    throw new Error(`${what}: port ${port} on 127.0.0.1 is already in use (another stack running? choose another port)`);
  }
  server.close();
  await once(server, 'close');
}

/** True when a TCP connection to 127.0.0.1:port succeeds. */
export function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

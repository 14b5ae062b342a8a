// The stack's dead-man switch. The parent spawns this detached, with stdin a pipe, and writes
// JSON lines: {"kill":pid,"signal":"SIGTERM"} | {"forget":pid} | {"rm":path}. Stdin reaching
// EOF means the parent died without calling stop() (crash, SIGKILL, unhandled signal): then
// signal every registered process, SIGKILL the stragglers after a grace period, and remove
// the registered throw-away folders. A normal stop() kills this process instead.
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(sig, () => {}); // only EOF counts

const kills = new Map();
const removals = [];
let buffered = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? ''; // an incomplete last line waits for the next chunk
  for (const line of lines) {
    const msg = JSON.parse(line);
    if (msg.kill) kills.set(msg.kill, msg.signal ?? 'SIGTERM');
    if (msg.forget) kills.delete(msg.forget);
    if (msg.rm) removals.push(msg.rm);
  }
});

// process.kill throws when the process is gone; signal 0 only asks whether it exists.
const send = (pid, signal) => {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
};

process.stdin.on('end', async () => {
  for (const [pid, signal] of kills) send(pid, signal);
  const alive = () => [...kills.keys()].filter((pid) => send(pid, 0));
  for (let i = 0; i < 50 && alive().length; i++) await sleep(100);
  for (const pid of alive()) send(pid, 'SIGKILL');
  await sleep(200);
  for (const path of removals) rmSync(path, { recursive: true, force: true });
  process.exit(0);
});

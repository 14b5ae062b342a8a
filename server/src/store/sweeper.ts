import type { Logger } from '../log/index.js';

/** Runs `sweep` every `intervalMs` (see sweeper.ts for what it removes); returns a stop function. */
export function startSweeper(sweep: () => Promise<Record<string, number>>, log: Logger, intervalMs: number): () => void {
  const timer = setInterval(() => {
    sweep().then(
      (removed) => {
        if (Object.values(removed).some((count) => count > 0)) log.info(removed, 'store.swept');
      },
      (error: unknown) => log.warn({ err: { message: (error as Error).message } }, 'store.sweep_failed'),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

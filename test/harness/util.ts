// Small helpers the harness modules share.
import { readFileSync } from 'node:fs';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last lines of a log file, for error messages ("(no log)" when it cannot be read). */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const cleanups = new Set<() => void>();
let exitHooksInstalled = false;

/**
 * Registers a synchronous cleanup (kill processes, delete files) run when this process exits, also on
 * SIGINT/SIGTERM. Returns the function that unregisters it, for a normal stop.
 */
export function onProcessExit(cleanup: () => void): () => void {
  if (!exitHooksInstalled) {
    exitHooksInstalled = true;
    process.on('exit', () => {
      for (const c of cleanups) c();
    });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => process.exit(sig === 'SIGINT' ? 130 : 143));
    }
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

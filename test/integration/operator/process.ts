// The bundled operator (operator/dist/operator.js, the one file the image runs) as a child process configured only
// through env/flags: build once, spawn, wait for /readyz, collect logs, stop what was started.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../harness/control-plane.js';
import { OPERATOR_NODE_ENV, OPERATOR_NODE_FLAGS } from '../../../operator/src/node-flags.js';

const repo = join(import.meta.dirname, '..', '..', '..');
export const OPERATOR_BUNDLE = join(repo, 'operator', 'dist', 'operator.js');

let built = false;
/** `node operator/build.mjs` once per mocha process. */
export function buildOperatorBundle(): void {
  if (built) return;
  execFileSync(process.execPath, [join(repo, 'operator', 'build.mjs')], { stdio: 'ignore' });
  built = true;
}

export interface OperatorProcess {
  child: ChildProcess;
  port: number;
  logs: string[];
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawn the bundle with exactly `env` (plus PATH and HOME) and `args`, metrics on a free loopback port; with
 * `waitReady`, resolve once /readyz answers 200 (or reject with the process's output when it exits first).
 */
export async function startOperatorProcess(env: Record<string, string>, args: string[] = [], waitReady = true): Promise<OperatorProcess> {
  const port = await freePort();
  // as the image runs it: its Node flags and environment (operator/src/node-flags.ts)
  const child = spawn(process.execPath, [...OPERATOR_NODE_FLAGS, OPERATOR_BUNDLE, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...OPERATOR_NODE_ENV, ...env, METRICS_ADDRESS: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    }
    return exited;
  };
  const p = { child, port, logs, exited, stop };
  if (waitReady) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode} before it was ready: ${logs.join('').slice(-2000)}`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      if (res?.status === 200) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`the operator was not ready within 30 s: ${logs.join('').slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return p;
}

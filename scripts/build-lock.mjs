// One build at a time per output directory: test processes (each asking for the binaries) and setup may run a
// build script at once, and two builds would delete each other's work. The lock file holds the builder's pid; a
// lock whose process is gone is taken over. Waiting is synchronous (the callers are).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export function withBuildLock(lock, log, fn) {
  const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  let announced = false;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder;
      try {
        holder = Number(readFileSync(lock, 'utf8').trim());
      } catch {
        continue; // released in the meantime
      }
      let alive = !holder; // an empty file: its writer is between creating and writing it
      try {
        if (holder) process.kill(holder, 0);
        alive = true;
      } catch {
        // no such process
      }
      if (!alive) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!announced) log(`another build (pid ${holder}) is running; waiting for it`);
      announced = true;
      sleepMs(2000);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

// How the operator's image runs Node (operator/Dockerfile's ENTRYPOINT and ENV; a unit test keeps them equal to
// this file), and so how bench/operator.ts and the tests that spawn the bundle run it. Chosen for memory (issue 13:
// peak RSS at 1000 apps within 100 MiB), each measured with bench/operator.ts at 1000 apps, TLS off:
// - --max-semi-space-size=1: a young generation of 1 MiB semi-spaces instead of up to 16 MiB (alone it only moves
//   garbage into the old generation: it needs the next flag);
// - --optimize-for-size: V8 grows the old generation slowly and keeps code small (heap 34 MiB reserved instead of
//   about 80 at all-Ready);
// - --v8-pool-size=1, --single-threaded-gc: one V8 worker thread instead of four (stacks, malloc arenas);
// - --no-opt: no TurboFan code (the live heap holds about 9 MiB of code); costs about 20 % more CPU, which is not
//   what bounds all-Ready (the API server is: 13 s of operator CPU in an 83 s run under load);
// - MALLOC_ARENA_MAX=2: glibc keeps two malloc arenas instead of one per thread.
export const OPERATOR_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--optimize-for-size',
  '--v8-pool-size=1',
  '--single-threaded-gc',
  '--no-opt',
];

/** Environment of the operator's process (the Dockerfile's ENV lines). */
export const OPERATOR_NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

// The landing service process as bench/landing.ts runs it: packs/landing/src/process.ts, exactly what the image's
// main.ts runs, bundled by packs/landing/build.ts the same way and started with the image's Node flags. One
// stand-in: health probes go to BENCH_PROBE_URL (a loopback backend in the bench process) instead of
// http://<service>.<namespace>.svc:<port>, a name that resolves only inside a cluster.
import { runLandingProcess } from '../packs/landing/src/process.js';

const base = process.env.BENCH_PROBE_URL ?? '';
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base)) throw new Error(`BENCH_PROBE_URL: "${base}" is not allowed; allowed: http://127.0.0.1:<port>`);
runLandingProcess({ resolver: () => base });

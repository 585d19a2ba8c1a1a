// How the landing page's pod runs Node, and so how bench/landing.ts runs the service: the image's flags
// (packs/landing/Dockerfile's CMD) and the Deployment's NODE_OPTIONS (manifests/deployment.yaml); a unit test keeps
// both equal to this file.
// - --single-threaded-gc: scavenges without V8's helper threads. On 2 busy cores the parallel scavenger waits for
//   helpers the kernel has not scheduled yet. The HTTP edge alone (server.ts on a seeded store, the bench's load
//   generator, 8000 answers per run, load average 2.3-4.8): the longest scavenge was 2.4-8.7 ms with helpers and
//   0.7 ms without, over the same ~9 scavenges per run, CPU per answer not higher. A larger young generation
//   (--max-semi-space-size=32 or 64) halved or quartered the scavenges but not their length, and grows memory.
export const LANDING_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** The Deployment's NODE_OPTIONS: the old generation capped below the container's 256 MiB memory limit. */
export const LANDING_NODE_OPTIONS = '--max-old-space-size=192';

// Builds the landing pack: the browser bundle + static files into <out>/web, and (with --server) the service
// as one ESM file <out>/server.mjs. Used by the Dockerfile and by the tests (buildWeb) before serving the page.
//   npx tsx packs/landing/build.ts dist/landing --server
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const STATIC_FILES = ['index.html', 'app.css', 'favicon.svg'];

/** Writes index.html, app.css, favicon.svg and the bundled app.js into `outDir`; returns outDir. */
export async function buildWeb(outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, 'web', 'app.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const f of STATIC_FILES) copyFileSync(join(here, 'web', f), join(outDir, f));
  return outDir;
}

/** Bundles the service into one ESM file (dependencies included); `entry` another entry point (the bench's). */
export async function buildServer(outFile: string, entry = join(here, 'src', 'main.ts')): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ['node22'],
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // Some CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __landingCreateRequire } from 'node:module'; const require = __landingCreateRequire(import.meta.url);" },
  });
  return outFile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? 'dist/landing');
  await buildWeb(join(out, 'web'));
  if (process.argv.includes('--server')) await buildServer(join(out, 'server.mjs'));
  process.stdout.write(`built ${out}\n`);
}

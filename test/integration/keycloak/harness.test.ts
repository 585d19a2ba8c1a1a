// The Keycloak test harness cleans up after itself: a test process killed outright (SIGKILL, no hooks run) still
// leaves no Keycloak process, port or directory behind (watchdog).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const harness = join(here, '..', '..', 'harness', 'keycloak.ts');

function alive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function portOpen(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

describe('keycloak harness', function () {
  this.timeout(300_000);

  it('a test process killed with SIGKILL leaves no Keycloak process, port or directory behind', async function () {
    const script = `
      import { startKeycloak } from ${JSON.stringify(harness)};
      import { readFileSync } from 'node:fs';
      import { join, dirname } from 'node:path';
      const kc = await startKeycloak();
      const pgid = readFileSync(join(dirname(kc.home), 'pgid'), 'utf8');
      console.log(JSON.stringify({ home: kc.home, baseUrl: kc.baseUrl, pgid: Number(pgid) }));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await new Promise<{ home: string; baseUrl: string; pgid: number }>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const line = buf.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line) as { home: string; baseUrl: string; pgid: number });
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    assert.ok(alive(info.pgid));
    assert.ok(await portOpen(`${info.baseUrl}/realms/master`));
    child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while ((alive(info.pgid) || existsSync(dirname(info.home))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.equal(alive(info.pgid), false, 'the Keycloak process group is gone');
    assert.equal(existsSync(dirname(info.home)), false, 'its directory is deleted');
    assert.equal(await portOpen(`${info.baseUrl}/realms/master`), false, 'its port is closed');
  });
});

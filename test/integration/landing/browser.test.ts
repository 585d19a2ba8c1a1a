// End to end in Debian's Chromium (playwright-core): the landing page served by the real service, fed by the
// REAL control plane, signing in through the OIDC STAND-IN issuer (oidc-standin.ts: a signing key this test
// controls, discovery + JWKS + authorize/token/end-session on loopback; the real Keycloak is not started here).
// Screenshots go to test-results/landing/*.png for a person to look at.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { launchChromium, type LaunchedBrowser } from '../../harness/browser.js';
import type { LandingService } from '../../../packs/landing/src/service.js';
import { startOidcStandin, type OidcStandin, type StandinUser } from './oidc-standin.js';
import { Apps, createNamespace, healthBackend, nebariApp, startTestLanding } from './helpers.js';

const SHOTS = join(process.cwd(), 'test-results', 'landing');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const alice: StandinUser = { sub: 'alice', name: 'Alice Admin', email: 'alice@example.com', groups: ['admins'] };
const bob: StandinUser = { sub: 'bob', name: 'Bob User', email: 'bob@example.com', groups: ['users'] };
const XSS_NAME = '<img src=x onerror="window.__pwned=1">';
const XSS_DESC = '<script>window.__pwned=2</script> & <b>bold</b>';

describe('landing page in Chromium', function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let issuer: OidcStandin;
  let svc: LandingService;
  let apps: Apps;
  let ns: string;
  let backend: Awaited<ReturnType<typeof healthBackend>>;
  let chrome: LaunchedBrowser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    cp = await sharedControlPlane();
    issuer = await startOidcStandin();
    backend = await healthBackend();
    svc = await startTestLanding(cp.kubeConfig(), issuer, backend.port, 250);
    apps = new Apps(cp.kubeConfig());
    ns = await createNamespace(cp.kubeConfig(), 'landing-e2e');
    const lp = (o: Record<string, unknown>) => ({ landingPage: { enabled: true, ...o } });
    await Promise.all([
      apps.create(nebariApp(ns, 'grafana', { ...lp({ displayName: 'Grafana', description: 'Dashboards for metrics and logs', category: 'Monitoring', icon: 'grafana', priority: 10, healthCheck: { enabled: true, intervalSeconds: 10 } }) })),
      apps.create(nebariApp(ns, 'prometheus', lp({ displayName: 'Prometheus', description: 'Metrics and alerts', category: 'Monitoring', icon: 'prometheus', priority: 20 }))),
      apps.create(nebariApp(ns, 'jupyter', lp({ displayName: 'JupyterHub', description: 'Notebooks for your team', category: 'Data Science', icon: 'jupyter', priority: 1 }))),
      apps.create(nebariApp(ns, 'k8s', lp({ displayName: 'Cluster dashboard', description: 'Workloads at a glance', category: 'Platform', icon: 'kubernetes' }))),
      apps.create(nebariApp(ns, 'evil', lp({ displayName: XSS_NAME, description: XSS_DESC, category: 'Platform', priority: 500 }))),
      apps.create(nebariApp(ns, 'argocd', { auth: { enabled: true, groups: ['admins'] }, ...lp({ displayName: 'Argo CD', description: 'GitOps deployments', category: 'Platform', icon: 'argocd', priority: 5 }) })),
      apps.create(nebariApp(ns, 'keycloak', { auth: { enabled: true, groups: ['admins'] }, ...lp({ displayName: 'Keycloak admin', description: 'Users and groups', category: 'Platform', icon: 'keycloak', priority: 6 }) })),
      apps.create(nebariApp(ns, 'wiki', { auth: { enabled: true }, ...lp({ displayName: 'Team wiki', description: 'For every signed-in user', category: 'Data Science', priority: 50 }) })),
    ]);
    chrome = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await chrome?.close();
    await svc?.stop();
    await issuer?.stop();
    await backend?.stop();
  });

  async function openPage(opts: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<{ page: Page; ctx: BrowserContext; errors: string[] }> {
    const ctx = await chrome.browser.newContext({
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
      colorScheme: opts.colorScheme ?? 'light',
      reducedMotion: 'reduce',
    });
    contexts.push(ctx);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // An icon URL that cannot load has nothing to do with the page itself.
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    await page.goto(svc.url);
    await page.waitForSelector('body[data-ready="true"]');
    return { page, ctx, errors };
  }

  /** The cards of this test's namespace as "Category: Name", in page order. */
  const myCards = (page: Page): Promise<string[]> =>
    page.$$eval(
      'section.group',
      (sections, prefix) =>
        sections.flatMap((s) => {
          const cat = s.querySelector('h2')?.textContent ?? '';
          return Array.from(s.querySelectorAll<HTMLAnchorElement>('a.card'))
            .filter((a) => (a.dataset.id ?? '').startsWith(prefix))
            .map((a) => `${cat}: ${a.querySelector('.name')?.textContent ?? ''}`);
        }),
      `${ns}/`,
    );

  const waitCards = async (page: Page, pred: (c: string[]) => boolean, what: string): Promise<string[]> => {
    const end = Date.now() + 15_000;
    let last: string[] = [];
    while (Date.now() < end) {
      last = await myCards(page);
      if (pred(last)) return last;
      await page.waitForTimeout(100);
    }
    throw new Error(`${what}: cards were ${JSON.stringify(last)}`);
  };

  async function axe(page: Page, label: string): Promise<void> {
    await page.evaluate(AXE_SOURCE);
    const result = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
    });
    assert.deepEqual(result, [], `axe violations (${label}): ${JSON.stringify(result, null, 1)}`);
  }

  async function signIn(page: Page, user: StandinUser): Promise<void> {
    issuer.loginAs(user);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForSelector(`text=Signed in as ${user.name}`);
    await page.waitForSelector('body[data-ready="true"]');
  }

  it('anonymous: public apps grouped by category and ordered by priority then name; no private app anywhere', async () => {
    const { page, errors } = await openPage();
    const cards = await waitCards(page, (c) => c.length === 5, 'five public cards');
    assert.deepEqual(cards, [
      'Data Science: JupyterHub',
      'Monitoring: Grafana',
      'Monitoring: Prometheus',
      'Platform: Cluster dashboard',
      `Platform: ${XSS_NAME}`,
    ]);
    const html = await page.content();
    for (const secret of ['Argo CD', 'Keycloak admin', 'Team wiki']) assert.ok(!html.includes(secret), `${secret} leaked into the anonymous page`);
    assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 1);
    const grafana = page.locator(`a.card[data-id="${ns}/grafana"]`);
    assert.equal(await grafana.getAttribute('href'), `https://grafana.${ns}.example.com/`);
    assert.equal(await grafana.locator('svg[data-icon="grafana"]').count(), 1, 'built-in icon drawn inline');
    await page.waitForSelector(`a.card[data-id="${ns}/grafana"] .badge[data-health="healthy"]`);
    await page.screenshot({ path: join(SHOTS, 'anonymous-light.png'), fullPage: true });
    await axe(page, 'anonymous light');
    assert.deepEqual(errors, []);
  });

  it('a displayName holding <script>/<img onerror> shows as text and runs nothing', async () => {
    const { page, errors } = await openPage();
    const evil = page.locator(`a.card[data-id="${ns}/evil"]`);
    await evil.waitFor();
    assert.equal(await evil.locator('.name').textContent(), XSS_NAME);
    assert.equal(await evil.locator('.desc').textContent(), XSS_DESC);
    assert.equal(await evil.locator('img').count(), 0, 'no <img> element was created from the name');
    assert.equal(await page.locator('#groups script, #groups b').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    // Even a direct markup sink is refused by the Trusted Types CSP.
    const blocked = await page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__pwned=3">');
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(blocked, true, 'require-trusted-types-for blocks string-to-HTML sinks');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    const csp = (await page.request.get(svc.url)).headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.deepEqual(errors.filter((e) => !/TrustedHTML/.test(e)), []);
  });

  it('signed in as a user of group "users": sees the any-user app, not the admins-only ones; signs out', async () => {
    const { page } = await openPage();
    await signIn(page, bob);
    const cards = await waitCards(page, (c) => c.includes('Data Science: Team wiki'), 'Team wiki shown');
    assert.deepEqual(cards, [
      'Data Science: JupyterHub',
      'Data Science: Team wiki',
      'Monitoring: Grafana',
      'Monitoring: Prometheus',
      'Platform: Cluster dashboard',
      `Platform: ${XSS_NAME}`,
    ]);
    const html = await page.content();
    assert.ok(!html.includes('Argo CD') && !html.includes('Keycloak admin'), 'admins-only apps leaked to a non-admin');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'landing-session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is not readable from script');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('a:text("Sign in")');
    await waitCards(page, (c) => !c.includes('Data Science: Team wiki'), 'Team wiki gone after sign-out');
    const logout = issuer.seen.logout.at(-1);
    assert.equal(logout?.get('client_id'), issuer.clientId);
    assert.equal(logout?.get('post_logout_redirect_uri'), `${svc.url}/`);
  });

  it('signed in as an admin: sees the admins-only apps too; axe passes signed in', async () => {
    const { page, errors } = await openPage();
    await signIn(page, alice);
    const cards = await waitCards(page, (c) => c.includes('Platform: Argo CD'), 'Argo CD shown');
    assert.deepEqual(cards, [
      'Data Science: JupyterHub',
      'Data Science: Team wiki',
      'Monitoring: Grafana',
      'Monitoring: Prometheus',
      'Platform: Argo CD',
      'Platform: Keycloak admin',
      'Platform: Cluster dashboard',
      `Platform: ${XSS_NAME}`,
    ]);
    assert.equal(await page.locator(`a.card[data-id="${ns}/argocd"] .badge-private`).textContent(), 'Restricted');
    await page.screenshot({ path: join(SHOTS, 'admin-light.png'), fullPage: true });
    await axe(page, 'admin light');
    assert.deepEqual(errors, []);
  });

  it('live: apps added, changed, removed and health changes appear without a reload', async () => {
    backend.status = 200;
    const { page } = await openPage();
    await page.evaluate(() => ((window as unknown as { __same: boolean }).__same = true));
    await apps.create(nebariApp(ns, 'mlflow', { landingPage: { enabled: true, displayName: 'MLflow', description: 'Experiment tracking', category: 'Data Science', priority: 2, icon: 'https://icons.invalid/mlflow.svg', iconDark: 'https://icons.invalid/mlflow-dark.svg' } }));
    await waitCards(page, (c) => c[1] === 'Data Science: MLflow', 'MLflow inserted after JupyterHub');
    const imgs = await page.$$eval(`a.card[data-id="${ns}/mlflow"] img`, (is) => is.map((i) => ({ src: (i as HTMLImageElement).src, alt: i.getAttribute('alt'), shown: getComputedStyle(i).display !== 'none' })));
    assert.deepEqual(imgs, [
      { src: 'https://icons.invalid/mlflow.svg', alt: '', shown: true },
      { src: 'https://icons.invalid/mlflow-dark.svg', alt: '', shown: false },
    ], 'URL icons: decorative images, the light one shown in the light theme');
    await apps.update(ns, 'mlflow', (o) => {
      o.spec.landingPage.displayName = 'MLflow tracking';
      o.spec.landingPage.category = 'Monitoring';
    });
    await waitCards(page, (c) => c.includes('Monitoring: MLflow tracking') && !c.includes('Data Science: MLflow'), 'MLflow renamed and moved');
    await apps.delete(ns, 'mlflow');
    await waitCards(page, (c) => !c.some((x) => x.includes('MLflow')), 'MLflow removed');

    const badge = page.locator(`a.card[data-id="${ns}/grafana"] .badge[data-health]`);
    await page.waitForSelector(`a.card[data-id="${ns}/grafana"] .badge[data-health="healthy"]`);
    assert.equal(await badge.textContent(), 'Healthy');
    backend.status = 500;
    await page.waitForSelector(`a.card[data-id="${ns}/grafana"] .badge[data-health="unhealthy"]`, { timeout: 15_000 });
    assert.equal(await badge.textContent(), 'Unhealthy');
    await page.screenshot({ path: join(SHOTS, 'unhealthy-badge.png') });
    backend.status = 200;
    await page.waitForSelector(`a.card[data-id="${ns}/grafana"] .badge[data-health="healthy"]`, { timeout: 15_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same), true, 'no reload happened');
  });

  it('keyboard: skip link, search, category, cards by Tab and arrow keys; focus survives live updates', async () => {
    const { page } = await openPage();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to apps');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'q');
    await page.keyboard.type('grafana');
    await waitCards(page, (c) => JSON.stringify(c) === JSON.stringify(['Monitoring: Grafana']), 'search narrows to Grafana');
    assert.match((await page.locator('#status').textContent()) ?? '', /of \d+ apps match/);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'category');
    await page.fill('#q', '');
    await page.selectOption('#category', 'Monitoring');
    await waitCards(page, (c) => c.every((x) => x.startsWith('Monitoring:')) && c.length === 2, 'category filter');
    await page.selectOption('#category', '');
    await page.focus('#category');
    // Tab into the first card, then arrows move between cards.
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.className);
    assert.equal(first, 'card');
    const ids = await page.$$eval('#groups a.card', (as) => as.map((a) => (a as HTMLAnchorElement).dataset.id));
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLAnchorElement).dataset.id), ids[1]);
    await page.keyboard.press('End');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLAnchorElement).dataset.id), ids.at(-1));
    await page.keyboard.press('Home');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLAnchorElement).dataset.id), ids[0]);
    // Focus a card of ours, then change another app: the focused card keeps focus.
    await page.focus(`a.card[data-id="${ns}/prometheus"]`);
    await apps.update(ns, 'jupyter', (o) => {
      o.spec.landingPage.description = 'Notebooks for your whole team';
    });
    await page.waitForSelector(`a.card[data-id="${ns}/jupyter"] .desc:text("Notebooks for your whole team")`);
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLAnchorElement).dataset.id), `${ns}/prometheus`);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    assert.notEqual(outline, 'none', 'focused card shows a focus ring');
  });

  it('dark theme: follows prefers-color-scheme, the toggle switches and is remembered; axe passes', async () => {
    const { page } = await openPage({ colorScheme: 'dark' });
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await bg(), 'rgb(18, 19, 26)');
    await page.waitForSelector(`a.card[data-id="${ns}/grafana"] .badge[data-health]`);
    await page.screenshot({ path: join(SHOTS, 'anonymous-dark.png'), fullPage: true });
    await axe(page, 'dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    assert.equal(await bg(), 'rgb(246, 247, 251)');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await bg(), 'rgb(246, 247, 251)', 'the choice survives a reload');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    assert.equal(await bg(), 'rgb(18, 19, 26)');
  });

  it('phone width: one column, no horizontal scrolling; axe passes', async () => {
    const { page } = await openPage({ width: 375, height: 812 });
    await waitCards(page, (c) => c.length >= 5, 'cards');
    const { scrollW, innerW } = await page.evaluate(() => ({ scrollW: document.documentElement.scrollWidth, innerW: window.innerWidth }));
    assert.ok(scrollW <= innerW, `page scrolls sideways: ${scrollW} > ${innerW}`);
    const lefts = await page.$$eval(`a.card[data-id^="${ns}/"]`, (as) => [...new Set(as.map((a) => Math.round(a.getBoundingClientRect().left)))]);
    assert.equal(lefts.length, 1, `cards in one column, got lefts ${JSON.stringify(lefts)}`);
    await page.screenshot({ path: join(SHOTS, 'phone-light.png'), fullPage: true });
    await axe(page, 'phone');
    const dark = await openPage({ width: 375, height: 812, colorScheme: 'dark' });
    await dark.page.screenshot({ path: join(SHOTS, 'phone-dark.png'), fullPage: true });
  });
});

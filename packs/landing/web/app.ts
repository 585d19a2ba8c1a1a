// The landing page in the browser: one EventSource delivers the user's filtered snapshot; the DOM is updated in
// place (cards keyed by app id) so focus and scroll survive live updates. Data is only ever set as text.
import { filterGroups, matchesQuery, type AdminPayload, type Card, type Group, type Health, type RequestableCard, type UserPayload } from '../src/view.js';
import { iconElement } from './icons.js';

interface Me {
  authenticated: boolean;
  signInAvailable: boolean;
  user?: { name: string; email: string; groups: string[] };
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};

const HEALTH_TEXT: Record<Health, string> = { healthy: 'Healthy', unhealthy: 'Unhealthy', unknown: 'Status unknown' };

let groups: Group[] = [];
let requestable: RequestableCard[] = [];
/** Only this user's: pins, own requests, notifications (null: anonymous or no user state). */
let user: UserPayload | null = null;
let admin: AdminPayload | null = null;
const PINNED = 'Pinned';
const cardEls = new Map<string, { li: HTMLLIElement; sig: string }>();
const sectionEls = new Map<string, HTMLElement>();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function buildCard(c: Card, pinned: boolean | null): HTMLLIElement {
  const li = el('li', 'card-item');
  const a = el('a', 'card');
  a.href = c.url;
  a.dataset.id = c.id;
  const icon = el('span', 'icon');
  icon.appendChild(iconElement(c.icon));
  const text = el('span', 'text');
  text.appendChild(el('h3', 'name', c.name));
  if (c.description) text.appendChild(el('span', 'desc', c.description));
  const meta = el('span', 'meta');
  if (c.health) {
    const b = el('span', `badge badge-${c.health}`, HEALTH_TEXT[c.health]);
    b.dataset.health = c.health;
    meta.appendChild(b);
  }
  if (c.visibility === 'private') meta.appendChild(el('span', 'badge badge-private', 'Restricted'));
  text.appendChild(meta);
  a.append(icon, text);
  li.appendChild(a);
  if (pinned !== null) {
    const pin = el('button', 'pin', pinned ? 'Unpin' : 'Pin');
    pin.type = 'button';
    pin.dataset.pin = c.id;
    pin.setAttribute('aria-pressed', String(pinned));
    pin.setAttribute('aria-label', `${pinned ? 'Unpin' : 'Pin'} ${c.name}`);
    pin.addEventListener('click', () => void post('/api/me/pins', { app: c.id, pinned: !pinned }));
    li.appendChild(pin);
  }
  return li;
}

/** POSTs JSON; the answer (user payload or request) also arrives on the stream, errors are announced. */
async function post(path: string, body: unknown): Promise<unknown> {
  const alert = $('alert');
  try {
    const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const out = (await res.json()) as { error?: string };
    if (!res.ok) {
      alert.textContent = out.error ?? `Request failed (HTTP ${res.status})`;
      alert.hidden = false;
      return null;
    }
    alert.hidden = true;
    if (path.startsWith('/api/me/') && out && 'pins' in (out as object)) {
      user = out as UserPayload;
      renderAll();
    }
    return out;
  } catch {
    alert.textContent = 'The request could not be sent; check your connection.';
    alert.hidden = false;
    return null;
  }
}

/** Puts `children` into `parent` in this order, moving only nodes that are out of place. */
function place(parent: Element, children: Element[]): void {
  children.forEach((child, i) => {
    if (parent.children[i] !== child) parent.insertBefore(child, parent.children[i] ?? null);
  });
  while (parent.children.length > children.length) parent.lastElementChild!.remove();
}

function sectionFor(category: string): HTMLElement {
  let s = sectionEls.get(category);
  if (!s) {
    s = el('section', 'group');
    const h = el('h2', undefined, category);
    h.id = `cat-${sectionEls.size}`;
    s.setAttribute('aria-labelledby', h.id);
    s.dataset.category = category;
    const ul = el('ul', 'cards');
    ul.setAttribute('role', 'list');
    s.append(h, ul);
    sectionEls.set(category, s);
  }
  return s;
}

/** Pinned apps (in pin order) come first in their own section; the rest keep their categories. */
function withPins(gs: Group[]): Group[] {
  const pins = user?.pins ?? [];
  if (pins.length === 0) return gs;
  const byId = new Map(gs.flatMap((g) => g.apps).map((c) => [c.id, c]));
  const first = pins.map((id) => byId.get(id)).filter((c): c is Card => c !== undefined);
  if (first.length === 0) return gs;
  const set = new Set(first.map((c) => c.id));
  const rest = gs.map((g) => ({ category: g.category, apps: g.apps.filter((c) => !set.has(c.id)) })).filter((g) => g.apps.length > 0);
  return [{ category: PINNED, apps: first }, ...rest];
}

function render(): void {
  const q = $<HTMLInputElement>('q').value;
  const cat = $<HTMLSelectElement>('category').value;
  const pinSet = new Set(user?.pins ?? []);
  const shown = withPins(filterGroups(groups, q, cat));
  const seen = new Set<string>();
  const sections: HTMLElement[] = [];
  let count = 0;
  for (const g of shown) {
    const s = sectionFor(g.category);
    const items: HTMLLIElement[] = [];
    for (const c of g.apps) {
      seen.add(c.id);
      const pinned = user ? pinSet.has(c.id) : null;
      const sig = JSON.stringify(c) + String(pinned);
      let entry = cardEls.get(c.id);
      if (!entry || entry.sig !== sig) {
        const li = buildCard(c, pinned);
        if (entry) {
          const hadFocus = entry.li.contains(document.activeElement);
          entry.li.replaceWith(li);
          if (hadFocus) (li.querySelector<HTMLElement>(document.activeElement?.classList.contains('pin') ? 'button.pin' : 'a') ?? li).focus();
        }
        entry = { li, sig };
        cardEls.set(c.id, entry);
      }
      items.push(entry.li);
      count++;
    }
    place(s.querySelector('ul')!, items);
    sections.push(s);
  }
  for (const id of [...cardEls.keys()]) if (!seen.has(id)) cardEls.delete(id);
  place($('groups'), sections);
  const total = groups.reduce((n, g) => n + g.apps.length, 0);
  const status = count === total ? `${total} app${total === 1 ? '' : 's'}` : `${count} of ${total} apps match`;
  const st = $('status');
  if (st.textContent !== status) st.textContent = status;
  $('empty').hidden = count !== 0;
  renderRequestable(q);
}

function fmtTime(ms: number): string {
  return new Date(ms).toLocaleString();
}

function renderRequestable(q: string): void {
  const box = $('requestable');
  const list = requestable.filter((c) => matchesQuery(c, q));
  box.hidden = list.length === 0;
  const ul = box.querySelector('ul')!;
  const pending = new Set((user?.requests ?? []).filter((r) => r.status === 'pending').map((r) => r.app));
  ul.replaceChildren(
    ...list.map((c) => {
      const li = el('li', 'req-card');
      li.dataset.id = c.id;
      const icon = el('span', 'icon');
      icon.appendChild(iconElement(c.icon));
      const text = el('span', 'text');
      text.appendChild(el('h3', 'name', c.name));
      if (c.description) text.appendChild(el('span', 'desc', c.description));
      li.append(icon, text);
      if (pending.has(c.id)) li.appendChild(el('span', 'badge badge-unknown', 'Access requested'));
      else {
        const b = el('button', 'btn', 'Request access');
        b.type = 'button';
        b.setAttribute('aria-label', `Request access to ${c.name}`);
        b.addEventListener('click', () => void post('/api/requests', { app: c.id }));
        li.appendChild(b);
      }
      return li;
    }),
  );
}

function renderNotifications(): void {
  const btn = $<HTMLButtonElement>('notif-toggle');
  const panel = $('notifications');
  if (!user) {
    btn.hidden = true;
    panel.hidden = true;
    return;
  }
  btn.hidden = false;
  const label = user.unread > 0 ? `Notifications (${user.unread} unread)` : 'Notifications';
  if (btn.textContent !== label) btn.textContent = label;
  btn.dataset.unread = String(user.unread);
  const ul = panel.querySelector('ul')!;
  ul.replaceChildren(
    ...user.notifications.map((n) => {
      const li = el('li', n.read ? 'notif read' : 'notif unread');
      li.dataset.id = n.id;
      li.dataset.kind = n.kind;
      li.appendChild(el('span', 'notif-text', n.text));
      li.appendChild(el('span', 'notif-time', fmtTime(n.at)));
      if (!n.read) {
        const b = el('button', 'btn btn-small', 'Mark read');
        b.type = 'button';
        b.setAttribute('aria-label', `Mark read: ${n.text}`);
        b.addEventListener('click', () => void post('/api/me/notifications/read', { ids: [n.id] }));
        li.appendChild(b);
      }
      return li;
    }),
  );
  $('notif-empty').hidden = user.notifications.length > 0;
  $<HTMLButtonElement>('notif-all').disabled = user.unread === 0;
}

function renderAdmin(): void {
  const box = $('admin');
  box.hidden = !admin;
  if (!admin) return;
  const reqs = $('admin-requests');
  reqs.replaceChildren(
    ...admin.requests.map((r) => {
      const li = el('li', `admin-req status-${r.status}`);
      li.dataset.id = r.id;
      li.dataset.app = r.app;
      const who = r.user.email ? `${r.user.name} (${r.user.email})` : r.user.name;
      li.appendChild(el('p', 'req-line', `${who} asks for ${r.appName}`));
      if (r.reason) li.appendChild(el('p', 'desc', `Reason: ${r.reason}`));
      li.appendChild(el('p', 'notif-time', `Requested ${fmtTime(r.createdAt)}`));
      if (r.status === 'pending') {
        const row = el('div', 'req-actions');
        const selId = `grp-${r.id}`;
        const lab = el('label', undefined, 'Group');
        lab.htmlFor = selId;
        const sel = el('select');
        sel.id = selId;
        for (const g of r.groups ?? []) {
          const o = el('option', undefined, g);
          o.value = g;
          sel.appendChild(o);
        }
        const ok = el('button', 'btn', 'Approve');
        ok.type = 'button';
        ok.setAttribute('aria-label', `Approve ${r.user.name} for ${r.appName}`);
        ok.addEventListener('click', () => void post(`/api/admin/requests/${r.id}`, { decision: 'approve', group: sel.value }));
        const no = el('button', 'btn', 'Deny');
        no.type = 'button';
        no.setAttribute('aria-label', `Deny ${r.user.name} for ${r.appName}`);
        no.addEventListener('click', () => void post(`/api/admin/requests/${r.id}`, { decision: 'deny' }));
        row.append(lab, sel, ok, no);
        li.appendChild(row);
      } else {
        const by = r.decidedBy ? ` by ${r.decidedBy.name}` : '';
        const into = r.group ? ` into ${r.group}` : '';
        li.appendChild(el('p', 'decision', `${r.status === 'approved' ? 'Approved' : 'Denied'}${into}${by}, ${fmtTime(r.decidedAt ?? 0)}`));
      }
      return li;
    }),
  );
  $('admin-requests-empty').hidden = admin.requests.length > 0;
  const body = $('packs-body');
  body.replaceChildren(
    ...admin.packs.map((p) => {
      const tr = el('tr');
      tr.dataset.pack = p.name;
      tr.appendChild(el('th', undefined, p.name)).setAttribute('scope', 'row');
      tr.appendChild(el('td', undefined, p.destination));
      tr.appendChild(el('td', `st st-${p.sync.toLowerCase()}`, p.sync));
      tr.appendChild(el('td', `st st-${p.health.toLowerCase()}`, p.health));
      const td = el('td');
      const ul = el('ul', 'pack-apps');
      for (const a of p.nebariApps) {
        const li = el('li');
        li.dataset.app = a.id;
        li.appendChild(el('span', 'pack-app', a.id));
        const conds = el('span', 'conds');
        for (const c of a.conditions) {
          const b = el('span', `cond cond-${c.status === 'True' ? 'ok' : 'bad'}`, `${c.type}: ${c.reason || c.status}`);
          b.title = c.message;
          b.dataset.type = c.type;
          b.dataset.status = c.status;
          conds.appendChild(b);
        }
        if (a.conditions.length === 0) conds.appendChild(el('span', 'cond cond-bad', 'no status yet'));
        li.appendChild(conds);
        ul.appendChild(li);
      }
      td.appendChild(ul);
      tr.appendChild(td);
      return tr;
    }),
  );
  $('packs-empty').hidden = admin.packs.length > 0;
}

function renderAll(): void {
  render();
  renderNotifications();
  renderAdmin();
}

function updateCategories(): void {
  const sel = $<HTMLSelectElement>('category');
  const cats = groups.map((g) => g.category);
  const current = sel.value;
  const want = ['', ...cats];
  const have = Array.from(sel.options, (o) => o.value);
  if (JSON.stringify(want) === JSON.stringify(have)) return;
  const opts = want.map((v) => {
    const o = el('option', undefined, v === '' ? 'All categories' : v);
    o.value = v;
    return o;
  });
  sel.replaceChildren(...opts);
  sel.value = want.includes(current) ? current : '';
}

function renderAccount(me: Me): void {
  const box = $('account');
  box.replaceChildren();
  if (me.authenticated && me.user) {
    box.appendChild(el('span', 'who', `Signed in as ${me.user.name}`));
    const form = el('form');
    form.method = 'post';
    form.action = '/auth/logout';
    const btn = el('button', 'btn', 'Sign out');
    btn.type = 'submit';
    form.appendChild(btn);
    box.appendChild(form);
  } else if (me.signInAvailable) {
    const a = el('a', 'btn', 'Sign in');
    a.href = `/auth/login?returnTo=${encodeURIComponent(location.pathname + location.search)}`;
    box.appendChild(a);
  }
}

// ---- theme: prefers-color-scheme by default, the toggle's choice remembered ----
const THEME_KEY = 'landing-theme';
function effectiveTheme(): 'light' | 'dark' {
  const t = document.documentElement.dataset.theme;
  if (t === 'light' || t === 'dark') return t;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
function applyTheme(t: string | null): void {
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
  const btn = $<HTMLButtonElement>('theme');
  const now = effectiveTheme();
  btn.textContent = now === 'dark' ? 'Light theme' : 'Dark theme';
  btn.setAttribute('aria-label', now === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
}

// ---- keyboard: arrows move between cards, "/" jumps to search ----
function cardLinks(): HTMLAnchorElement[] {
  return Array.from(document.querySelectorAll<HTMLAnchorElement>('#groups a.card'));
}
function onKey(e: KeyboardEvent): void {
  const target = e.target as HTMLElement;
  if (e.key === '/' && !(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) {
    e.preventDefault();
    $('q').focus();
    return;
  }
  if (!target.classList.contains('card')) return;
  const links = cardLinks();
  const i = links.indexOf(target as HTMLAnchorElement);
  let next = -1;
  if (e.key === 'ArrowDown' || e.key === 'ArrowRight') next = Math.min(links.length - 1, i + 1);
  else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') next = Math.max(0, i - 1);
  else if (e.key === 'Home') next = 0;
  else if (e.key === 'End') next = links.length - 1;
  if (next >= 0) {
    e.preventDefault();
    links[next]!.focus();
  }
}

function connect(): void {
  const live = $('live');
  const es = new EventSource('/api/events');
  es.addEventListener('user', (ev) => {
    user = JSON.parse((ev as MessageEvent<string>).data) as UserPayload;
    render();
    renderNotifications();
  });
  es.addEventListener('admin', (ev) => {
    admin = JSON.parse((ev as MessageEvent<string>).data) as AdminPayload;
    renderAdmin();
  });
  es.addEventListener('apps', (ev) => {
    const data = JSON.parse((ev as MessageEvent<string>).data) as { groups: Group[]; requestable?: RequestableCard[] };
    groups = data.groups;
    requestable = data.requestable ?? [];
    updateCategories();
    render();
    document.body.dataset.ready = 'true';
    live.hidden = true;
  });
  let opened = false;
  es.addEventListener('open', () => {
    live.hidden = true;
    // Whoever this stream is for gets their own events right after it opens; forget the previous ones.
    user = null;
    admin = null;
    renderNotifications();
    renderAdmin();
    // After a reconnect the session may have ended (the server closes streams at expiry): refresh the header.
    if (opened) void loadMe();
    opened = true;
  });
  es.addEventListener('error', () => {
    live.hidden = false;
  });
}

async function main(): Promise<void> {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(THEME_KEY);
  } catch {
    stored = null;
  }
  applyTheme(stored);
  $('theme').addEventListener('click', () => {
    const t = effectiveTheme() === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(THEME_KEY, t);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
    applyTheme(t);
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(null));
  $('q').addEventListener('input', render);
  $('category').addEventListener('change', render);
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  document.addEventListener('keydown', onKey);
  $('notif-toggle').addEventListener('click', () => {
    const panel = $('notifications');
    panel.hidden = !panel.hidden;
    $('notif-toggle').setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) panel.focus();
  });
  $('notif-all').addEventListener('click', () => void post('/api/me/notifications/read', { all: true }));
  connect();
  await loadMe();
}

async function loadMe(): Promise<void> {
  try {
    const res = await fetch('/api/me', { credentials: 'same-origin' });
    renderAccount((await res.json()) as Me);
  } catch {
    renderAccount({ authenticated: false, signInAvailable: true });
  }
}

void main();

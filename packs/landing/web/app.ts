// The landing page in the browser: one EventSource delivers the user's filtered snapshot; the DOM is updated in
// place (cards keyed by app id) so focus and scroll survive live updates. Data is only ever set as text.
import { filterGroups, type Card, type Group, type Health } from '../src/view.js';
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
const cardEls = new Map<string, { li: HTMLLIElement; sig: string }>();
const sectionEls = new Map<string, HTMLElement>();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function buildCard(c: Card): HTMLLIElement {
  const li = el('li');
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
  return li;
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

function render(): void {
  const q = $<HTMLInputElement>('q').value;
  const cat = $<HTMLSelectElement>('category').value;
  const shown = filterGroups(groups, q, cat);
  const seen = new Set<string>();
  const sections: HTMLElement[] = [];
  let count = 0;
  for (const g of shown) {
    const s = sectionFor(g.category);
    const items: HTMLLIElement[] = [];
    for (const c of g.apps) {
      seen.add(c.id);
      const sig = JSON.stringify(c);
      let entry = cardEls.get(c.id);
      if (!entry || entry.sig !== sig) {
        const li = buildCard(c);
        if (entry) {
          const hadFocus = entry.li.contains(document.activeElement);
          entry.li.replaceWith(li);
          if (hadFocus) li.querySelector('a')?.focus();
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
  es.addEventListener('apps', (ev) => {
    groups = (JSON.parse((ev as MessageEvent<string>).data) as { groups: Group[] }).groups;
    updateCategories();
    render();
    document.body.dataset.ready = 'true';
    live.hidden = true;
  });
  let opened = false;
  es.addEventListener('open', () => {
    live.hidden = true;
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

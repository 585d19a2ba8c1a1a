// Built-in card icons, drawn for this project as simple geometric marks (not the projects' trademarks), built
// with DOM calls so no markup string ever reaches the page.
import type { Icon } from '../src/view.js';

type Shape = [tag: 'path' | 'circle' | 'rect' | 'polygon', attrs: Record<string, string>];

const ICONS: Record<string, Shape[]> = {
  // Notebook: two orange arcs around a planet with three moons.
  jupyter: [
    ['path', { d: 'M7 21a17 11 0 0 1 34 0a17 5 0 0 0-34 0z', fill: '#f37726' }],
    ['path', { d: 'M7 27a17 11 0 0 0 34 0a17 5 0 0 1-34 0z', fill: '#f37726' }],
    ['circle', { cx: '37', cy: '9', r: '3', fill: '#767677' }],
    ['circle', { cx: '10', cy: '39', r: '2.5', fill: '#616262' }],
    ['circle', { cx: '11', cy: '10', r: '1.8', fill: '#989798' }],
  ],
  // Dashboard: an orange ring with a rising chart line.
  grafana: [
    ['circle', { cx: '24', cy: '24', r: '18', fill: 'none', stroke: '#f46800', 'stroke-width': '5' }],
    ['path', { d: 'M13 30l7-8 6 5 9-11', fill: 'none', stroke: '#fbb034', 'stroke-width': '4', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }],
  ],
  // Metrics: a red disc with a white flame over a gauge base.
  prometheus: [
    ['circle', { cx: '24', cy: '24', r: '20', fill: '#e6522c' }],
    ['path', { d: 'M24 9c2 6 8 9 8 17a8 8 0 0 1-16 0c0-4 2-6 3-8c0 3 1 5 3 5c-1-5 1-9 2-14z', fill: '#fff' }],
    ['rect', { x: '15', y: '35', width: '18', height: '3', rx: '1.5', fill: '#fff' }],
  ],
  // Identity: a grey hexagon holding a key.
  keycloak: [
    ['polygon', { points: '24,4 41,14 41,34 24,44 7,34 7,14', fill: '#4d4d4d' }],
    ['circle', { cx: '18', cy: '24', r: '6', fill: 'none', stroke: '#00b8e3', 'stroke-width': '3.5' }],
    ['path', { d: 'M24 24h12m-4 0v5m-4-5v4', fill: 'none', stroke: '#00b8e3', 'stroke-width': '3.5', 'stroke-linecap': 'round' }],
  ],
  // GitOps: an orange round head with two eyes and a loop arrow.
  argocd: [
    ['circle', { cx: '24', cy: '20', r: '15', fill: '#ef7b4d' }],
    ['circle', { cx: '19', cy: '19', r: '4', fill: '#fff' }],
    ['circle', { cx: '29', cy: '19', r: '4', fill: '#fff' }],
    ['circle', { cx: '19', cy: '19', r: '1.8', fill: '#2c3e50' }],
    ['circle', { cx: '29', cy: '19', r: '1.8', fill: '#2c3e50' }],
    ['path', { d: 'M12 34c-1 4-3 6-5 8m10-6c0 3-1 6-2 8m18-10c1 4 3 6 5 8m-10-6c0 3 1 6 2 8', fill: 'none', stroke: '#ef7b4d', 'stroke-width': '3', 'stroke-linecap': 'round' }],
  ],
  // Cluster: a blue heptagon with a seven-spoke wheel.
  kubernetes: [
    ['polygon', { points: '24,3 40.4,10.9 44.5,28.7 33.1,42.9 14.9,42.9 3.5,28.7 7.6,10.9', fill: '#326ce5' }],
    ['circle', { cx: '24', cy: '24.5', r: '10', fill: 'none', stroke: '#fff', 'stroke-width': '3' }],
    ['path', { d: 'M24 24.5V10M24 24.5l11.3-5.4M24 24.5l8.9 11.4M24 24.5l-8.9 11.4M24 24.5l-11.3-5.4M24 24.5l3.2 14.1M24 24.5l-3.2 14.1', fill: 'none', stroke: '#fff', 'stroke-width': '2.5', 'stroke-linecap': 'round' }],
  ],
  // Any other app: four rounded tiles.
  app: [
    ['rect', { x: '6', y: '6', width: '16', height: '16', rx: '4', fill: '#6b7fd7' }],
    ['rect', { x: '26', y: '6', width: '16', height: '16', rx: '4', fill: '#9aa8e8' }],
    ['rect', { x: '6', y: '26', width: '16', height: '16', rx: '4', fill: '#9aa8e8' }],
    ['rect', { x: '26', y: '26', width: '16', height: '16', rx: '4', fill: '#6b7fd7' }],
  ],
};

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A decorative icon element (hidden from screen readers; the card's name says what it is). */
export function iconElement(icon: Icon): Element {
  if (icon.kind === 'url') {
    const img = (src: string, cls: string): HTMLImageElement => {
      const i = document.createElement('img');
      i.alt = '';
      i.width = 40;
      i.height = 40;
      i.loading = 'lazy';
      i.referrerPolicy = 'no-referrer';
      i.className = cls;
      i.src = src;
      return i;
    };
    if (!icon.darkUrl) return img(icon.url, 'icon-img');
    // Both images present; the stylesheet shows the one matching the active theme.
    const both = document.createElement('span');
    both.className = 'icon-pair';
    both.append(img(icon.url, 'icon-img icon-light'), img(icon.darkUrl, 'icon-img icon-dark'));
    return both;
  }
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 48 48');
  svg.setAttribute('width', '40');
  svg.setAttribute('height', '40');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.dataset.icon = icon.id;
  for (const [tag, attrs] of ICONS[icon.id] ?? ICONS.app!) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.appendChild(el);
  }
  return svg;
}

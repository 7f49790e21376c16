// The dashboard's entry: the shell (navigation, the API-key form), the routes, and
// link handling for in-page navigation.
import { h, clear } from './dom.js';
import { api, onUnauthorized, reportError } from './api.js';
import { saveKey } from './auth.js';
import { match, navigate, route, type Route } from './router.js';
import { jobsListPage } from './pages/jobs-list.js';
import { jobPage } from './pages/job-page.js';
import { comparePage } from './pages/compare.js';
import { submitPage } from './pages/submit.js';
import { sweepsListPage } from './pages/sweeps-list.js';
import { sweepPage } from './pages/sweep-page.js';

const routes: Route[] = [
  route('/', 'Jobs', jobsListPage),
  route('/jobs/:id', 'Job', jobPage),
  route('/compare', 'Compare', comparePage),
  route('/submit', 'Submit', submitPage),
  route('/sweeps', 'Sweeps', sweepsListPage),
  route('/sweeps/:id', 'Sweep', sweepPage),
];

const main = document.getElementById('main')!;
let current: AbortController | null = null;

function keyForm(): HTMLElement {
  const input = h('input', { type: 'password', id: 'api-key', name: 'api-key', autocomplete: 'off', placeholder: 'API key', 'aria-label': 'API key' });
  const form = h('form', { class: 'key-form', id: 'key-form', hidden: true },
    h('label', { for: 'api-key' }, 'API key for this browser session '), input,
    h('button', { type: 'submit' }, 'Use key'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { saveKey(null); api.apiKey = null; form.hidden = true; } }, 'Forget key'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = input.value.trim();
    saveKey(key || null);
    api.apiKey = key || null;
    input.value = '';
    form.hidden = true;
    void render();
  });
  onUnauthorized(() => { form.hidden = false; input.focus(); });
  return form;
}

function shell(): void {
  const nav = document.getElementById('nav')!;
  const link = (href: string, text: string) => h('a', { href, 'data-link': true }, text);
  nav.append(
    h('a', { href: '/', 'data-link': true, class: 'brand' }, 'Trainyard'),
    link('/', 'Jobs'), link('/compare', 'Compare'), link('/submit', 'Submit'), link('/sweeps', 'Sweeps'),
    h('a', { href: '/docs', class: 'right' }, 'API docs'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { const f = document.getElementById('key-form')!; f.hidden = !f.hidden; } }, 'API key'),
  );
  nav.after(keyForm());
  document.addEventListener('click', (e) => {
    const a = (e.target as Element).closest?.('a[data-link]') as HTMLAnchorElement | null;
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(a.getAttribute('href')!);
  });
  window.addEventListener('popstate', () => void render());
  window.addEventListener('trainyard:navigate', () => void render());
}

async function render(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  clear(main);
  const found = match(routes, location.pathname);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a[data-link]')) {
    a.toggleAttribute('aria-current', a.getAttribute('href') === location.pathname && !a.classList.contains('brand'));
  }
  if (!found) {
    main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '/', 'data-link': true }, 'Back to the jobs')));
    return;
  }
  document.title = `${found.route.title} · Trainyard`;
  try {
    await found.route.page().render(main, found.params, new URLSearchParams(location.search), controller.signal);
  } catch (err) {
    if (controller.signal.aborted) return;
    reportError(err);
    main.append(h('p', { class: 'error', role: 'alert' }, `Could not load this page: ${(err as Error).message}`));
  }
}

shell();
void render();

// The API key (DESIGN.md "Auth and tenants"): entered once and kept for the browser
// session (sessionStorage), or read from the URL fragment `#key=…` — a fragment never
// reaches a server or a log — and then removed from the address bar and history.
// The key travels only as `Authorization: Bearer`, never in a query string.
const STORAGE = 'trainyard.apiKey';

export function keyFromFragment(): string | null {
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (!m) return null;
  const key = decodeURIComponent(m[1]!);
  const rest = location.hash.slice(1).split('&').filter((p) => !p.startsWith('key=')).join('&');
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  return key;
}

export function loadKey(): string | null {
  const fromFragment = keyFromFragment();
  if (fromFragment) sessionStorage.setItem(STORAGE, fromFragment);
  return sessionStorage.getItem(STORAGE);
}

export function saveKey(key: string | null): void {
  if (key) sessionStorage.setItem(STORAGE, key);
  else sessionStorage.removeItem(STORAGE);
}

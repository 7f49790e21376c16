// Path routes (shareable URLs) handled in the page: the API answers index.html for
// each of them (src/api/dashboard.ts lists the same paths).
export interface Page {
  /** called once per navigation; `signal` aborts when the user leaves the page */
  render(root: HTMLElement, params: Record<string, string>, query: URLSearchParams, signal: AbortSignal): void | Promise<void>;
}

export interface Route {
  pattern: RegExp;
  names: string[];
  page: () => Page;
  title: string;
}

export function route(path: string, title: string, page: () => Page): Route {
  const names: string[] = [];
  const pattern = new RegExp(`^${path.replace(/:([a-z]+)/g, (_, n: string) => { names.push(n); return '([^/]+)'; })}/?$`);
  return { pattern, names, page, title };
}

export function match(routes: Route[], pathname: string): { route: Route; params: Record<string, string> } | null {
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (m) return { route: r, params: Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return null;
}

export function navigate(url: string): void {
  history.pushState(null, '', url);
  window.dispatchEvent(new Event('trainyard:navigate'));
}

// History-API routing: the server answers index.html for every app path.
import type { Role } from './api/types';

export interface ScreenContext {
  params: string[];
  query: URLSearchParams;
  root: HTMLElement;
}

export type Screen = (ctx: ScreenContext) => void | Promise<void>;

export interface Route {
  pattern: RegExp;
  screen: Screen;
  /** public: no login; user: any logged-in user; or the roles allowed. */
  access: 'public' | 'user' | Role[];
  /** Stays reachable while the account setup is unfinished. */
  setup?: boolean;
  nav?: string;
}

let renderHook: (() => void) | null = null;

export function setRenderHook(fn: () => void): void {
  renderHook = fn;
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.scrollTo(0, 0);
  renderHook?.();
}

export function match(routes: Route[], path: string): { route: Route; params: string[] } | null {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return null;
}

/** Follows in-app links without a page load (keeps modified clicks native). */
export function installLinkHandler(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const a = (event.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || href.startsWith('//') || href.startsWith('/api/')) return;
    event.preventDefault();
    navigate(href);
  });
  window.addEventListener('popstate', () => renderHook?.());
}

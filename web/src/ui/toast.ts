// Short notices in a polite live region at the bottom of the screen.
import { h } from './dom';

type Kind = 'info' | 'success' | 'error';
let region: HTMLElement | null = null;

function container(): HTMLElement {
  if (!region || !region.isConnected) {
    region = h('div', { class: 'toasts', 'aria-live': 'polite', role: 'status' });
    document.body.appendChild(region);
  }
  return region;
}

export function toast(message: string, kind: Kind = 'info'): void {
  const el = h('div', { class: `toast toast-${kind}`, testid: `toast-${kind}` }, message);
  if (kind === 'error') el.setAttribute('role', 'alert');
  container().appendChild(el);
  const ttl = kind === 'error' ? 8000 : 4000;
  setTimeout(() => {
    el.classList.add('toast-leaving');
    setTimeout(() => el.remove(), 300);
  }, ttl);
}

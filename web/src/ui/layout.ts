// The page frame: header (brand, navigation, user menu, language) and main.
import { h } from './dom';
import { t, lang, setLang, tDynamic, type MessageKey } from '../i18n';
import type { Role, User } from '../api/types';

export interface NavItem {
  path: string;
  label: MessageKey;
  tile: MessageKey;
  roles: Role[] | 'all';
  /** Shown as a home tile only, not in the header. */
  tileOnly?: boolean;
}

export const kNavItems: NavItem[] = [
  { path: '/patients', label: 'nav.patients', tile: 'home.tile.patients', roles: 'all' },
  { path: '/patients/new', label: 'nav.patientNew', tile: 'home.tile.patientNew', roles: 'all', tileOnly: true },
  { path: '/care', label: 'nav.care', tile: 'home.tile.care', roles: ['facility_admin', 'staff'] },
  { path: '/applications', label: 'nav.applications', tile: 'home.tile.applications', roles: ['network_admin'] },
  { path: '/care-approvals', label: 'nav.careApprovals', tile: 'home.tile.careApprovals', roles: ['network_admin'] },
  { path: '/facilities', label: 'nav.facilities', tile: 'home.tile.facilities', roles: ['network_admin'] },
  { path: '/system-clients', label: 'nav.systemClients', tile: 'home.tile.systemClients', roles: ['network_admin'] },
  { path: '/staff', label: 'nav.staff', tile: 'home.tile.staff', roles: ['facility_admin'] },
  { path: '/settings', label: 'nav.settings', tile: 'home.tile.settings', roles: ['facility_admin'] },
  { path: '/audit', label: 'nav.audit', tile: 'home.tile.audit', roles: ['network_admin', 'facility_admin'] },
];

export function navItemsFor(role: Role): NavItem[] {
  return kNavItems.filter((item) => item.roles === 'all' || item.roles.includes(role));
}

function languageSwitch(): HTMLElement {
  const button = (code: 'ja' | 'en', label: MessageKey) =>
    h(
      'button',
      {
        type: 'button', class: 'lang-button', lang: code, 'aria-pressed': lang() === code ? 'true' : 'false',
        testid: `lang-${code}`, onclick: () => setLang(code),
      },
      t(label),
    );
  return h(
    'div',
    { class: 'lang-switch', role: 'group', 'aria-label': t('lang.label') },
    button('ja', 'lang.ja'),
    button('en', 'lang.en'),
  );
}

function brand(): HTMLElement {
  return h(
    'a',
    { href: '/', class: 'brand', 'aria-label': `${t('app.name')} ${t('app.subtitle')}` },
    h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'つ'),
    h(
      'span',
      { class: 'brand-text' },
      h('span', { class: 'brand-name' }, lang() === 'ja' ? 'つなぐ' : 'Tsunagu'),
      h('span', { class: 'brand-sub' }, t('app.subtitle')),
    ),
  );
}

function isCurrent(path: string, current: string): boolean {
  if (path === '/patients') return current === '/patients' || (/^\/patients\/\d/.test(current));
  return current === path || current.startsWith(`${path}/`);
}

function userMenu(user: User, onLogout: () => void, setupOnly: boolean): HTMLElement {
  const details = h('details', { class: 'user-menu' });
  const close = () => details.removeAttribute('open');
  details.append(
    h(
      'summary',
      { class: 'user-menu-button', 'aria-label': t('menu.user'), testid: 'user-menu' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, user.display_name.slice(0, 1)),
      h('span', { class: 'user-menu-name' }, user.display_name),
    ),
    h(
      'div',
      { class: 'user-menu-panel' },
      h(
        'div',
        { class: 'user-menu-who' },
        h('strong', null, user.display_name),
        h('span', null, user.facility_name),
        h('span', null, `${tDynamic('occupation', user.occupation)} · ${tDynamic('role', user.role)}`),
      ),
      setupOnly ? null : h('a', { href: '/account/password', class: 'menu-item', onclick: close }, t('menu.password')),
      setupOnly ? null : h('a', { href: '/account/totp', class: 'menu-item', onclick: close }, t('menu.totp')),
      h(
        'button',
        { type: 'button', class: 'menu-item', testid: 'logout', onclick: () => { close(); onLogout(); } },
        t('menu.logout'),
      ),
    ),
  );
  const outside = (e: Event) => {
    if (!details.contains(e.target as Node)) close();
  };
  details.addEventListener('toggle', () => {
    if (details.open) document.addEventListener('click', outside);
    else document.removeEventListener('click', outside);
  });
  details.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      close();
      details.querySelector('summary')?.focus();
    }
  });
  return details;
}

export interface Shell {
  root: HTMLElement;
  main: HTMLElement;
}

export function appShell(
  user: User | null,
  currentPath: string,
  onLogout: () => void,
  setupOnly = false,
): Shell {
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const items = user && !setupOnly ? navItemsFor(user.role).filter((i) => !i.tileOnly) : [];
  const navList = h(
    'ul',
    { class: 'nav-list', id: 'nav-list' },
    items.map((item) =>
      h(
        'li',
        null,
        h(
          'a',
          {
            href: item.path, class: 'nav-link',
            'aria-current': isCurrent(item.path, currentPath) ? 'page' : undefined,
          },
          t(item.label),
        ),
      ),
    ),
  );
  const navToggle = h(
    'button',
    {
      type: 'button', class: 'nav-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav-list',
      onclick: () => {
        const open = navToggle.getAttribute('aria-expanded') !== 'true';
        navToggle.setAttribute('aria-expanded', String(open));
        nav.classList.toggle('open', open);
      },
    },
    h('span', { class: 'nav-toggle-icon', 'aria-hidden': 'true' }, '☰'),
    h('span', { class: 'visually-hidden' }, t('nav.menu')),
  );
  const nav = h('nav', { class: 'nav', 'aria-label': t('nav.main') }, navList);
  const header = h(
    'header',
    { class: 'app-header' },
    h(
      'div',
      { class: 'header-inner' },
      items.length ? navToggle : null,
      brand(),
      h('div', { class: 'header-spacer' }),
      languageSwitch(),
      user ? userMenu(user, onLogout, setupOnly) : null,
    ),
    items.length ? h('div', { class: 'nav-bar' }, nav) : null,
  );
  const root = h(
    'div',
    { class: 'app' },
    h('a', { href: '#main', class: 'skip-link', onclick: (e: Event) => { e.preventDefault(); main.focus(); } },
      t('app.skip')),
    header,
    main,
  );
  return { root, main };
}

/** A page heading that receives focus after navigation. */
export function pageTitle(text: string, ...extra: (Node | null)[]): HTMLElement {
  return h(
    'div',
    { class: 'page-head' },
    h('h1', { class: 'page-title', tabindex: '-1' }, text),
    ...extra.filter((x): x is Node => x !== null),
  );
}

export function card(...children: (Node | string | null | false)[]): HTMLElement {
  return h('section', { class: 'card' }, ...children);
}

export function loading(): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

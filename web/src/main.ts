// Entry point: routes, the render loop, session expiry and language changes.
import './styles.css';
import { h, clear } from './ui/dom';
import { t, onLangChange } from './i18n';
import { api, setSessionExpiredHandler } from './api/client';
import { appShell, pageTitle } from './ui/layout';
import { session, forcedPath } from './session';
import { installLinkHandler, match, navigate, setRenderHook, type Route, type Screen } from './router';
import { loginScreen } from './screens/login';
import { passwordScreen } from './screens/password';
import { totpScreen } from './screens/totp';
import { homeScreen } from './screens/home';
import { applyScreen } from './screens/apply';
import { inviteScreen } from './screens/invite';
import { applicationsScreen } from './screens/applications';
import { facilitiesScreen, facilityDetailScreen, settingsScreen } from './screens/facilities';
import { staffScreen } from './screens/staff';
import { auditScreen } from './screens/audit';
import { systemClientsScreen } from './screens/system_clients';
import { patientsScreen, patientNewScreen, patientScreen } from './screens/patients';
import { careGroupsScreen } from './screens/care_groups';
import { careGroupScreen } from './screens/care_group';
import { careInvitationScreen } from './screens/care_invitation';
import { careApprovalsScreen } from './screens/care_approvals';

const notFoundScreen: Screen = ({ root }) => {
  document.title = `${t('error.pageNotFound')} | ${t('app.name')}`;
  clear(root, pageTitle(t('error.pageNotFound')), h('p', null, t('error.pageNotFoundBody')),
    h('p', null, h('a', { href: '/', class: 'button' }, t('nav.home'))));
};

const forbiddenScreen: Screen = ({ root }) => {
  clear(root, pageTitle(t('error.forbidden')), h('p', null, t('error.noPermission')),
    h('p', null, h('a', { href: '/', class: 'button' }, t('nav.home'))));
};

const routes: Route[] = [
  { pattern: /^\/login\/?$/, screen: loginScreen, access: 'public' },
  { pattern: /^\/apply\/?$/, screen: applyScreen, access: 'public' },
  { pattern: /^\/invite\/([^/]+)\/?$/, screen: inviteScreen, access: 'public' },
  { pattern: /^\/$/, screen: homeScreen, access: 'user' },
  { pattern: /^\/account\/password\/?$/, screen: passwordScreen, access: 'user', setup: true },
  { pattern: /^\/account\/totp\/?$/, screen: totpScreen, access: 'user', setup: true },
  { pattern: /^\/patients\/?$/, screen: patientsScreen, access: 'user' },
  { pattern: /^\/patients\/new\/?$/, screen: patientNewScreen, access: 'user' },
  { pattern: /^\/patients\/([^/]+)\/?$/, screen: patientScreen, access: 'user' },
  { pattern: /^\/care\/?$/, screen: careGroupsScreen, access: 'user' },
  { pattern: /^\/care\/groups\/(\d+)\/?$/, screen: careGroupScreen, access: 'user' },
  { pattern: /^\/care\/invitations\/([A-Za-z0-9_-]+)\/?$/, screen: careInvitationScreen, access: 'public' },
  { pattern: /^\/applications\/?$/, screen: applicationsScreen, access: ['network_admin'] },
  { pattern: /^\/care-approvals\/?$/, screen: careApprovalsScreen, access: ['network_admin'] },
  { pattern: /^\/facilities\/?$/, screen: facilitiesScreen, access: ['network_admin'] },
  { pattern: /^\/facilities\/(\d+)\/?$/, screen: facilityDetailScreen, access: ['network_admin'] },
  { pattern: /^\/system-clients\/?$/, screen: systemClientsScreen, access: ['network_admin'] },
  { pattern: /^\/staff\/?$/, screen: staffScreen, access: ['facility_admin'] },
  { pattern: /^\/settings\/?$/, screen: settingsScreen, access: ['facility_admin'] },
  { pattern: /^\/audit\/?$/, screen: auditScreen, access: ['network_admin', 'facility_admin'] },
];

const app = document.getElementById('app') as HTMLElement;
let generation = 0;

async function logout(): Promise<void> {
  try {
    await api.post('/auth/logout', undefined, { quiet: true, allowUnauthenticated: true });
  } catch {
    // The session is dropped locally either way.
  }
  session.clear();
  navigate('/login?bye=1', true);
}

async function render(): Promise<void> {
  const mine = ++generation;
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  const found = match(routes, path);
  // Close dialogs left open by the previous screen.
  document.querySelectorAll('dialog[open]').forEach((d) => (d as HTMLDialogElement).close());

  let user = session.user;
  if (!found || found.route.access !== 'public') {
    user = await session.load();
    if (mine !== generation) return;
    if (found && !user) {
      navigate(`/login${path === '/' ? '' : `?next=${encodeURIComponent(path + location.search)}`}`, true);
      return;
    }
  }

  let screen: Screen = found?.route.screen ?? notFoundScreen;
  const setupPath = user ? forcedPath(user) : null;
  if (found && found.route.access !== 'public' && user) {
    if (setupPath && !found.route.setup) {
      navigate(setupPath, true);
      return;
    }
    const access = found.route.access;
    if (Array.isArray(access) && !access.includes(user.role)) screen = forbiddenScreen;
  }

  const isPublic = found?.route.access === 'public';
  const shell = appShell(isPublic ? null : user, path, () => void logout(), setupPath !== null);
  if (isPublic) shell.root.classList.add('public');
  clear(app, shell.root);
  try {
    await screen({ params: found?.params ?? [], query, root: shell.main });
  } catch (err) {
    if (mine !== generation) return;
    console.error(err);
  }
  if (mine !== generation) return;
  const heading = shell.main.querySelector<HTMLElement>('h1');
  if (heading && !shell.main.contains(document.activeElement)) heading.focus({ preventScroll: true });
}

setSessionExpiredHandler(() => {
  const here = location.pathname + location.search;
  session.clear();
  if (location.pathname.startsWith('/login')) return;
  navigate(`/login?expired=1&next=${encodeURIComponent(here)}`, true);
});

setRenderHook(() => void render());
onLangChange(() => void render());
installLinkHandler();
void render();

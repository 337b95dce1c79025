// Home: who I am and what I can do here.
import { h, clear } from '../ui/dom';
import { t, tDynamic } from '../i18n';
import { navItemsFor } from '../ui/layout';
import { session } from '../session';
import type { Screen } from '../router';
import { careHomeCard } from './care_home';

export const homeScreen: Screen = ({ root }) => {
  const user = session.user;
  if (!user) return;
  document.title = `${t('nav.home')} | ${t('app.name')}`;
  const tiles = navItemsFor(user.role).map((item) =>
    h(
      'li',
      null,
      h(
        'a',
        { href: item.path, class: 'tile' },
        h('span', { class: 'tile-title' }, t(item.label)),
        h('span', { class: 'tile-body' }, t(item.tile)),
      ),
    ),
  );
  if (!user.totp_enabled) {
    tiles.push(
      h('li', null, h('a', { href: '/account/totp', class: 'tile tile-quiet' },
        h('span', { class: 'tile-title' }, t('menu.totp')),
        h('span', { class: 'tile-body' }, t('home.tile.totp')))),
    );
  }
  clear(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', { class: 'page-title', tabindex: '-1', testid: 'greeting' }, t('home.greeting', { name: user.display_name })),
      h(
        'p',
        { class: 'lead', testid: 'whoami' },
        t('home.whoami', { facility: user.facility_name, occupation: tDynamic('occupation', user.occupation) }),
        h('span', { class: 'chip' }, tDynamic('role', user.role)),
      ),
    ),
    careHomeCard(),
    h('h2', { class: 'section-title' }, t('home.tasks')),
    h('ul', { class: 'tiles' }, tiles),
  );
};

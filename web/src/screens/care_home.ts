// The home page's care card: unread posts and messages per care group,
// refreshed live.
import { h, clear } from '../ui/dom';
import { t } from '../i18n';
import { care, type UnreadCounts } from '../api/care';
import { onCareFrame } from './care_live';
import { session } from '../session';

export function careHomeCard(): HTMLElement | null {
  // The secretariat takes no part in care teams.
  if (session.user?.role === 'network_admin') return null;
  const body = h('div', null, h('p', { class: 'loading' }, t('common.loading')));
  const card = h('section', { class: 'card care-home', testid: 'care-home' },
    h('div', { class: 'care-home-head' },
      h('h2', { class: 'section-title' }, t('care.title')),
      h('a', { href: '/care', class: 'button small', testid: 'care-home-open' }, t('care.home.open'))),
    body);
  const load = async () => {
    let counts: UnreadCounts | null = null;
    let groups: { id: number; name: string }[] = [];
    try {
      [groups, counts] = await Promise.all([care.groups(), care.unread().catch(() => null)]);
    } catch {
      clear(body, h('p', { class: 'field-hint' }, t('care.home.unavailable')));
      return;
    }
    if (!groups.length) {
      clear(body, h('p', { class: 'field-hint', testid: 'care-home-empty' }, t('care.home.noGroups')));
      return;
    }
    const byId = new Map((counts?.groups ?? []).map((g) => [g.group_id, g]));
    const total = counts ? counts.total_posts + counts.total_messages : 0;
    clear(body,
      counts ? h('p', { class: total ? 'care-home-total' : 'field-hint', testid: 'care-home-total' },
        total ? t('care.home.unread', { posts: counts.total_posts, messages: counts.total_messages }) : t('care.home.allRead')) : null,
      h('ul', { class: 'care-home-list' }, groups.slice(0, 8).map((g) => {
        const c = byId.get(g.id);
        return h('li', null, h('a', { href: `/care/groups/${g.id}` }, g.name),
          c?.unread_posts ? h('span', { class: 'care-unread', testid: 'home-unread-posts' }, t('care.unreadPosts', { n: c.unread_posts })) : null,
          c?.unread_messages ? h('span', { class: 'care-unread' }, t('care.unreadMessages', { n: c.unread_messages })) : null);
      })));
  };
  void load();
  onCareFrame(card, () => void load());
  return card;
}

// One care group: the page shell with its tabs (timeline, messages, board,
// schedule, vital-sign trends, members). Family members see the timeline
// (posts published to the family) and the member list only.
import { h, clear } from '../ui/dom';
import { t, tDynamic } from '../i18n';
import { loading } from '../ui/layout';
import { tabs, type TabSpec } from '../ui/tabs';
import { navigate, type Screen } from '../router';
import { session } from '../session';
import { care, type CareGroup } from '../api/care';
import { regionalIdText } from './patient_common';
import { errorText } from './care_common';
import { timelineTab } from './care_timeline';
import { messagesTab } from './care_messages';
import { boardTab } from './care_board';
import { scheduleTab } from './care_schedule';
import { seriesTab } from './care_series';
import { membersTab } from './care_members';

/** What a tab needs: the group (reloadable) and whether the viewer is family. */
export interface CareGroupContext {
  group: CareGroup;
  family: boolean;
  reload: () => void;
  showTab: (id: string) => void;
}

export const careGroupScreen: Screen = async ({ root, params, query: q }) => {
  const gid = Number(params[0]);
  clear(root, loading());
  let group: CareGroup;
  try {
    group = await care.group(gid);
  } catch (err) {
    clear(root, h('p', { class: 'breadcrumb' }, h('a', { href: '/care' }, `← ${t('care.title')}`)),
      h('p', { class: 'empty-state', role: 'alert', testid: 'care-group-error' }, errorText(err)));
    return;
  }
  document.title = `${group.name} | ${t('app.name')}`;
  const family = session.user?.occupation === 'family';
  let control: { select: (id: string, focus?: boolean) => void } | null = null;
  const ctx: CareGroupContext = {
    group,
    family,
    reload: () => navigate(location.pathname + location.search, true),
    showTab: (id) => control?.select(id, true),
  };

  const specs: TabSpec[] = [];
  const add = (id: string, label: string, tab: { panel: HTMLElement; show: () => void }) =>
    specs.push({ id, label, panel: tab.panel, onShow: tab.show });
  const postParam = Number(q.get('post') ?? '') || undefined;
  add('timeline', t('care.tab.timeline'), timelineTab(ctx, postParam));
  if (!family) {
    add('messages', t('care.tab.messages'), messagesTab(ctx));
    add('board', t('care.tab.board'), boardTab(ctx));
    add('schedule', t('care.tab.schedule'), scheduleTab(ctx));
    add('series', t('care.tab.series'), seriesTab(ctx));
  }
  add('members', t('care.tab.members'), membersTab(ctx));
  const ids = specs.map((s) => s.id);
  const initial = ids.includes(q.get('tab') ?? '') ? (q.get('tab') as string) : 'timeline';
  const view = tabs(specs, {
    label: group.name,
    initial,
    onChange: (id) => {
      const url = id === 'timeline' ? `/care/groups/${gid}` : `/care/groups/${gid}?tab=${id}`;
      if (location.pathname + location.search !== url) history.replaceState(null, '', url);
    },
  });
  control = view;
  const owner = group.members?.find((m) => m.role === 'owner');
  clear(root,
    h('p', { class: 'breadcrumb no-print' }, h('a', { href: '/care' }, `← ${t('care.title')}`)),
    h('div', { class: 'page-head care-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1', testid: 'care-group-title' }, group.name),
        h('p', { class: 'lead' },
          family ? null : h('a', { href: `/patients/${group.regional_id}`, class: 'no-print' },
            `${t('patients.regionalId')} ${regionalIdText(group.regional_id)}`),
          owner ? h('span', { class: 'field-hint' }, ` ${t('care.owner')}: ${owner.display_name}（${tDynamic('occupation', owner.occupation)}）`) : null)),
      group.archived ? h('span', { class: 'chip care-archived', testid: 'care-archived' }, t('care.archived')) : null),
    group.approval === 'pending' || group.approval === 'rejected'
      ? h('p', { class: 'notice notice-warn', testid: 'care-approval-notice' }, t(`care.approval.${group.approval}`))
      : group.archived ? h('p', { class: 'notice notice-warn' }, t('care.archivedNotice')) : null,
    h('section', { class: 'card care-card' }, view.element));
};

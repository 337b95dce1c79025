// Care SNS entry: my care groups (with unread counts), search across them,
// e-mail notification settings, and creating a group from a patient.
import { h, clear } from '../ui/dom';
import { t, formatDateTime } from '../i18n';
import { pageTitle, loading } from '../ui/layout';
import { inputField, selectField, formError, busy, submitButton } from '../ui/forms';
import { openDialog } from '../ui/dialog';
import { toast } from '../ui/toast';
import { navigate, type Screen } from '../router';
import { session } from '../session';
import { care, type CareGroup, type UnreadCounts, type NotificationSettings } from '../api/care';
import type { Patient } from '../api/types';
import { regionalIdText } from './patient_common';
import { emptyState, errorText, isMissingRoute, postTime, readBadge } from './care_common';
import { onCareFrame } from './care_live';

/** Staff who may open a group for a patient their facility has linked. */
export function mayCreateGroup(): boolean {
  const occ = session.user?.occupation;
  return occ === 'physician' || occ === 'care_manager';
}

/** Dialog: name the new group for a patient; opens it once created. */
export function createGroupDialog(patient: Pick<Patient, 'regional_id' | 'name'>): void {
  const error = formError();
  const name = inputField({
    label: t('care.groupName'), name: 'name', required: true, maxlength: 100,
    value: t('care.groupNameDefault', { name: patient.name }), testid: 'care-group-name',
  });
  const submit = submitButton(t('care.createGroup'), 'care-group-create');
  const form = h('form', {
    novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      if (!name.input.value.trim()) {
        error.show(t('care.groupNameRequired'));
        name.input.focus();
        return;
      }
      try {
        const group = await busy(submit, () => care.createGroup(patient.regional_id, name.input.value.trim()));
        dialog.close();
        toast(t('care.groupCreated'), 'success');
        navigate(`/care/groups/${group.id}?tab=members`);
      } catch (err) {
        error.show(errorText(err));
      }
    },
  }, error.el,
  h('p', null, t('care.createGroupLead', { name: patient.name, rid: regionalIdText(patient.regional_id) })),
  name.wrap,
  h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, t('common.cancel')), submit));
  const dialog = openDialog(t('care.createGroup'), form);
  name.input.focus();
}

/**
 * The patient page's "care group" action: opens the patient's active group
 * when I am a member, else offers to create one.
 */
export function careGroupButton(patient: Patient): HTMLElement {
  const button = h('button', {
    type: 'button', class: 'button', testid: 'care-group-open',
    onclick: async () => {
      try {
        const groups = await busy(button, () => care.groups());
        const mine = groups.find((g) => g.regional_id === patient.regional_id && !g.archived);
        if (mine) {
          navigate(`/care/groups/${mine.id}`);
        } else if (mayCreateGroup()) {
          createGroupDialog(patient);
        } else {
          toast(t('care.noGroupForPatient'));
        }
      } catch (err) {
        toast(errorText(err), 'error');
      }
    },
  }, t('care.groupButton'));
  return button;
}

function notificationPanel(): HTMLElement {
  const panel = h('section', { class: 'card care-settings', testid: 'care-notifications' },
    h('h2', { class: 'section-title' }, t('care.notify.title')), loading());
  void (async () => {
    let settings: NotificationSettings;
    try {
      settings = await care.notificationSettings();
    } catch (err) {
      clear(panel, h('h2', { class: 'section-title' }, t('care.notify.title')),
        h('p', { class: 'field-hint' }, isMissingRoute(err) ? t('care.notAvailable') : errorText(err)));
      return;
    }
    const select = selectField({
      label: t('care.notify.email'), name: 'email', value: settings.email, testid: 'care-notify-email',
      options: (['immediate', 'digest', 'off'] as const).map((v) => ({ value: v, label: t(`care.notify.${v}`) })),
    });
    const save = submitButton(t('common.save'), 'care-notify-save');
    const error = formError();
    clear(panel, h('h2', { class: 'section-title' }, t('care.notify.title')),
      h('form', {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hide();
          try {
            settings = await busy(save, () => care.saveNotificationSettings(select.select.value as NotificationSettings['email']));
            toast(t('care.notify.saved'), 'success');
          } catch (err) {
            error.show(errorText(err));
          }
        },
      }, error.el, select.wrap,
      settings.address_known ? null : h('p', { class: 'notice notice-warn' }, t('care.notify.noAddress')),
      h('p', { class: 'field-hint' }, t('care.notify.hint')),
      h('div', { class: 'actions' }, save)));
  })();
  return panel;
}

function searchSection(): HTMLElement {
  const results = h('div', { 'aria-live': 'polite' });
  const input = h('input', {
    type: 'search', class: 'input', name: 'q', 'aria-label': t('care.searchAll'),
    placeholder: t('care.searchPlaceholder'), testid: 'care-search-all',
  });
  const form = h('form', {
    class: 'care-search', role: 'search',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const q = input.value.trim();
      if (!q) {
        clear(results);
        return;
      }
      clear(results, loading());
      try {
        const items = await care.search(q);
        clear(results, items.length
          ? h('ul', { class: 'care-search-results', testid: 'care-search-results' }, items.map((p) =>
            h('li', null, h('a', { href: `/care/groups/${p.group_id}?post=${p.id}`, class: 'care-search-hit' },
              h('span', { class: 'chip' }, p.group_name ?? ''), ' ',
              h('strong', null, p.title || t(`care.kind.${p.kind}`)), ' ',
              h('span', { class: 'field-hint' }, `${p.author_name} · ${postTime(p)}`), ' ',
              readBadge(p.read_count, p.audience_count),
              p.body ? h('span', { class: 'care-snippet' }, p.body.slice(0, 120)) : null))))
          : emptyState(t('care.searchNone'), 'care-search-empty'));
      } catch (err) {
        clear(results, h('p', { class: 'empty-state' }, isMissingRoute(err) ? t('care.notAvailable') : errorText(err)));
      }
    },
  }, input, h('button', { type: 'submit', class: 'button' }, t('common.search')));
  return h('section', { class: 'card' }, h('h2', { class: 'section-title' }, t('care.searchAll')), form, results);
}

function groupList(groups: CareGroup[], unread: UnreadCounts | null): HTMLElement {
  if (!groups.length) {
    return emptyState(mayCreateGroup() ? t('care.noGroupsCreate') : t('care.noGroups'), 'care-groups-empty',
      mayCreateGroup() ? h('a', { href: '/patients', class: 'button primary' }, t('care.toPatients')) : null);
  }
  const counts = new Map((unread?.groups ?? []).map((g) => [g.group_id, g]));
  const sorted = [...groups].sort((a, b) => Number(a.archived) - Number(b.archived));
  return h('ul', { class: 'care-groups', testid: 'care-groups' }, sorted.map((g) => {
    const c = counts.get(g.id);
    return h('li', null, h('a', { href: `/care/groups/${g.id}`, class: g.archived ? 'care-group-tile archived' : 'care-group-tile', testid: `care-group-${g.id}` },
      h('span', { class: 'tile-title' }, g.name),
      h('span', { class: 'tile-body' }, t('care.createdOn', { date: formatDateTime(g.created_at) })),
      h('span', { class: 'care-counts' },
        g.archived ? h('span', { class: 'chip' }, t('care.archived')) : null,
        c?.unread_posts ? h('span', { class: 'care-unread', testid: 'unread-posts' }, t('care.unreadPosts', { n: c.unread_posts })) : null,
        c?.unread_messages ? h('span', { class: 'care-unread', testid: 'unread-messages' }, t('care.unreadMessages', { n: c.unread_messages })) : null)));
  }));
}

export const careGroupsScreen: Screen = async ({ root }) => {
  document.title = `${t('care.title')} | ${t('app.name')}`;
  const listSlot = h('div', null, loading());
  clear(root,
    pageTitle(t('care.title')),
    h('p', { class: 'lead' }, t('care.lead')),
    session.user && session.user.occupation !== 'family'
      ? h('p', { class: 'field-hint', testid: 'care-my-number' }, t('care.members.myNumber', { id: session.user.id })) : null,
    h('section', { class: 'card' }, h('h2', { class: 'section-title' }, t('care.myGroups')), listSlot),
    session.user?.occupation === 'family' ? null : searchSection(),
    notificationPanel());
  const load = async () => {
    try {
      const [groups, unread] = await Promise.all([care.groups(), care.unread().catch(() => null)]);
      clear(listSlot, groupList(groups, unread));
    } catch (err) {
      clear(listSlot, h('p', { class: 'empty-state', role: 'alert' }, errorText(err)));
    }
  };
  await load();
  onCareFrame(listSlot, () => void load());
};

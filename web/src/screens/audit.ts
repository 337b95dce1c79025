// Audit log search: who did what to which patient, when and from where.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDateTime, hasKey } from '../i18n';
import { api, query } from '../api/client';
import type { AuditEvent, Facility, User } from '../api/types';
import { inputField, selectField, toHalfWidth, type SelectOption } from '../ui/forms';
import { dataTable, pager } from '../ui/table';
import { pageTitle, loading } from '../ui/layout';
import { ja } from '../i18n/ja';
import { session } from '../session';
import type { Screen } from '../router';

const kPageSize = 50;

export function actionLabel(action: string): string {
  const key = `action.${action}`;
  return hasKey(key) ? tDynamic('action', action) : action;
}

/** Start of a Japan-time calendar day as an ISO UTC timestamp. */
export function jstDayStart(date: string): string {
  return new Date(`${date}T00:00:00.000+09:00`).toISOString();
}

export function jstDayEnd(date: string): string {
  return new Date(`${date}T23:59:59.999+09:00`).toISOString();
}

export function auditTable(items: AuditEvent[], facilities: Map<number, string>, options: { withPatient: boolean; empty: string }): HTMLElement {
  return dataTable<AuditEvent>(
    [
      { label: t('audit.time'), cell: (e) => h('time', { datetime: e.time }, formatDateTime(e.time)) },
      {
        label: t('audit.user'),
        cell: (e) => [h('span', null, e.user_name || (e.user_id ? `#${e.user_id}` : '')), e.occupation ? h('span', { class: 'sub' }, tDynamic('occupation', e.occupation)) : null] as never,
      },
      { label: t('audit.facility'), cell: (e) => (e.facility_id ? facilities.get(e.facility_id) ?? `#${e.facility_id}` : '') },
      { label: t('audit.action'), cell: (e) => [h('span', null, actionLabel(e.action)), e.reason ? h('span', { class: 'sub' }, `${t('audit.reason')}: ${e.reason}`) : null] as never },
      ...(options.withPatient ? [{ label: t('audit.patient'), cell: (e: AuditEvent) => (e.patient_id ? h('span', { class: 'mono' }, e.patient_id) : '') }] : []),
      { label: t('audit.outcome'), cell: (e) => h('span', { class: `status status-${e.outcome}` }, tDynamic('outcome', e.outcome)) },
      { label: t('audit.client'), cell: (e) => h('span', { class: 'mono' }, e.client_address) },
    ],
    items,
    { empty: options.empty, caption: t('audit.title'), testid: 'audit-table', rowTestId: (e) => `audit-${e.seq}` },
  );
}

export const auditScreen: Screen = async ({ root, query: q }) => {
  const actor = session.user;
  if (!actor) return;
  document.title = `${t('audit.title')} | ${t('app.name')}`;
  const isNetwork = actor.role === 'network_admin';
  clear(root, pageTitle(t('audit.title')), loading());

  let facilityList: Facility[] = [];
  try {
    facilityList = isNetwork ? (await api.get<{ items: Facility[] }>('/facilities', { quiet: true })).items : [];
  } catch {
    facilityList = [];
  }
  const facilityNames = new Map<number, string>(facilityList.map((f) => [f.id, f.name]));
  facilityNames.set(actor.facility_id, actor.facility_name);

  const facility = selectField({
    label: t('audit.facility'), name: 'facility_id', testid: 'audit-facility',
    options: isNetwork
      ? [{ value: '', label: t('audit.anyFacility') }, ...facilityList.map((f) => ({ value: String(f.id), label: f.name }))]
      : [{ value: String(actor.facility_id), label: actor.facility_name }],
    value: isNetwork ? q.get('facility_id') ?? '' : String(actor.facility_id),
  });
  if (!isNetwork) facility.select.disabled = true;
  const user = selectField({ label: t('audit.user'), name: 'user_id', options: [{ value: '', label: t('audit.anyUser') }], testid: 'audit-user' });
  const patient = inputField({ label: t('audit.patient'), name: 'patient_id', inputmode: 'numeric', value: q.get('patient_id') ?? '', testid: 'audit-patient' });
  const actionOptions: SelectOption[] = Object.keys(ja)
    .filter((k) => k.startsWith('action.'))
    .map((k) => k.slice('action.'.length))
    .map((a) => ({ value: a, label: actionLabel(a) }));
  const action = selectField({ label: t('audit.action'), name: 'action', options: [{ value: '', label: t('audit.anyAction') }, ...actionOptions], value: q.get('action') ?? '', testid: 'audit-action' });
  const from = inputField({ label: t('audit.from'), name: 'from', type: 'date', value: q.get('from') ?? '', testid: 'audit-from' });
  const to = inputField({ label: t('audit.to'), name: 'to', type: 'date', value: q.get('to') ?? '', testid: 'audit-to' });
  const list = h('div', { 'aria-live': 'polite' });
  let offset = Number(q.get('offset') ?? 0) || 0;

  const loadUsers = async (wanted: string) => {
    const fid = facility.select.value;
    clear(user.select, h('option', { value: '' }, t('audit.anyUser')));
    user.select.disabled = !fid;
    if (!fid) return;
    try {
      const users = (await api.get<{ items: User[] }>(`/facilities/${fid}/users`, { quiet: true })).items;
      for (const u of users) user.select.append(h('option', { value: String(u.id) }, `${u.display_name}（${u.login_id}）`));
      user.select.value = wanted;
    } catch {
      user.select.disabled = true;
    }
  };

  const reload = async () => {
    const filters = {
      facility_id: facility.select.value,
      user_id: user.select.value,
      patient_id: toHalfWidth(patient.input.value).replace(/[\s-]/g, ''),
      action: action.select.value,
      from: from.input.value,
      to: to.input.value,
    };
    history.replaceState(null, '', `/audit${query({ ...filters, offset: offset || undefined })}`);
    clear(list, loading());
    let page: { items: AuditEvent[]; total?: number };
    try {
      page = await api.get(`/audit${query({
        ...filters,
        from: filters.from ? jstDayStart(filters.from) : '',
        to: filters.to ? jstDayEnd(filters.to) : '',
        limit: kPageSize,
        offset,
      })}`);
    } catch {
      clear(list, h('p', { class: 'empty-state' }, t('error.generic')));
      return;
    }
    const total = page.total ?? page.items.length;
    clear(
      list,
      auditTable(page.items, facilityNames, { withPatient: true, empty: t('audit.empty') }),
      pager(total, offset, kPageSize, (next) => { offset = next; void reload(); }),
    );
  };

  facility.select.addEventListener('change', () => void loadUsers(''));
  await loadUsers(q.get('user_id') ?? '');

  const verifyResult = h('p', { class: 'verify-result', role: 'status' });
  const verify = isNetwork
    ? h('button', {
        type: 'button', class: 'button', testid: 'audit-verify',
        onclick: async () => {
          try {
            const r = await api.get<{ ok: boolean; checked: number; first_bad_seq?: number }>('/audit/verify');
            verifyResult.className = r.ok ? 'notice notice-ok' : 'notice notice-warn';
            verifyResult.textContent = r.ok ? t('audit.verifyOk', { checked: r.checked }) : t('audit.verifyBad', { seq: r.first_bad_seq ?? '?' });
          } catch {
            // The client already showed the error.
          }
        },
      }, t('audit.verify'))
    : null;

  const form = h('form', {
    class: 'filters', role: 'search',
    onsubmit: (e: Event) => { e.preventDefault(); offset = 0; void reload(); },
  },
  facility.wrap, user.wrap, patient.wrap, action.wrap, from.wrap, to.wrap,
  h('div', { class: 'filters-actions' },
    h('button', { type: 'submit', class: 'button primary', testid: 'audit-search' }, t('common.search')),
    h('button', {
      type: 'button', class: 'button',
      onclick: () => {
        if (isNetwork) facility.select.value = '';
        void loadUsers('');
        patient.input.value = ''; action.select.value = ''; from.input.value = ''; to.input.value = '';
        offset = 0;
        void reload();
      },
    }, t('common.clear'))));

  clear(
    root,
    pageTitle(t('audit.title'), verify),
    verifyResult,
    h('section', { class: 'card' }, form),
    h('section', { class: 'card' }, h('p', { class: 'field-hint' }, t('audit.timezone')), list),
  );
  await reload();
};

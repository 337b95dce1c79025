// Secretariat: participating facilities (search, filters) and a facility's detail.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDateTime } from '../i18n';
import { api, ApiError, query } from '../api/client';
import { kFacilityTypes, type Area, type Facility } from '../api/types';
import { inputField, selectField, switchField, formatPostcode } from '../ui/forms';
import { dataTable } from '../ui/table';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import { staffPanel } from './staff';
import { session } from '../session';
import type { Screen } from '../router';

export async function loadAreas(): Promise<Area[]> {
  try {
    return (await api.get<{ items: Area[] }>('/areas', { quiet: true })).items;
  } catch {
    return [];
  }
}

export const facilitiesScreen: Screen = async ({ root, query: q }) => {
  document.title = `${t('facilities.title')} | ${t('app.name')}`;
  const areas = await loadAreas();
  const search = inputField({ label: t('facilities.search'), name: 'q', type: 'search', value: q.get('q') ?? '', testid: 'facility-q' });
  const type = selectField({
    label: t('facilities.type'), name: 'type', value: q.get('type') ?? '', testid: 'facility-type',
    options: [{ value: '', label: t('common.all') }, ...kFacilityTypes.map((v) => ({ value: v, label: tDynamic('facilityType', v) }))],
  });
  const area = selectField({
    label: t('facilities.area'), name: 'area', value: q.get('area') ?? '', testid: 'facility-area',
    options: [{ value: '', label: t('common.all') }, ...areas.map((a) => ({ value: a.code, label: a.name }))],
  });
  const list = h('div', null, loading());

  const reload = async () => {
    const params = { q: search.input.value.trim(), type: type.select.value, area: area.select.value };
    history.replaceState(null, '', `/facilities${query(params)}`);
    clear(list, loading());
    let items: Facility[];
    try {
      items = (await api.get<{ items: Facility[] }>(`/facilities${query(params)}`)).items;
    } catch {
      clear(list, h('p', { class: 'empty-state' }, t('error.generic')));
      return;
    }
    clear(list, dataTable<Facility>(
      [
        {
          label: t('facilities.name'),
          cell: (f) => [h('a', { href: `/facilities/${f.id}`, class: 'strong-link' }, f.name), h('span', { class: 'sub' }, f.kana)] as never,
        },
        { label: t('facilities.type'), cell: (f) => tDynamic('facilityType', f.type) },
        { label: t('facilities.code'), cell: (f) => (f.code ? h('span', { class: 'mono' }, f.code) : '') },
        { label: t('facilities.area'), cell: (f) => f.area_name || f.area },
        { label: t('facilities.phone'), cell: (f) => f.phone },
        { label: t('common.status'), cell: (f) => tDynamic('facilityStatus', f.status) },
      ],
      items,
      { empty: t('facilities.empty'), caption: t('facilities.title'), testid: 'facilities-table' },
    ));
  };

  const form = h('form', {
    class: 'filters',
    role: 'search',
    onsubmit: (e: Event) => { e.preventDefault(); void reload(); },
  }, search.wrap, type.wrap, area.wrap, h('div', { class: 'filters-actions' }, h('button', { type: 'submit', class: 'button primary' }, t('common.search'))));
  type.select.addEventListener('change', () => void reload());
  area.select.addEventListener('change', () => void reload());

  clear(root, pageTitle(t('facilities.title')), h('section', { class: 'card' }, form), h('section', { class: 'card' }, list));
  await reload();
};

function facilityFacts(f: Facility): HTMLElement {
  const row = (label: string, value: string | Node) => [h('dt', null, label), h('dd', null, value || t('common.none'))];
  return h('dl', { class: 'dl dl-grid' },
    row(t('facilities.type'), tDynamic('facilityType', f.type)),
    row(t('facilities.code'), f.code),
    row(t('facilities.area'), f.area_name || f.area),
    row(t('facilities.address'), [f.postcode ? `〒${formatPostcode(f.postcode)} ` : '', f.address].join('')),
    row(t('facilities.phone'), f.phone),
    row(t('facilities.departments'), (f.departments ?? []).join('、')),
    row(t('facilities.services'), (f.services ?? []).join('、')),
    row(t('common.status'), tDynamic('facilityStatus', f.status)),
    row(t('common.createdAt'), formatDateTime(f.created_at)),
  );
}

/** The require_mfa switch, saved at once. */
export function requireMfaSwitch(f: Facility): HTMLElement {
  const sw = switchField({ label: t('settings.requireMfa'), name: 'require_mfa', checked: f.require_mfa, hint: t('settings.requireMfaHint'), testid: 'require-mfa' });
  sw.input.addEventListener('change', async () => {
    const wanted = sw.input.checked;
    sw.input.disabled = true;
    try {
      const updated = await api.patch<Facility>(`/facilities/${f.id}`, { require_mfa: wanted });
      sw.input.checked = updated?.require_mfa ?? wanted;
      toast(t('settings.saved'), 'success');
    } catch {
      sw.input.checked = !wanted;
    } finally {
      sw.input.disabled = false;
    }
  });
  return sw.wrap;
}

export const facilityDetailScreen: Screen = async ({ root, params }) => {
  const id = Number(params[0]);
  clear(root, loading());
  let f: Facility;
  try {
    f = await api.get<Facility>(`/facilities/${id}`, { quiet: true });
  } catch (err) {
    clear(root, pageTitle(t('facilities.detail')), h('p', { class: 'empty-state' }, err instanceof ApiError ? err.userMessage : t('error.generic')));
    return;
  }
  document.title = `${f.name} | ${t('app.name')}`;
  const staff = h('div');
  const user = session.user;
  clear(
    root,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/facilities' }, `← ${t('facilities.title')}`)),
    pageTitle(f.name),
    h('p', { class: 'lead' }, f.kana),
    h('section', { class: 'card' }, facilityFacts(f), user?.role === 'network_admin' ? requireMfaSwitch(f) : null),
    h('section', { class: 'card' }, staff),
  );
  await staffPanel(staff, f.id, f.name);
};

export const settingsScreen: Screen = async ({ root }) => {
  const user = session.user;
  if (!user) return;
  document.title = `${t('settings.title')} | ${t('app.name')}`;
  clear(root, loading());
  let f: Facility;
  try {
    f = await api.get<Facility>(`/facilities/${user.facility_id}`, { quiet: true });
  } catch (err) {
    clear(root, pageTitle(t('settings.title')), h('p', { class: 'empty-state' }, err instanceof ApiError ? err.userMessage : t('error.generic')));
    return;
  }
  clear(
    root,
    pageTitle(t('settings.title')),
    h('p', { class: 'lead' }, f.name),
    h('section', { class: 'card' }, requireMfaSwitch(f)),
    h('section', { class: 'card' }, h('h2', { class: 'section-title' }, t('facilities.detail')), facilityFacts(f)),
  );
};

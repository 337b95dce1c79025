// Patient search, registration and the patient page.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDate, formatDateTime, ageOn } from '../i18n';
import { api, ApiError, query } from '../api/client';
import { kSexes, type AuditEvent, type Patient, type Sex } from '../api/types';
import { inputField, selectField, formError, busy, submitButton, toHalfWidth, toKatakana, formatPostcode } from '../ui/forms';
import { dataTable, pager } from '../ui/table';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import { navigate, type Screen } from '../router';
import { auditTable } from './audit';
import { session } from '../session';

const kPageSize = 20;

function birthWithAge(birth: string): string {
  const age = ageOn(birth);
  return age === null ? formatDate(birth) : `${formatDate(birth)}（${t('patients.age', { age })}）`;
}

/** The local IDs to show: the user's own facility's when linked, else all. */
function localIds(p: Patient): string {
  const links = p.links ?? [];
  const mine = links.filter((l) => l.facility_id === session.user?.facility_id);
  return (mine.length ? mine : links).map((l) => l.local_id).filter(Boolean).join(', ');
}

function regionalIdText(id: string): string {
  return id.replace(/^(\d{4})(\d{4})(\d{4})$/, '$1-$2-$3');
}

export const patientsScreen: Screen = async ({ root, query: q }) => {
  document.title = `${t('patients.title')} | ${t('app.name')}`;
  const text = inputField({ label: t('patients.q'), name: 'q', type: 'search', value: q.get('q') ?? '', hint: t('patients.qHint'), testid: 'patient-q', autofocus: true });
  const birth = inputField({ label: t('patients.birthDate'), name: 'birth_date', type: 'date', value: q.get('birth_date') ?? '', testid: 'patient-birth' });
  const localId = inputField({ label: t('patients.localId'), name: 'local_id', value: q.get('local_id') ?? '', testid: 'patient-local-id' });
  const regionalId = inputField({ label: t('patients.regionalId'), name: 'regional_id', inputmode: 'numeric', value: q.get('regional_id') ?? '', testid: 'patient-regional-id' });
  const results = h('div', { 'aria-live': 'polite', testid: 'patient-results' }, h('p', { class: 'empty-state' }, t('patients.prompt')));
  let offset = Number(q.get('offset') ?? 0) || 0;

  const search = async () => {
    const params = {
      q: text.input.value.trim(),
      birth_date: birth.input.value,
      local_id: toHalfWidth(localId.input.value),
      regional_id: toHalfWidth(regionalId.input.value).replace(/[\s-]/g, ''),
    };
    history.replaceState(null, '', `/patients${query({ ...params, offset: offset || undefined })}`);
    clear(results, loading());
    let page: { items: Patient[]; total?: number };
    try {
      page = await api.get(`/patients${query({ ...params, limit: kPageSize, offset })}`);
    } catch {
      clear(results, h('p', { class: 'empty-state' }, t('error.generic')));
      return;
    }
    const total = page.total ?? page.items.length;
    clear(
      results,
      page.items.length ? h('p', { class: 'result-count' }, t('patients.resultsCount', { total })) : null,
      dataTable<Patient>(
        [
          {
            label: t('patients.name'),
            cell: (p) => [h('a', { href: `/patients/${p.regional_id}`, class: 'strong-link', testid: 'patient-link' }, p.name), h('span', { class: 'sub' }, p.kana)] as never,
          },
          { label: t('patients.birthDate'), cell: (p) => birthWithAge(p.birth_date) },
          { label: t('patients.sex'), cell: (p) => tDynamic('sex', p.sex) },
          { label: t('patients.regionalId'), cell: (p) => h('span', { class: 'mono' }, regionalIdText(p.regional_id)) },
          { label: t('patients.localIdShort'), cell: (p) => localIds(p) },
        ],
        page.items,
        { empty: t('patients.empty'), caption: t('patients.title'), testid: 'patients-table', rowTestId: (p) => `patient-${p.regional_id}` },
      ),
      pager(total, offset, kPageSize, (next) => { offset = next; void search(); }),
    );
  };

  const form = h('form', {
    class: 'filters', role: 'search',
    onsubmit: (e: Event) => { e.preventDefault(); offset = 0; void search(); },
  },
  h('div', { class: 'filters-wide' }, text.wrap),
  birth.wrap, localId.wrap, regionalId.wrap,
  h('div', { class: 'filters-actions' }, h('button', { type: 'submit', class: 'button primary', testid: 'patient-search' }, t('common.search'))));

  clear(
    root,
    pageTitle(t('patients.title'), h('a', { href: '/patients/new', class: 'button primary', testid: 'patient-new' }, `＋ ${t('patients.new')}`)),
    h('section', { class: 'card' }, form),
    h('section', { class: 'card' }, results),
  );
  if (['q', 'birth_date', 'local_id', 'regional_id'].some((k) => q.get(k))) await search();
  text.input.focus();
};

export const patientNewScreen: Screen = ({ root }) => {
  document.title = `${t('patients.newTitle')} | ${t('app.name')}`;
  const error = formError();
  const name = inputField({ label: t('patients.name'), name: 'name', required: true, testid: 'pt-name', autofocus: true });
  const kana = inputField({ label: t('patients.kana'), name: 'kana', required: true, testid: 'pt-kana' });
  kana.input.addEventListener('blur', () => { kana.input.value = toKatakana(kana.input.value.trim()); });
  const birth = inputField({ label: t('patients.birthDate'), name: 'birth_date', type: 'date', required: true, testid: 'pt-birth' });
  const sex = selectField({ label: t('patients.sex'), name: 'sex', required: true, options: kSexes.map((s) => ({ value: s, label: tDynamic('sex', s) })), value: 'female', testid: 'pt-sex' });
  const postcode = inputField({ label: t('patients.postcode'), name: 'postcode', inputmode: 'numeric', hint: t('apply.postcodeHint'), testid: 'pt-postcode' });
  const address = inputField({ label: t('patients.address'), name: 'address', testid: 'pt-address' });
  const phone = inputField({ label: t('patients.phone'), name: 'phone', type: 'tel', testid: 'pt-phone' });
  const localId = inputField({ label: t('patients.localId'), name: 'local_id', testid: 'pt-local-id' });
  const submit = submitButton(t('patients.register'), 'pt-submit');

  const form = h('form', {
    class: 'form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      const kanaValue = toKatakana(kana.input.value.trim());
      if (!/^[\u30A0-\u30FF\u3000\s・ー]+$/.test(kanaValue)) {
        error.show(t('patients.kanaInvalid'));
        kana.input.focus();
        return;
      }
      try {
        const p = await busy(submit, () => api.post<Patient>('/patients', {
          name: name.input.value.trim(),
          kana: kanaValue,
          birth_date: birth.input.value,
          sex: sex.select.value as Sex,
          postcode: toHalfWidth(postcode.input.value) || undefined,
          address: address.input.value.trim() || undefined,
          phone: toHalfWidth(phone.input.value) || undefined,
          local_id: toHalfWidth(localId.input.value) || undefined,
        }, { quiet: true }));
        toast(t('patients.registered', { id: regionalIdText(p.regional_id) }), 'success');
        navigate(`/patients/${p.regional_id}`);
      } catch (err) {
        error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
      }
    },
  },
  error.el,
  h('div', { class: 'grid-2' }, name.wrap, kana.wrap),
  h('div', { class: 'grid-2' }, birth.wrap, sex.wrap),
  h('div', { class: 'grid-2' }, postcode.wrap, phone.wrap),
  address.wrap,
  localId.wrap,
  h('div', { class: 'actions' }, h('a', { href: '/patients', class: 'button' }, t('common.cancel')), submit));

  clear(
    root,
    h('div', { class: 'narrow' },
      h('p', { class: 'breadcrumb' }, h('a', { href: '/patients' }, `← ${t('patients.title')}`)),
      pageTitle(t('patients.newTitle')),
      h('p', { class: 'lead' }, t('patients.newLead')),
      h('section', { class: 'card' }, form)),
  );
  name.input.focus();
};

export const patientScreen: Screen = async ({ root, params }) => {
  const rid = params[0] ?? '';
  clear(root, loading());
  let p: Patient;
  try {
    p = await api.get<Patient>(`/patients/${encodeURIComponent(rid)}`, { quiet: true });
  } catch (err) {
    clear(root, h('p', { class: 'breadcrumb' }, h('a', { href: '/patients' }, `← ${t('patients.title')}`)),
      h('p', { class: 'empty-state', role: 'alert' }, err instanceof ApiError ? err.userMessage : t('error.generic')));
    return;
  }
  document.title = `${p.name} | ${t('app.name')}`;

  const row = (label: string, value: string) => [h('dt', null, label), h('dd', null, value || t('common.none'))];
  const basic = h('div', null,
    h('dl', { class: 'dl dl-grid', testid: 'patient-demographics' },
      row(t('patients.name'), p.name),
      row(t('patients.kana'), p.kana),
      row(t('patients.birthDate'), birthWithAge(p.birth_date)),
      row(t('patients.sex'), tDynamic('sex', p.sex)),
      row(t('patients.regionalId'), regionalIdText(p.regional_id)),
      row(t('patients.postcode'), p.postcode ? formatPostcode(p.postcode) : ''),
      row(t('patients.address'), p.address),
      row(t('patients.phone'), p.phone),
      row(t('common.createdAt'), formatDateTime(p.created_at))),
    h('h2', { class: 'section-title' }, t('patients.links')),
    dataTable(
      [
        { label: t('patients.facility'), cell: (l: Patient['links'][number]) => l.facility_name },
        { label: t('patients.localIdShort'), cell: (l: Patient['links'][number]) => h('span', { class: 'mono' }, l.local_id) },
      ],
      p.links ?? [],
      { empty: t('patients.linksEmpty'), testid: 'patient-links' },
    ));

  const history = h('div', null);
  let historyLoaded = false;
  const loadHistory = async () => {
    if (historyLoaded) return;
    historyLoaded = true;
    clear(history, loading());
    try {
      const events = (await api.get<{ items: AuditEvent[] }>(`/patients/${encodeURIComponent(rid)}/access-log`)).items;
      const facilities = new Map<number, string>((p.links ?? []).map((l) => [l.facility_id, l.facility_name]));
      const me = session.user;
      if (me) facilities.set(me.facility_id, me.facility_name);
      clear(history, h('p', { class: 'field-hint' }, `${t('patients.accessLogLead')} ${t('audit.timezone')}`),
        auditTable(events, facilities, { withPatient: false, empty: t('patients.accessLogEmpty') }));
    } catch {
      historyLoaded = false;
      clear(history, h('p', { class: 'empty-state' }, t('error.generic')));
    }
  };

  const tabs = [
    { id: 'basic', label: t('patients.basic'), panel: basic },
    { id: 'access', label: t('patients.accessLog'), panel: history },
  ];
  const tabButtons: HTMLButtonElement[] = [];
  const panels = tabs.map((tab) => h('div', { role: 'tabpanel', id: `panel-${tab.id}`, 'aria-labelledby': `tab-${tab.id}`, tabindex: '0', class: 'tab-panel' }, tab.panel));
  const select = (index: number, focus = false) => {
    tabButtons.forEach((b, i) => {
      b.setAttribute('aria-selected', String(i === index));
      b.tabIndex = i === index ? 0 : -1;
      const panel = panels[i];
      if (panel) panel.hidden = i !== index;
    });
    if (focus) tabButtons[index]?.focus();
    if (tabs[index]?.id === 'access') void loadHistory();
  };
  tabs.forEach((tab, i) => {
    tabButtons.push(h('button', {
      type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': `panel-${tab.id}`, class: 'tab', testid: `tab-${tab.id}`,
      onclick: () => select(i),
      onkeydown: (e: KeyboardEvent) => {
        if (e.key === 'ArrowRight') select((i + 1) % tabs.length, true);
        if (e.key === 'ArrowLeft') select((i + tabs.length - 1) % tabs.length, true);
      },
    }, tab.label));
  });

  clear(
    root,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/patients' }, `← ${t('patients.title')}`)),
    h('div', { class: 'page-head patient-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1', testid: 'patient-name' }, p.name),
        h('p', { class: 'lead' }, h('span', null, p.kana), ' ', h('span', { class: 'chip' }, tDynamic('sex', p.sex)), ' ',
          h('span', null, birthWithAge(p.birth_date)))),
      h('p', { class: 'rid' }, h('span', { class: 'sub' }, t('patients.regionalId')), h('span', { class: 'mono big', testid: 'patient-rid' }, regionalIdText(p.regional_id)))),
    h('section', { class: 'card' },
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': p.name }, tabButtons),
      panels),
  );
  select(0);
};

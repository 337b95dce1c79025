// Patient search, registration and the patient page.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDate, formatDateTime, ageOn } from '../i18n';
import { api, ApiError, query } from '../api/client';
import { kSexes, type AuditEvent, type Candidate, type Patient, type Sex } from '../api/types';
import { inputField, selectField, formError, busy, submitButton, toHalfWidth, toKatakana, formatPostcode } from '../ui/forms';
import { dataTable, pager } from '../ui/table';
import { tabs } from '../ui/tabs';
import { pageTitle, loading } from '../ui/layout';
import { toast } from '../ui/toast';
import { navigate, type Screen } from '../router';
import { auditTable } from './audit';
import { session } from '../session';
import { regionalIdText, type PatientTabContext } from './patient_common';
import { timelineTab } from './timeline';
import { labsTab } from './labs';
import { consentsTab } from './consents';
import { documentsTab } from './documents';
import { dispensingTab, mayUploadDispensings } from './dispensing';
import { candidatesTable, findCandidates, linkLocalId, linksSection, mergeSection } from './mpi';
import { careGroupButton } from './care_groups';

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
  const candidateSlot = h('div', { 'aria-live': 'polite' });
  // The demographics whose candidates the user has already reviewed.
  let reviewedKey = '';

  const register = async (kanaValue: string) => {
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
  };

  const linkTo = async (c: Candidate, button: HTMLButtonElement) => {
    error.hide();
    const id = toHalfWidth(localId.input.value);
    if (!id) {
      error.show(t('mpi.localIdNeeded'));
      localId.input.focus();
      return;
    }
    try {
      await busy(button, () => linkLocalId(c.regional_id, id, birth.input.value));
      toast(t('mpi.linked', { id }), 'success');
      navigate(`/patients/${c.regional_id}`);
    } catch (err) {
      error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
    }
  };

  const showCandidates = (items: Candidate[], kanaValue: string) => {
    const registerAnyway = h('button', { type: 'button', class: 'button', testid: 'register-anyway' }, t('mpi.registerAnyway'));
    registerAnyway.addEventListener('click', () => void register(kanaValue));
    clear(candidateSlot, h('section', { class: 'card candidates', testid: 'candidates', 'aria-labelledby': 'candidates-title' },
      h('h2', { id: 'candidates-title', class: 'section-title', tabindex: '-1' }, t('mpi.foundTitle', { count: items.length })),
      h('p', { class: 'field-hint' }, t('mpi.foundLead')),
      candidatesTable(items, (c) => {
        if (c.linked_here) {
          return h('a', { href: `/patients/${c.regional_id}`, class: 'button small', testid: 'open-candidate' }, t('mpi.alreadyHere'));
        }
        const b = h('button', { type: 'button', class: 'button small primary', testid: 'link-candidate' }, t('mpi.linkExisting'));
        b.addEventListener('click', () => void linkTo(c, b));
        return b;
      }, ''),
      h('div', { class: 'actions' }, registerAnyway)));
    candidateSlot.querySelector<HTMLElement>('h2')?.focus();
  };

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
      const q = {
        kana: kanaValue,
        birth_date: birth.input.value,
        sex: sex.select.value as Sex,
        phone: toHalfWidth(phone.input.value),
        postcode: toHalfWidth(postcode.input.value).replace(/\D/g, ''),
      };
      const key = JSON.stringify(q);
      if (key !== reviewedKey) {
        // Look for the same person first, so that no duplicate is registered.
        let items: Candidate[] = [];
        try {
          items = (await busy(submit, () => findCandidates(q))).items ?? [];
        } catch (err) {
          if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 403)) {
            error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
            return;
          }
        }
        reviewedKey = key;
        if (items.length) {
          showCandidates(items, kanaValue);
          return;
        }
      }
      clear(candidateSlot);
      await register(kanaValue);
    },
  },
  error.el,
  h('div', { class: 'grid-2' }, name.wrap, kana.wrap),
  h('div', { class: 'grid-2' }, birth.wrap, sex.wrap),
  h('div', { class: 'grid-2' }, postcode.wrap, phone.wrap),
  address.wrap,
  localId.wrap,
  h('p', { class: 'field-hint' }, t('mpi.checkHint')),
  h('div', { class: 'actions' }, h('a', { href: '/patients', class: 'button' }, t('common.cancel')), submit));

  clear(
    root,
    h('div', { class: 'narrow' },
      h('p', { class: 'breadcrumb' }, h('a', { href: '/patients' }, `← ${t('patients.title')}`)),
      pageTitle(t('patients.newTitle')),
      h('p', { class: 'lead' }, t('patients.newLead')),
      h('section', { class: 'card' }, form),
      candidateSlot),
  );
  name.input.focus();
};

export const patientScreen: Screen = async ({ root, params, query: q }) => {
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
  const withDispensing = mayUploadDispensings();
  const tabIds = ['basic', 'timeline', 'labs', 'documents', 'consents', 'access', ...(withDispensing ? ['dispensing'] : [])];
  const initialTab = tabIds.includes(q.get('tab') ?? '') ? (q.get('tab') as string) : 'basic';
  let tabControl: { select: (id: string, focus?: boolean) => void } | null = null;
  const ctx: PatientTabContext = {
    patient: p,
    showTab: (id) => tabControl?.select(id, true),
    reload: () => navigate(`/patients/${p.regional_id}${location.search}`, true),
  };
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
    linksSection(ctx),
    mergeSection(ctx));

  const accessPanel = h('div', null);
  let historyLoaded = false;
  const loadHistory = async () => {
    if (historyLoaded) return;
    historyLoaded = true;
    clear(accessPanel, loading());
    try {
      const events = (await api.get<{ items: AuditEvent[] }>(`/patients/${encodeURIComponent(rid)}/access-log`)).items;
      const facilities = new Map<number, string>((p.links ?? []).map((l) => [l.facility_id, l.facility_name]));
      const me = session.user;
      if (me) facilities.set(me.facility_id, me.facility_name);
      clear(accessPanel, h('p', { class: 'field-hint' }, `${t('patients.accessLogLead')} ${t('audit.timezone')}`),
        auditTable(events, facilities, { withPatient: false, empty: t('patients.accessLogEmpty') }));
    } catch {
      historyLoaded = false;
      clear(accessPanel, h('p', { class: 'empty-state' }, t('error.generic')));
    }
  };

  const timeline = timelineTab(ctx);
  const labs = labsTab(ctx);
  const consents = consentsTab(ctx);
  const documents = documentsTab(ctx);
  const dispensing = withDispensing ? dispensingTab(ctx) : null;
  const tabView = tabs([
    { id: 'basic', label: t('patients.basic'), panel: basic },
    { id: 'timeline', label: t('patients.timeline'), panel: timeline.panel, onShow: timeline.show },
    { id: 'labs', label: t('patients.labs'), panel: labs.panel, onShow: labs.show },
    { id: 'documents', label: t('patients.documents'), panel: documents.panel, onShow: documents.show },
    { id: 'consents', label: t('patients.consents'), panel: consents.panel, onShow: consents.show },
    ...(dispensing ? [{ id: 'dispensing', label: t('patients.dispensing'), panel: dispensing.panel, onShow: dispensing.show }] : []),
    { id: 'access', label: t('patients.accessLog'), panel: accessPanel, onShow: () => void loadHistory() },
  ], {
    label: p.name,
    initial: initialTab,
    onChange: (id) => {
      const url = id === 'basic' ? `/patients/${p.regional_id}` : `/patients/${p.regional_id}?tab=${id}`;
      if (location.pathname + location.search !== url) history.replaceState(null, '', url);
    },
  });
  tabControl = tabView;

  clear(
    root,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/patients' }, `← ${t('patients.title')}`)),
    h('div', { class: 'page-head patient-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1', testid: 'patient-name' }, p.name),
        h('p', { class: 'lead' }, h('span', null, p.kana), ' ', h('span', { class: 'chip' }, tDynamic('sex', p.sex)), ' ',
          h('span', null, birthWithAge(p.birth_date)))),
      h('p', { class: 'rid' }, h('span', { class: 'sub' }, t('patients.regionalId')), h('span', { class: 'mono big', testid: 'patient-rid' }, regionalIdText(p.regional_id))),
      h('p', { class: 'no-print' }, careGroupButton(p))),
    h('section', { class: 'card patient-card' }, tabView.element),
  );
};

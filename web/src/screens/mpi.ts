// Master patient index: candidate matches by demographics, linking a local
// patient ID to a regional patient, unlinking, and (secretariat) merging.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDate } from '../i18n';
import { api, ApiError, query } from '../api/client';
import {
  kMatchFields, type Candidate, type CandidateAnswer, type Facility, type LinkAnswer, type MergeAnswer,
  type Patient, type PatientLink, type Sex,
} from '../api/types';
import { inputField, selectField, formError, busy, submitButton, toHalfWidth } from '../ui/forms';
import { dataTable } from '../ui/table';
import { confirmDialog } from '../ui/dialog';
import { toast } from '../ui/toast';
import { loading } from '../ui/layout';
import { session } from '../session';
import { navigate } from '../router';
import { facilities, regionalIdText, type PatientTabContext } from './patient_common';

export interface CandidateQuery {
  kana: string;
  birth_date: string;
  sex?: Sex | '';
  phone?: string;
  postcode?: string;
}

export function findCandidates(q: CandidateQuery): Promise<CandidateAnswer> {
  return api.get<CandidateAnswer>(`/patients/candidates${query({
    kana: q.kana, birth_date: q.birth_date, sex: q.sex, phone: q.phone, postcode: q.postcode,
  })}`, { quiet: true });
}

function matchChips(c: Candidate): HTMLElement {
  return h('ul', { class: 'match-list', 'aria-label': t('mpi.matched') },
    kMatchFields.map((f) => {
      const level = c.match?.[f] ?? 'missing';
      return h('li', { class: `match match-${level}`, testid: `match-${f}`, 'data-level': level },
        h('span', { class: 'match-field' }, tDynamic('mpi.field', f)), ' ',
        h('span', { class: 'match-level' }, tDynamic('mpi.level', level)));
    }));
}

function scoreView(c: Candidate): HTMLElement {
  return h('div', { class: 'score', testid: 'candidate-score' },
    h('meter', { min: '0', max: '100', low: '60', high: '95', optimum: '100', value: String(c.score), 'aria-hidden': 'true' }),
    h('strong', null, t('mpi.score', { score: c.score })),
    c.auto_link ? h('span', { class: 'status status-on' }, t('mpi.autoLink')) : null);
}

function whoView(c: Candidate): (Node | string)[] {
  if (c.name) {
    return [h('strong', null, c.name), h('span', { class: 'sub' },
      [c.kana, c.birth_date ? formatDate(c.birth_date) : '', c.sex ? tDynamic('sex', c.sex) : ''].filter(Boolean).join('・'))];
  }
  return [h('strong', { class: 'masked', testid: 'candidate-masked' }, c.kana_masked),
    h('span', { class: 'sub' }, t('mpi.otherFacility'))];
}

/**
 * The candidates table. `action` renders the per-row control (link, open,
 * merge); rows with no action show nothing there.
 */
export function candidatesTable(
  items: Candidate[],
  action: (c: Candidate) => Node | null,
  empty: string,
): HTMLElement {
  return dataTable<Candidate>(
    [
      { label: t('mpi.candidate'), cell: (c) => whoView(c) as never },
      { label: t('patients.regionalId'), cell: (c) => h('span', { class: 'mono' }, regionalIdText(c.regional_id)) },
      { label: t('mpi.scoreLabel'), cell: (c) => scoreView(c) },
      { label: t('mpi.matched'), cell: (c) => matchChips(c) },
      { label: t('common.actions'), cell: (c) => action(c) ?? '' },
    ],
    items,
    { empty, caption: t('mpi.candidates'), testid: 'candidates-table', rowTestId: (c) => `candidate-${c.regional_id}` },
  );
}

/** Links the user's local ID to an existing regional patient. */
export function linkLocalId(rid: string, localId: string, birthDate: string, facilityId?: number): Promise<LinkAnswer> {
  return api.post<LinkAnswer>(`/patients/${encodeURIComponent(rid)}/links`, {
    local_id: localId, birth_date: birthDate, facility_id: facilityId,
  }, { quiet: true });
}

/** The 基本情報 tab's links section: list, unlink, and a link form. */
export function linksSection(ctx: PatientTabContext): HTMLElement {
  const p = ctx.patient;
  const me = session.user;
  const admin = me?.role === 'network_admin';
  const mayUnlink = (l: PatientLink) => admin || l.facility_id === me?.facility_id;

  const unlink = async (l: PatientLink, button: HTMLButtonElement) => {
    const ok = await confirmDialog(t('mpi.unlinkConfirm', { facility: l.facility_name, id: l.local_id }), t('mpi.unlink'), true);
    if (!ok) return;
    try {
      await busy(button, () => api.del(`/patients/${encodeURIComponent(p.regional_id)}/links/${l.facility_id}/${encodeURIComponent(l.local_id)}`));
      toast(t('mpi.unlinked'), 'success');
      const stillSeen = admin || (p.links ?? []).some((o) => o !== l && o.facility_id === me?.facility_id);
      if (stillSeen) ctx.reload();
      else navigate('/patients');
    } catch {
      // The client showed the error.
    }
  };

  const table = dataTable<PatientLink>(
    [
      { label: t('patients.facility'), cell: (l) => l.facility_name },
      { label: t('patients.localIdShort'), cell: (l) => h('span', { class: 'mono' }, l.local_id) },
      {
        label: t('common.actions'),
        cell: (l) => {
          if (!mayUnlink(l)) return '';
          const b = h('button', { type: 'button', class: 'button small danger-outline', testid: 'unlink' }, t('mpi.unlink'));
          b.addEventListener('click', () => void unlink(l, b));
          return b;
        },
      },
    ],
    p.links ?? [],
    { empty: t('patients.linksEmpty'), testid: 'patient-links', rowTestId: (l) => `link-${l.facility_id}-${l.local_id}` },
  );

  // Link form: own facility (staff) or any facility (secretariat).
  const error = formError();
  const localId = inputField({
    label: admin ? t('patients.localIdShort') : t('patients.localId'), name: 'local_id', required: true, testid: 'link-local-id',
  });
  const facilitySlot = h('div');
  let facilitySelect: HTMLSelectElement | null = null;
  if (admin) {
    void facilities().then((list: Facility[]) => {
      const sel = selectField({
        label: t('patients.facility'), name: 'facility_id', required: true, testid: 'link-facility',
        options: list.map((f) => ({ value: String(f.id), label: f.name })),
      });
      facilitySelect = sel.select;
      clear(facilitySlot, sel.wrap);
    }).catch(() => undefined);
  }
  const submit = submitButton(t('mpi.link'), 'link-submit');
  const form = h('form', {
    class: 'form inline-form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      const id = toHalfWidth(localId.input.value);
      if (!id) {
        error.show(t('mpi.localIdMissing'));
        return;
      }
      try {
        await busy(submit, () => linkLocalId(p.regional_id, id, p.birth_date, facilitySelect ? Number(facilitySelect.value) : undefined));
        toast(t('mpi.linked', { id }), 'success');
        ctx.reload();
      } catch (err) {
        error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
      }
    },
  }, error.el, h('div', { class: 'grid-2' }, facilitySlot, h('div')), h('div', { class: 'inline-row' }, localId.wrap, submit));

  return h('section', { class: 'links', testid: 'links-section' },
    h('h2', { class: 'section-title' }, t('patients.links')),
    table,
    h('h3', { class: 'subsection-title' }, t('mpi.linkTitle')),
    h('p', { class: 'field-hint' }, admin ? t('mpi.linkLeadAdmin') : t('mpi.linkLead', { facility: me?.facility_name ?? '' })),
    form);
}

/** Secretariat only: find duplicates of this patient and merge them into it. */
export function mergeSection(ctx: PatientTabContext): HTMLElement | null {
  if (session.user?.role !== 'network_admin') return null;
  const p = ctx.patient;
  const results = h('div', { 'aria-live': 'polite' });
  const error = formError();
  const duplicate = inputField({
    label: t('mpi.duplicateId'), name: 'duplicate', inputmode: 'numeric', testid: 'merge-duplicate',
    placeholder: t('mpi.duplicateHint'),
  });

  const merge = async (dupId: string, button?: HTMLButtonElement) => {
    error.hide();
    const id = toHalfWidth(dupId).replace(/[\s-]/g, '');
    if (!/^\d{12}$/.test(id)) {
      error.show(t('mpi.duplicateInvalid'));
      return;
    }
    if (id === p.regional_id) {
      error.show(t('mpi.duplicateSelf'));
      return;
    }
    let dup: Patient;
    try {
      dup = await api.get<Patient>(`/patients/${id}`, { quiet: true });
    } catch (err) {
      error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
      return;
    }
    const ok = await confirmDialog(t('mpi.mergeConfirm', {
      dup: `${regionalIdText(dup.regional_id)}（${dup.name}・${formatDate(dup.birth_date)}）`,
      keep: `${regionalIdText(p.regional_id)}（${p.name}・${formatDate(p.birth_date)}）`,
    }), t('mpi.merge'), true);
    if (!ok) return;
    const run = () => api.post<MergeAnswer>(`/patients/${encodeURIComponent(p.regional_id)}/merge`, { duplicate_regional_id: id }, { quiet: true });
    try {
      const answer = button ? await busy(button, run) : await run();
      toast(t('mpi.merged', { links: answer.links_moved, consents: answer.consents_moved }), 'success');
      ctx.reload();
    } catch (err) {
      error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
    }
  };

  const searchButton = h('button', { type: 'button', class: 'button', testid: 'find-duplicates' }, t('mpi.findDuplicates'));
  searchButton.addEventListener('click', () => void busy(searchButton, async () => {
    clear(results, loading());
    try {
      const answer = await findCandidates({ kana: p.kana, birth_date: p.birth_date, sex: p.sex, phone: p.phone, postcode: p.postcode });
      const others = answer.items.filter((c) => c.regional_id !== p.regional_id);
      clear(results, candidatesTable(others, (c) => {
        const b = h('button', { type: 'button', class: 'button small danger-outline', testid: 'merge-candidate' }, t('mpi.mergeThis'));
        b.addEventListener('click', () => void merge(c.regional_id, b));
        return b;
      }, t('mpi.noDuplicates')));
    } catch (err) {
      clear(results, h('p', { class: 'empty-state' }, err instanceof ApiError ? err.userMessage : t('error.generic')));
    }
  }));
  const mergeButton = h('button', { type: 'submit', class: 'button danger', testid: 'merge-submit' }, t('mpi.merge'));
  const form = h('form', {
    class: 'form inline-form',
    onsubmit: (e: Event) => { e.preventDefault(); void merge(duplicate.input.value, mergeButton); },
  }, error.el, h('div', { class: 'inline-row' }, duplicate.wrap, mergeButton));

  return h('section', { class: 'merge', testid: 'merge-section' },
    h('h2', { class: 'section-title' }, t('mpi.mergeTitle')),
    h('p', { class: 'field-hint' }, t('mpi.mergeLead')),
    h('p', null, searchButton),
    results,
    form);
}

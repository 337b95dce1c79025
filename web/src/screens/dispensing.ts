// お薬手帳データ取込: a pharmacy (or a clinic that dispenses in-house)
// uploads a JAHIS electronic medication notebook file for the patient. The
// file is checked first (a dry run shows what would be stored, with any
// problems per line); the user then confirms, and the dispensings join the
// patient's timeline and the duplicate-medication check.
import { h, clear, uid } from '../ui/dom';
import { t, formatDate } from '../i18n';
import { ApiError, upload } from '../api/client';
import type { DispensingImport, DispensingImportEvent, DispensingImportMedication } from '../api/types';
import { busy, formError } from '../ui/forms';
import { dataTable } from '../ui/table';
import { navigate } from '../router';
import { session } from '../session';
import { warningBanner } from './timeline';
import type { PatientTabContext } from './patient_common';

/** The server's limit (docs/jahis.md). */
const kMaxBytes = 2 * 1024 * 1024;

/** Occupations that may upload notebook files (the server decides too). */
export function mayUploadDispensings(): boolean {
  const me = session.user;
  if (!me || me.role === 'network_admin') return false;
  return me.occupation === 'pharmacist' || me.occupation === 'physician' || me.occupation === 'dentist';
}

function send(rid: string, file: File, dryRun: boolean): Promise<DispensingImport> {
  const path = `/patients/${encodeURIComponent(rid)}/dispensings${dryRun ? '?dry_run=true' : ''}`;
  return upload<DispensingImport>(path, file, 'text/csv', undefined, { quiet: true });
}

/** A user-facing text for a refused upload. */
function problemText(err: unknown): string {
  if (!(err instanceof ApiError)) return t('error.generic');
  if (err.status === 403) return t('dispensing.forbidden');
  if (err.status === 413) return t('dispensing.tooLarge');
  if (err.status === 400 && /different person/.test(err.message)) return t('dispensing.differentPerson');
  if (err.status === 400 && err.message) return t('dispensing.badFile', { message: err.message });
  return err.userMessage;
}

function period(m: DispensingImportMedication): string {
  if (!m.end || m.end === m.start) return formatDate(m.start);
  return t('timeline.period', { from: formatDate(m.start), to: formatDate(m.end) });
}

function eventCard(e: DispensingImportEvent): HTMLElement {
  const prescriber = [e.prescriber.name, e.prescriber.department, e.prescriber.doctor].filter(Boolean).join(' ');
  return h('section', { class: 'card dispensing-event', testid: 'dispensing-event' },
    h('h4', { class: 'section-title' }, formatDate(e.date), ' ', h('span', { class: 'sub-inline' }, e.pharmacy.name)),
    h('p', { class: 'field-hint' },
      prescriber ? t('dispensing.prescriber', { prescriber }) : null,
      e.pharmacist ? ['　', t('dispensing.pharmacist', { name: e.pharmacist })] : null),
    dataTable<DispensingImportMedication>([
      { label: t('dispensing.rp'), cell: (m) => `Rp.${m.rp}` },
      { label: t('dispensing.drug'), cell: (m) => m.name },
      { label: t('timeline.dose'), cell: (m) => (m.dose ? `${m.dose}${m.unit}` : '') },
      { label: t('timeline.frequency'), cell: (m) => m.usage },
      { label: t('dispensing.quantity'), cell: (m) => (m.quantity ? `${m.quantity}${m.quantity_unit}` : '') },
      { label: t('dispensing.form'), cell: (m) => m.dosage_form },
      { label: t('dispensing.period'), cell: (m) => period(m) },
      { label: t('timeline.yj'), cell: (m) => (m.yj_code ? h('span', { class: 'mono' }, m.yj_code) : '') },
    ], e.medications, { empty: t('dispensing.noDrugs'), caption: t('dispensing.drugs'), testid: 'dispensing-drugs' }));
}

function problemList(summary: DispensingImport): HTMLElement | null {
  if (!summary.problems.length) return null;
  return h('section', { class: 'notice notice-info', role: 'note', testid: 'dispensing-problems' },
    h('h4', { class: 'notice-title' }, t('dispensing.problems', { count: summary.problems.length })),
    h('ul', null, summary.problems.map((p) => h('li', null, t('dispensing.problemLine', { line: p.line, message: p.message })))));
}

export function dispensingTab(ctx: PatientTabContext): { panel: HTMLElement; show: () => void } {
  const rid = ctx.patient.regional_id;
  const panel = h('div', { class: 'dispensing', testid: 'dispensing' });
  const error = formError();
  const fileId = uid('jahis-file');
  const hintId = `${fileId}-hint`;
  const fileInput = h('input', {
    id: fileId, type: 'file', accept: '.csv,.txt,.dat,text/csv,text/plain',
    class: 'input file-input', 'aria-describedby': hintId, testid: 'dispensing-file',
  });
  const previewSlot = h('div', { 'aria-live': 'polite' });
  const resultSlot = h('div', { 'aria-live': 'polite' });
  let chosen: File | null = null;

  const reset = () => {
    chosen = null;
    fileInput.value = '';
    clear(previewSlot);
  };

  const confirm = async (button: HTMLButtonElement) => {
    if (!chosen) return;
    error.hide();
    try {
      const done = await busy(button, () => send(rid, chosen as File, false));
      reset();
      clear(resultSlot,
        h('div', { class: 'notice notice-info', role: 'status', tabindex: '-1', testid: 'dispensing-result' },
          h('p', null, t('dispensing.done', { count: done.medications, inserted: done.inserted, unchanged: done.unchanged + done.updated })),
          h('p', { class: 'notice-actions' },
            h('a', {
              href: `/patients/${rid}?tab=timeline`, class: 'button primary', testid: 'dispensing-to-timeline',
              onclick: (e: Event) => { e.preventDefault(); navigate(`/patients/${rid}?tab=timeline`); },
            }, t('dispensing.toTimeline')))),
        warningBanner(done.medication_warnings));
      resultSlot.querySelector<HTMLElement>('[data-testid="dispensing-result"]')?.focus();
    } catch (err) {
      error.show(problemText(err));
    }
  };

  const preview = async () => {
    const file = fileInput.files?.[0] ?? null;
    error.hide();
    clear(previewSlot);
    clear(resultSlot);
    chosen = null;
    if (!file) return;
    if (file.size === 0) {
      error.show(t('dispensing.empty'));
      return;
    }
    if (file.size > kMaxBytes) {
      error.show(t('dispensing.tooLarge'));
      return;
    }
    clear(previewSlot, h('p', { class: 'field-hint' }, t('dispensing.checking')));
    let summary: DispensingImport;
    try {
      summary = await send(rid, file, true);
    } catch (err) {
      clear(previewSlot);
      error.show(problemText(err));
      return;
    }
    chosen = file;
    const confirmButton = h('button', { type: 'button', class: 'button primary', testid: 'dispensing-confirm' }, t('dispensing.confirm'));
    confirmButton.addEventListener('click', () => void confirm(confirmButton));
    clear(previewSlot,
      h('section', { class: 'dispensing-preview', testid: 'dispensing-preview', 'aria-labelledby': `${fileId}-preview` },
        h('h3', { id: `${fileId}-preview`, class: 'section-title', tabindex: '-1' },
          t('dispensing.previewTitle', { events: summary.events.length, count: summary.medications })),
        h('p', { class: 'field-hint' }, t('dispensing.encoding', { encoding: summary.encoding })),
        problemList(summary),
        summary.events.map(eventCard),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'button', onclick: reset, testid: 'dispensing-cancel' }, t('common.cancel')),
          confirmButton)));
    previewSlot.querySelector<HTMLElement>('h3')?.focus();
  };
  fileInput.addEventListener('change', () => void preview());

  const me = session.user;
  const linked = (ctx.patient.links ?? []).some((l) => l.facility_id === me?.facility_id);
  clear(panel,
    h('h2', { class: 'section-title' }, t('dispensing.title')),
    h('p', { class: 'lead' }, t('dispensing.lead')),
    linked
      ? h('div', { class: 'form' },
        error.el,
        h('div', { class: 'field' },
          h('label', { for: fileId, class: 'field-label' }, t('dispensing.file')),
          fileInput,
          h('p', { class: 'field-hint', id: hintId }, t('dispensing.fileHint'))),
        previewSlot)
      : h('p', { class: 'notice notice-info', role: 'note', testid: 'dispensing-not-linked' },
        t('dispensing.notLinked'), ' ',
        h('a', {
          href: `/patients/${rid}`,
          onclick: (e: Event) => { e.preventDefault(); ctx.showTab('basic'); },
        }, t('patients.basic'))),
    resultSlot);

  return { panel, show: () => { /* static until a file is chosen */ } };
}

// 文書 (clinical documents): referral letters, discharge summaries, reports
// and scanned images of the patient that the viewer may see, with an upload
// form for staff of a facility where the patient is registered, and a viewer
// (PDF in a frame, images inline, FHIR Document Bundles rendered as text).
import { h, clear, uid, type Child } from '../ui/dom';
import { t, formatDate, dayOf, todayInJapan } from '../i18n';
import { api, apiUrl, ApiError, fetchBlob, upload } from '../api/client';
import type { DocumentItem, DocumentPage } from '../api/types';
import { busy, formError, inputField, selectField } from '../ui/forms';
import { dataTable } from '../ui/table';
import { openDialog } from '../ui/dialog';
import { loading } from '../ui/layout';
import { session } from '../session';
import { showClinicalError, consentNotice, othersCovered, ownDataNote, type PatientTabContext } from './patient_common';

/** The server's limit (docs/documents.md). */
const kMaxBytes = 32 * 1024 * 1024;

/** The document types offered in the form (LOINC). */
const kDocumentTypes = ['57133-1', '18842-5', '60591-5', '11526-1', '18748-4'] as const;

/** Occupations whose data categories include documents (the server decides too). */
const kWriters = ['physician', 'dentist', 'nurse', 'visiting_nurse', 'pharmacist', 'therapist', 'care_manager', 'social_worker'];

function mayUpload(ctx: PatientTabContext): boolean {
  const me = session.user;
  if (!me || me.role === 'network_admin' || !kWriters.includes(me.occupation)) return false;
  return (ctx.patient.links ?? []).some((l) => l.facility_id === me.facility_id);
}

/** The content type the server expects for a chosen file, or '' when unsupported. */
export function contentTypeOf(file: File): string {
  const name = file.name.toLowerCase();
  if (file.type === 'application/pdf' || name.endsWith('.pdf')) return 'application/pdf';
  if (file.type === 'image/jpeg' || name.endsWith('.jpg') || name.endsWith('.jpeg')) return 'image/jpeg';
  if (file.type === 'image/png' || name.endsWith('.png')) return 'image/png';
  if (file.type === 'application/fhir+json' || file.type === 'application/json' || name.endsWith('.json')) {
    return 'application/fhir+json';
  }
  return '';
}

function typeLabel(doc: DocumentItem): string {
  const key = `documentType.${doc.type_code}`;
  return (kDocumentTypes as readonly string[]).includes(doc.type_code)
    ? t(key as 'documentType.57133-1')
    : doc.type_display || doc.type_code;
}

function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** A user-facing text for a refused upload. */
function problemText(err: unknown): string {
  if (!(err instanceof ApiError)) return t('error.generic');
  if (err.status === 403) return t('documents.forbidden');
  if (err.status === 413) return t('documents.tooLarge');
  if (err.status === 409) return t('documents.conflict');
  if (err.status === 400 && err.message) return t('documents.badFile', { message: err.message });
  return err.userMessage;
}

// --- FHIR Document Bundle ---------------------------------------------------

type Json = Record<string, unknown>;

function obj(v: unknown): Json | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * The plain text of a narrative (XHTML). Parsed in an inert document (no
 * scripts run, nothing loads) and only its text is shown, never its markup.
 */
export function narrativeText(div: string): string {
  if (!div) return '';
  const doc = new DOMParser().parseFromString(div, 'text/html');
  doc.querySelectorAll('br').forEach((br) => br.replaceWith('\n'));
  doc.querySelectorAll('p, div, li, tr, h1, h2, h3, h4, h5, h6').forEach((el) => el.append('\n'));
  return (doc.body.textContent ?? '').replace(/\n{3,}/g, '\n\n').trim();
}

function sectionView(section: Json, depth: number): HTMLElement {
  const heading = depth === 0 ? 'h4' : 'h5';
  const text = narrativeText(str(obj(section.text)?.div));
  return h('section', { class: 'doc-section', testid: 'doc-section' },
    str(section.title) ? h(heading, { class: 'section-title' }, str(section.title)) : null,
    text ? h('p', { class: 'doc-text', style: 'white-space:pre-wrap' }, text) : null,
    list(section.section).map((s) => (obj(s) ? sectionView(obj(s) as Json, depth + 1) : null)));
}

/** The Composition of a Document Bundle as safe text. */
export function compositionView(bundleText: string): HTMLElement {
  let bundle: Json | null = null;
  try {
    bundle = obj(JSON.parse(bundleText));
  } catch {
    bundle = null;
  }
  const composition = obj(obj(list(bundle?.entry)[0])?.resource);
  if (!composition || composition.resourceType !== 'Composition') {
    return h('p', { class: 'empty-state', role: 'alert' }, t('documents.unreadable'));
  }
  const authors = list(composition.author).map((a) => str(obj(a)?.display)).filter(Boolean).join('、');
  const date = str(composition.date);
  return h('article', { class: 'doc-composition', testid: 'doc-composition' },
    h('h3', { class: 'section-title' }, str(composition.title) || t('documents.untitled')),
    h('p', { class: 'field-hint' },
      date ? t('documents.dateLine', { date: formatDate(dayOf(date)) }) : null,
      authors ? ['　', t('documents.authorLine', { author: authors })] : null),
    list(composition.section).map((s) => (obj(s) ? sectionView(obj(s) as Json, 0) : null)));
}

// --- viewer -------------------------------------------------------------------

/** Opens a document: PDF in a frame, images inline, Document Bundles rendered. */
export function openDocument(doc: { binary_id: string; content_type: string; title: string }): void {
  const url = apiUrl(`/documents/${encodeURIComponent(doc.binary_id)}/content`);
  const openLink = h('a', { href: url, target: '_blank', rel: 'noopener', class: 'button small', testid: 'doc-open-tab' },
    t('documents.openInTab'));
  const body = h('div', { class: 'doc-viewer', testid: 'doc-viewer' });
  openDialog(doc.title || t('documents.untitled'), body, { wide: true });
  if (doc.content_type === 'application/pdf') {
    clear(body,
      h('iframe', { src: url, class: 'doc-frame', style: 'width:100%;height:70vh;border:1px solid #ccc', title: doc.title || t('documents.untitled'), testid: 'doc-frame' }),
      h('p', { class: 'field-hint' }, t('documents.pdfHint'), ' ', openLink));
    return;
  }
  if (doc.content_type.startsWith('image/')) {
    clear(body,
      h('img', { src: url, alt: doc.title || t('documents.untitled'), class: 'doc-image', style: 'max-width:100%;height:auto', testid: 'doc-image' }),
      h('p', null, openLink));
    return;
  }
  clear(body, loading());
  fetchBlob(`/documents/${encodeURIComponent(doc.binary_id)}/content`, { quiet: true })
    .then((blob) => blob.text())
    .then((text) => clear(body, compositionView(text)))
    .catch((err: unknown) => {
      const gone = err instanceof ApiError && err.status === 404;
      clear(body, h('p', { class: 'empty-state', role: 'alert' }, gone ? t('documents.notVisible') : t('error.generic')));
    });
}

/** The document behind a timeline item, when its content is stored here. */
export function documentOfTimelineItem(item: { summary: Record<string, string>; display: string }):
  { binary_id: string; content_type: string; title: string } | null {
  const url = item.summary.url ?? '';
  if (!url.startsWith('Binary/')) return null;
  return { binary_id: url.slice('Binary/'.length), content_type: item.summary.content_type ?? '', title: item.summary.title || item.display };
}

// --- tab ------------------------------------------------------------------------

function uploadForm(ctx: PatientTabContext, onDone: (doc: DocumentItem) => void): HTMLElement {
  const rid = ctx.patient.regional_id;
  const error = formError();
  const fileId = uid('doc-file');
  const fileInput = h('input', {
    id: fileId, type: 'file', required: true, class: 'input file-input', testid: 'doc-file',
    accept: '.pdf,.json,.jpg,.jpeg,.png,application/pdf,application/fhir+json,application/json,image/jpeg,image/png',
    'aria-describedby': `${fileId}-hint`,
  });
  const type = selectField({
    label: t('documents.type'), name: 'type_code', required: true, testid: 'doc-type',
    options: kDocumentTypes.map((code) => ({ value: code, label: t(`documentType.${code}` as 'documentType.57133-1') })),
  });
  const title = inputField({ label: t('documents.titleField'), name: 'title', maxlength: 100, hint: t('documents.titleHint'), testid: 'doc-title' });
  const date = inputField({ label: t('documents.date'), name: 'date', type: 'date', required: true, value: todayInJapan(), testid: 'doc-date' });
  const author = inputField({ label: t('documents.author'), name: 'author', maxlength: 100, value: session.user?.display_name ?? '', testid: 'doc-author' });
  const descId = uid('doc-desc');
  const description = h('textarea', { id: descId, name: 'description', class: 'input', rows: '3', maxlength: 1000, testid: 'doc-description' });
  const progress = h('progress', { max: '100', value: '0', class: 'doc-progress', hidden: true, testid: 'doc-progress', 'aria-label': t('documents.uploading') });
  const submit = h('button', { type: 'submit', class: 'button primary', testid: 'doc-submit' }, t('documents.upload'));

  const form = h('form', { class: 'form doc-upload', testid: 'doc-upload', novalidate: true },
    h('h3', { class: 'section-title' }, t('documents.uploadTitle')),
    error.el,
    h('div', { class: 'field' },
      h('label', { for: fileId, class: 'field-label' }, t('documents.file'), h('span', { class: 'badge-required' }, t('common.required'))),
      fileInput,
      h('p', { class: 'field-hint', id: `${fileId}-hint` }, t('documents.fileHint'))),
    type.wrap, title.wrap, date.wrap, author.wrap,
    h('div', { class: 'field' },
      h('label', { for: descId, class: 'field-label' }, t('documents.description')),
      description),
    progress,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.hide();
    const file = fileInput.files?.[0];
    if (!file) return error.show(t('documents.noFile'));
    if (file.size === 0) return error.show(t('documents.empty.file'));
    if (file.size > kMaxBytes) return error.show(t('documents.tooLarge'));
    const contentType = contentTypeOf(file);
    if (!contentType) return error.show(t('documents.unsupported'));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date.input.value)) return error.show(t('documents.badDate'));
    const params = new URLSearchParams({
      type_code: type.select.value,
      title: title.input.value.trim() || file.name.replace(/\.[^.]+$/, ''),
      date: date.input.value,
      author: author.input.value.trim(),
      description: description.value.trim(),
    });
    progress.hidden = false;
    progress.value = 0;
    void busy(submit, async () => {
      try {
        const doc = await upload<DocumentItem>(`/patients/${encodeURIComponent(rid)}/documents?${params.toString()}`,
          file, contentType, (f) => { progress.value = Math.round(f * 100); }, { quiet: true });
        form.reset();
        date.input.value = todayInJapan();
        author.input.value = session.user?.display_name ?? '';
        onDone(doc);
      } catch (err) {
        error.show(problemText(err));
      } finally {
        progress.hidden = true;
      }
    });
  });
  return form;
}

export function documentsTab(ctx: PatientTabContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'clinical documents', testid: 'documents' });
  const rid = encodeURIComponent(ctx.patient.regional_id);
  const listSlot = h('div', { 'aria-live': 'polite' });
  const statusSlot = h('div', { 'aria-live': 'polite' });
  let loaded = false;

  const table = (items: DocumentItem[]): HTMLElement => dataTable<DocumentItem>([
    { label: t('documents.date'), cell: (d) => h('time', { datetime: dayOf(d.date) }, formatDate(dayOf(d.date))) },
    { label: t('documents.type'), cell: (d) => typeLabel(d) },
    { label: t('documents.titleField'), cell: (d) => h('span', { testid: 'doc-row-title' }, d.title) },
    { label: t('documents.source'), cell: (d) => d.source_facility_name },
    { label: t('documents.author'), cell: (d) => d.author },
    { label: t('documents.size'), cell: (d) => (d.size ? sizeText(d.size) : '') },
    {
      label: t('common.actions'),
      cell: (d) => (d.binary_id
        ? h('button', {
          type: 'button', class: 'button small', testid: 'doc-view',
          'aria-label': t('documents.viewFor', { title: d.title }),
          onclick: () => openDocument(d),
        }, t('documents.view'))
        : ''),
    },
  ], items, { empty: t('documents.empty'), caption: t('documents.title'), testid: 'documents-table', rowTestId: () => 'doc-row' });

  const load = async () => {
    clear(listSlot, loading());
    try {
      const [page, covered] = await Promise.all([
        api.get<DocumentPage>(`/patients/${rid}/documents`, { quiet: true }),
        othersCovered(ctx.patient.regional_id),
      ]);
      const notice: Child = covered !== false ? null : page.items.length ? ownDataNote(ctx) : consentNotice(ctx, false);
      clear(listSlot, notice, table(page.items));
    } catch (err) {
      loaded = false;
      showClinicalError(listSlot, err, ctx, () => { loaded = true; void load(); });
    }
  };

  const done = (doc: DocumentItem) => {
    clear(statusSlot, h('p', { class: 'notice notice-info', role: 'status', testid: 'doc-uploaded' },
      t('documents.uploaded', { title: doc.title })));
    void load();
  };

  clear(panel,
    h('div', { class: 'section-head' }, h('h2', { class: 'section-title' }, t('documents.title'))),
    h('p', { class: 'field-hint' }, t('documents.lead')),
    listSlot,
    statusSlot,
    mayUpload(ctx)
      ? uploadForm(ctx, done)
      : h('p', { class: 'notice notice-info', role: 'note', testid: 'doc-upload-unavailable' }, t('documents.uploadUnavailable')));

  return {
    panel,
    show: () => {
      if (loaded) return;
      loaded = true;
      void load();
    },
  };
}

// Consents (同意): list, record a new one with its signed form, view or
// download the form, withdraw (immediate, after a confirmation).
import { h, clear, uid } from '../ui/dom';
import { t, tDynamic, formatDate, formatDateTime, todayInJapan } from '../i18n';
import { api, ApiError, apiUrl, fetchBlob, upload } from '../api/client';
import { kConsentScopes, type Consent, type ConsentScope, type Facility, type NewConsent } from '../api/types';
import { inputField, selectField, formError, busy, submitButton } from '../ui/forms';
import { loading } from '../ui/layout';
import { confirmDialog, openDialog } from '../ui/dialog';
import { toast } from '../ui/toast';
import { session } from '../session';
import { facilities, facilityLabel, type PatientTabContext } from './patient_common';

export const kFormTypes = ['application/pdf', 'image/jpeg', 'image/png'];
export const kMaxFormBytes = 10 * 1024 * 1024;

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** Checks a chosen file before sending it; returns an error text or ''. */
export function formFileProblem(file: File): string {
  if (!kFormTypes.includes(file.type)) return t('consents.fileType');
  if (file.size === 0) return t('consents.fileEmpty');
  if (file.size > kMaxFormBytes) return t('consents.fileTooLarge');
  return '';
}

/** A file picker for the signed form: a file, or the phone's camera. */
function formPicker(): { wrap: HTMLElement; file: () => File | null; reset: () => void } {
  const fileId = uid('form-file');
  const hintId = `${fileId}-hint`;
  const fileInput = h('input', {
    id: fileId, type: 'file', accept: 'application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png',
    class: 'input file-input', 'aria-describedby': hintId, testid: 'consent-file',
  });
  const cameraInput = h('input', {
    type: 'file', accept: 'image/jpeg,image/png', capture: 'environment', class: 'visually-hidden',
    tabindex: '-1', 'aria-hidden': 'true', testid: 'consent-camera',
  });
  const chosen = h('p', { class: 'field-hint', 'aria-live': 'polite' });
  let picked: File | null = null;
  const update = (file: File | null) => {
    picked = file;
    clear(chosen, file ? t('consents.fileChosen', { name: file.name || 'photo', size: formatSize(file.size) }) : '');
  };
  fileInput.addEventListener('change', () => update(fileInput.files?.[0] ?? null));
  cameraInput.addEventListener('change', () => {
    const f = cameraInput.files?.[0] ?? null;
    if (f) fileInput.value = '';
    update(f);
  });
  const wrap = h('div', { class: 'field' },
    h('label', { for: fileId, class: 'field-label' }, t('consents.form')),
    fileInput,
    h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'button small camera-button', onclick: () => cameraInput.click() }, t('consents.camera'))),
    cameraInput,
    h('p', { class: 'field-hint', id: hintId }, t('consents.formHint')),
    chosen);
  return {
    wrap,
    file: () => picked,
    reset: () => {
      fileInput.value = '';
      cameraInput.value = '';
      update(null);
    },
  };
}

function progressBar(): { el: HTMLElement; set: (fraction: number) => void } {
  const bar = h('progress', { max: '100', value: '0', class: 'progress', testid: 'upload-progress' });
  const text = h('span', { class: 'progress-text' }, '0%');
  const el = h('div', { class: 'progress-wrap', hidden: true, role: 'status' },
    h('span', null, t('consents.uploading')), ' ', bar, ' ', text);
  return {
    el,
    set: (fraction: number) => {
      el.hidden = false;
      const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
      bar.value = pct;
      clear(text, `${pct}%`);
    },
  };
}

async function uploadForm(rid: string, consent: Consent, file: File, onProgress: (f: number) => void): Promise<Consent> {
  return upload<Consent>(`/patients/${encodeURIComponent(rid)}/consents/${consent.id}/form`, file, file.type, onProgress, { quiet: true });
}

function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status status-consent-${status}`, testid: 'consent-status' }, tDynamic('consentStatus', status));
}

async function viewForm(rid: string, consent: Consent): Promise<void> {
  const body = h('div', { class: 'form-viewer' }, loading());
  let url = '';
  openDialog(t('consents.formTitle'), body, { wide: true, onClose: () => { if (url) URL.revokeObjectURL(url); } });
  try {
    const blob = await fetchBlob(`/patients/${encodeURIComponent(rid)}/consents/${consent.id}/form`, { quiet: true });
    url = URL.createObjectURL(blob);
    const type = consent.form?.content_type ?? blob.type;
    clear(body,
      type === 'application/pdf'
        ? h('iframe', { src: url, title: t('consents.formTitle'), class: 'form-frame' })
        : h('img', { src: url, alt: t('consents.formAlt'), class: 'form-image', testid: 'form-image' }),
      h('p', { class: 'actions' },
        h('a', { href: url, download: `consent-${consent.id}${type === 'application/pdf' ? '.pdf' : type === 'image/png' ? '.png' : '.jpg'}`, class: 'button' },
          t('consents.download'))));
  } catch (err) {
    clear(body, h('p', { class: 'empty-state', role: 'alert' }, err instanceof ApiError ? err.userMessage : t('error.generic')));
  }
}

function uploadDialog(rid: string, consent: Consent, done: () => void): void {
  const picker = formPicker();
  const progress = progressBar();
  const error = formError();
  const submit = submitButton(t('consents.upload'), 'upload-submit');
  const form = h('form', {
    class: 'form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      const file = picker.file();
      if (!file) {
        error.show(t('consents.fileMissing'));
        return;
      }
      const problem = formFileProblem(file);
      if (problem) {
        error.show(problem);
        return;
      }
      try {
        await busy(submit, () => uploadForm(rid, consent, file, progress.set));
        toast(t('consents.uploaded'), 'success');
        handle.close();
        done();
      } catch (err) {
        error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
      }
    },
  }, error.el, picker.wrap, progress.el,
  h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button', onclick: () => handle.close() }, t('common.cancel')), submit));
  const handle = openDialog(t('consents.uploadTitle'), form);
}

function consentList(rid: string, items: Consent[], refresh: () => void): HTMLElement {
  if (!items.length) {
    return h('div', { class: 'empty-state', testid: 'consents-empty' },
      h('p', null, t('consents.empty')));
  }
  const withdraw = async (c: Consent, button: HTMLButtonElement) => {
    const ok = await confirmDialog(
      t('consents.withdrawConfirm', { scope: tDynamic('consentScope', c.scope), viewer: facilityLabel(c.viewer_facility_id, c.viewer_facility_name) }),
      t('consents.withdraw'), true);
    if (!ok) return;
    try {
      await busy(button, () => api.post<Consent>(`/patients/${encodeURIComponent(rid)}/consents/${c.id}/withdraw`));
      toast(t('consents.withdrawn'), 'success');
      refresh();
    } catch {
      // The client showed the error.
    }
  };
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data-table', testid: 'consents-table' },
      h('caption', { class: 'visually-hidden' }, t('consents.title')),
      h('thead', null, h('tr', null,
        [t('consents.scope'), t('consents.source'), t('consents.viewer'), t('consents.period'), t('common.status'), t('consents.form'), t('common.actions')]
          .map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', null, items.map((c) => {
        const cell = (label: string, ...content: (Node | string | null)[]) =>
          h('td', { 'data-label': label }, h('div', { class: 'cell' }, ...content));
        const withdrawButton = c.status === 'withdrawn' ? null
          : h('button', { type: 'button', class: 'button small danger-outline', testid: 'consent-withdraw' }, t('consents.withdraw'));
        withdrawButton?.addEventListener('click', () => void withdraw(c, withdrawButton));
        const formCell = c.form
          ? [h('span', { class: 'status status-on', testid: 'consent-form-attached' }, t('consents.attached')), ' ',
            h('span', { class: 'sub-inline' }, formatSize(c.form.size)),
            h('span', { class: 'row-actions' },
              h('button', { type: 'button', class: 'button small', testid: 'consent-form-view', onclick: () => void viewForm(rid, c) }, t('consents.view')),
              h('a', { class: 'button small', href: apiUrl(`/patients/${encodeURIComponent(rid)}/consents/${c.id}/form`), download: '', testid: 'consent-form-download' }, t('consents.download')))]
          : [h('span', { class: 'status status-pending', testid: 'consent-form-missing' }, t('consents.notAttached')),
            c.status === 'withdrawn' ? null
              : h('span', { class: 'row-actions' }, h('button', {
                type: 'button', class: 'button small', testid: 'consent-form-upload',
                onclick: () => uploadDialog(rid, c, refresh),
              }, t('consents.attach')))];
        return h('tr', { testid: `consent-${c.id}`, class: c.status === 'withdrawn' || c.status === 'expired' ? 'row-inactive' : '' },
          cell(t('consents.scope'), h('strong', null, tDynamic('consentScope', c.scope)), c.note ? h('span', { class: 'sub' }, c.note) : null),
          cell(t('consents.source'), facilityLabel(c.source_facility_id, c.source_facility_name)),
          cell(t('consents.viewer'), facilityLabel(c.viewer_facility_id, c.viewer_facility_name)),
          cell(t('consents.period'), t('consents.periodValue', {
            from: formatDate(c.valid_from), to: c.valid_to ? formatDate(c.valid_to) : t('consents.openEnded'),
          })),
          cell(t('common.status'), statusBadge(c.status),
            c.withdrawn_at ? h('span', { class: 'sub' }, t('consents.withdrawnAt', { at: formatDateTime(c.withdrawn_at) })) : null),
          cell(t('consents.form'), ...formCell),
          cell(t('common.actions'), withdrawButton ?? t('common.none')));
      }))));
}

function createForm(rid: string, list: Facility[], created: () => void): HTMLElement {
  const me = session.user;
  const facilityOptions = [{ value: '0', label: t('consents.anyFacility') },
    ...list.map((f) => ({ value: String(f.id), label: f.name }))];
  const error = formError();
  const scope = selectField({
    label: t('consents.scope'), name: 'scope', required: true, testid: 'consent-scope', value: 'clinical_sharing',
    options: kConsentScopes.map((s) => ({ value: s, label: tDynamic('consentScope', s) })),
    hint: t('consents.scopeHint'),
  });
  const source = selectField({
    label: t('consents.source'), name: 'source_facility_id', options: facilityOptions, testid: 'consent-source',
    value: me && list.some((f) => f.id === me.facility_id) ? String(me.facility_id) : '0', hint: t('consents.sourceHint'),
  });
  const viewer = selectField({
    label: t('consents.viewer'), name: 'viewer_facility_id', options: facilityOptions, testid: 'consent-viewer', value: '0',
    hint: t('consents.viewerHint'),
  });
  const from = inputField({ label: t('consents.validFrom'), name: 'valid_from', type: 'date', required: true, value: todayInJapan(), testid: 'consent-from' });
  const to = inputField({ label: t('consents.validTo'), name: 'valid_to', type: 'date', hint: t('consents.validToHint'), testid: 'consent-to' });
  const noteId = uid('note');
  const note = h('textarea', { id: noteId, name: 'note', class: 'input', maxlength: 1000, rows: 2, testid: 'consent-note' });
  const picker = formPicker();
  const progress = progressBar();
  const submit = submitButton(t('consents.create'), 'consent-submit');

  const form = h('form', {
    class: 'form', testid: 'consent-form',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      if (to.input.value && to.input.value < from.input.value) {
        error.show(t('consents.periodInvalid'));
        to.input.focus();
        return;
      }
      const file = picker.file();
      if (file) {
        const problem = formFileProblem(file);
        if (problem) {
          error.show(problem);
          return;
        }
      }
      const body: NewConsent = {
        scope: scope.select.value as ConsentScope,
        source_facility_id: Number(source.select.value) || 0,
        viewer_facility_id: Number(viewer.select.value) || 0,
        valid_from: from.input.value,
        valid_to: to.input.value || undefined,
        note: note.value.trim() || undefined,
      };
      await busy(submit, async () => {
        let consent: Consent;
        try {
          consent = await api.post<Consent>(`/patients/${encodeURIComponent(rid)}/consents`, body, { quiet: true });
        } catch (err) {
          error.show(err instanceof ApiError ? err.userMessage : t('error.generic'));
          return;
        }
        if (file) {
          try {
            await uploadForm(rid, consent, file, progress.set);
          } catch (err) {
            toast(t('consents.createdNoForm'), 'info');
            error.show(`${t('consents.uploadFailed')} ${err instanceof ApiError ? err.userMessage : ''}`);
            created();
            return;
          }
        }
        toast(t('consents.created'), 'success');
        form.closest('details')?.removeAttribute('open');
        to.input.value = '';
        note.value = '';
        picker.reset();
        progress.el.hidden = true;
        created();
      });
    },
  },
  error.el,
  h('div', { class: 'grid-2' }, scope.wrap, h('div')),
  h('div', { class: 'grid-2' }, source.wrap, viewer.wrap),
  h('div', { class: 'grid-2' }, from.wrap, to.wrap),
  h('div', { class: 'field' }, h('label', { for: noteId, class: 'field-label' }, t('consents.note')), note),
  picker.wrap,
  progress.el,
  h('div', { class: 'actions' }, submit));
  return form;
}

export function consentsTab(ctx: PatientTabContext): { panel: HTMLElement; show: () => void } {
  const rid = ctx.patient.regional_id;
  const listSlot = h('div', { 'aria-live': 'polite' });
  const formSlot = h('div');
  const panel = h('div', { testid: 'consents' },
    h('h2', { class: 'section-title' }, t('consents.title')),
    h('p', { class: 'field-hint' }, t('consents.lead')),
    listSlot,
    h('details', { class: 'create-box', testid: 'consent-create' },
      h('summary', { class: 'button primary create-summary', testid: 'consent-new' }, `＋ ${t('consents.new')}`),
      formSlot));
  let loaded = false;

  const refresh = async () => {
    clear(listSlot, loading());
    try {
      const answer = await api.get<{ items: Consent[] }>(`/patients/${encodeURIComponent(rid)}/consents`, { quiet: true });
      clear(listSlot, consentList(rid, answer.items ?? [], () => void refresh()));
    } catch (err) {
      loaded = false;
      clear(listSlot, h('p', { class: 'empty-state', role: 'alert' }, err instanceof ApiError ? err.userMessage : t('error.generic')));
    }
  };

  const show = () => {
    if (loaded) return;
    loaded = true;
    void refresh();
    clear(formSlot, loading());
    facilities()
      .then((list) => clear(formSlot, createForm(rid, list, () => void refresh())))
      .catch(() => clear(formSlot, h('p', { class: 'empty-state' }, t('error.generic'))));
  };
  return { panel, show };
}

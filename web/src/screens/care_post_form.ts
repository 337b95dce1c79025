// Writing a post: today's status from the template (grouped by category,
// only filled items sent), a message, photos straight from the camera
// (capture="environment") and other files, family sharing, drafts.
import { h, clear, uid } from '../ui/dom';
import { t } from '../i18n';
import { formError, busy, switchField, toHalfWidth } from '../ui/forms';
import { openDialog } from '../ui/dialog';
import { toast } from '../ui/toast';
import { care, type NewPost, type PostKind, type TemplateItem, type CarePost } from '../api/care';
import { categoryLabel, choiceLabel, errorText, fileSize, itemLabel, occupationTemplate, unitText } from './care_common';
import type { CareGroupContext } from './care_group';

const kMaxFiles = 10;
const kMaxFileBytes = 20 * 1024 * 1024;

interface ItemControl {
  item: TemplateItem;
  read: () => string;
  el: HTMLElement;
  focus: () => void;
}

function itemControl(item: TemplateItem): ItemControl {
  const id = uid(item.key.replace('.', '-'));
  const label = h('label', { for: id, class: 'field-label' }, itemLabel(item, item.key),
    item.unit ? h('span', { class: 'field-hint' }, ` (${unitText(item.unit)})`) : null);
  if (item.type === 'choice') {
    const select = h('select', { id, name: item.key, class: 'input', testid: `care-item-${item.key}` },
      h('option', { value: '' }, t('care.notEntered')),
      (item.choices ?? []).map((c) => h('option', { value: c }, choiceLabel(item.key, c))));
    return { item, el: h('div', { class: 'field' }, label, select), read: () => select.value, focus: () => select.focus() };
  }
  if (item.type === 'text') {
    const area = h('textarea', {
      id, name: item.key, class: 'input', rows: item.key === 'note.text' ? 3 : 2, maxlength: item.max_chars,
      testid: `care-item-${item.key}`,
    });
    return { item, el: h('div', { class: 'field care-field-wide' }, label, area), read: () => area.value.trim(), focus: () => area.focus() };
  }
  const input = h('input', {
    id, name: item.key, class: 'input', type: 'text', autocomplete: 'off',
    inputmode: item.type === 'integer' ? 'numeric' : 'decimal', testid: `care-item-${item.key}`,
    placeholder: item.min !== undefined && item.max !== undefined ? `${item.min}–${item.max}` : undefined,
  });
  return { item, el: h('div', { class: 'field care-field-num' }, label, input), read: () => toHalfWidth(input.value), focus: () => input.focus() };
}

/** Checks the numbers before sending (the server checks again). */
function problem(c: ItemControl, value: string): string | null {
  const { item } = c;
  if (item.type !== 'integer' && item.type !== 'decimal') return null;
  const n = Number(value);
  const name = itemLabel(item, item.key);
  if (!Number.isFinite(n) || (item.type === 'integer' && !Number.isInteger(n))) return t('care.form.notNumber', { item: name });
  if (item.min !== undefined && item.max !== undefined && (n < item.min || n > item.max)) {
    return t('care.form.outOfRange', { item: name, min: item.min, max: item.max });
  }
  return null;
}

/**
 * Opens the post form. `initial.files`: photos taken before the form opened
 * (the timeline's camera button), shown as previews and sent with the post.
 */
export function openPostForm(
  ctx: CareGroupContext,
  onCreated: (post: CarePost) => void,
  initial: { files?: File[]; kind?: 'status' | 'message' } = {},
): void {
  const error = formError();
  let kind: 'status' | 'message' = 'status';
  const files: File[] = [];
  const previews = h('ul', { class: 'care-previews', testid: 'care-previews', 'aria-live': 'polite' });
  const statusSlot = h('div', { class: 'care-status-fields' }, h('p', { class: 'loading' }, t('common.loading')));
  let controls: ItemControl[] = [];

  const titleId = uid('title');
  const title = h('input', { id: titleId, name: 'title', class: 'input', maxlength: 200, testid: 'care-post-title', autocomplete: 'off' });
  const bodyId = uid('body');
  const body = h('textarea', { id: bodyId, name: 'body', class: 'input', rows: 4, testid: 'care-post-body' });
  const family = switchField({ label: t('care.form.toFamily'), name: 'publish_to_family', checked: false, hint: t('care.form.toFamilyHint'), testid: 'care-post-family' });

  const renderPreviews = () => {
    clear(previews, files.map((f, i) => {
      const remove = h('button', {
        type: 'button', class: 'icon-button care-preview-remove', 'aria-label': t('care.form.removeFile', { name: f.name }),
        onclick: () => { files.splice(i, 1); renderPreviews(); },
      }, '×');
      if (f.type.startsWith('image/')) {
        const url = URL.createObjectURL(f);
        const img = h('img', { src: url, alt: f.name, testid: 'care-preview-image' });
        img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
        return h('li', { class: 'care-preview' }, img, remove);
      }
      return h('li', { class: 'care-preview care-preview-file' }, h('span', null, f.name), h('span', { class: 'field-hint' }, fileSize(f.size)), remove);
    }));
  };
  const addFiles = (list: FileList | null) => {
    for (const f of Array.from(list ?? [])) {
      if (files.length >= kMaxFiles) {
        error.show(t('care.form.tooManyFiles', { n: kMaxFiles }));
        break;
      }
      if (f.size > kMaxFileBytes) {
        error.show(t('care.form.fileTooLarge', { name: f.name, size: fileSize(kMaxFileBytes) }));
        continue;
      }
      files.push(f);
    }
    renderPreviews();
  };
  // The camera opens directly on phones; the photo goes straight into the post.
  const photoId = uid('photo');
  const photo = h('input', {
    id: photoId, type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'visually-hidden',
    testid: 'care-photo-input', onchange: () => { addFiles(photo.files); photo.value = ''; },
  });
  const fileId = uid('file');
  const fileInput = h('input', {
    id: fileId, type: 'file', multiple: true, class: 'visually-hidden',
    accept: 'image/*,application/pdf,audio/*,video/*,.doc,.docx,.xls,.xlsx,.pptx',
    testid: 'care-file-input', onchange: () => { addFiles(fileInput.files); fileInput.value = ''; },
  });

  const kindButtons = (['status', 'message'] as const).map((k) => h('button', {
    type: 'button', class: 'care-kind', 'aria-pressed': String(k === kind), testid: `care-kind-${k}`,
    onclick: () => setKind(k),
  }, t(`care.kind.${k}`)));
  const setKind = (k: 'status' | 'message') => {
    kind = k;
    kindButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(['status', 'message'][i] === k)));
    statusSlot.hidden = k !== 'status';
  };

  void occupationTemplate().then((tpl) => {
    controls = tpl.items.map(itemControl);
    const all: string[] = [];
    for (const item of tpl.items) if (!all.includes(item.category)) all.push(item.category);
    // The writer's occupation's categories first, in its order; the others
    // are one click away.
    const mine = tpl.categories.filter((c) => all.includes(c));
    const others = all.filter((c) => !mine.includes(c));
    // A category of one item (ADL, mood, notes) needs no box of its own.
    const fieldset = (cat: string) => {
      const fields = controls.filter((c) => c.item.category === cat);
      return h('fieldset', { class: fields.length > 1 ? 'care-category' : 'care-category care-category-single', testid: `care-category-${cat}` },
        h('legend', { class: fields.length > 1 ? undefined : 'visually-hidden' }, categoryLabel(cat)),
        h('div', { class: 'care-category-fields' }, fields.map((c) => c.el)));
    };
    clear(statusSlot,
      ...(mine.length ? mine : all).map(fieldset),
      mine.length && others.length
        ? h('details', { class: 'care-more-items', testid: 'care-more-items' },
          h('summary', null, t('care.form.moreItems')), ...others.map(fieldset))
        : null);
  }).catch((err: unknown) => clear(statusSlot, h('p', { class: 'form-error' }, errorText(err))));

  const send = async (draft: boolean, button: HTMLButtonElement) => {
    error.hide();
    const values: Record<string, string | number> = {};
    if (kind === 'status') {
      for (const c of controls) {
        const v = c.read();
        if (!v) continue;
        const p = problem(c, v);
        if (p) {
          error.show(p);
          c.focus();
          return;
        }
        values[c.item.key] = c.item.type === 'integer' || c.item.type === 'decimal' ? Number(v) : v;
      }
      const sys = 'vital.bp_systolic' in values;
      const dia = 'vital.bp_diastolic' in values;
      if (sys !== dia) {
        error.show(t('care.form.bpBoth'));
        return;
      }
    }
    const text = body.value.trim();
    const empty = kind === 'status' ? !Object.keys(values).length && !text && !files.length : !text && !files.length;
    if (empty) {
      error.show(kind === 'status' ? t('care.form.emptyStatus') : t('care.form.emptyMessage'));
      (kind === 'status' ? title : body).focus();
      return;
    }
    let postKind: PostKind = kind;
    if (kind === 'message' && files.length) postKind = files.every((f) => f.type.startsWith('image/')) ? 'photo' : 'file';
    const post: NewPost = {
      kind: postKind, title: title.value.trim(), body: text, values, publish_to_family: family.input.checked, draft,
    };
    const progress = h('progress', { max: 1, value: 0, class: 'care-progress', 'aria-label': t('care.form.uploading') });
    if (files.length) actions.prepend(progress);
    try {
      const created = await busy(button, () => care.createPost(ctx.group.id, post, files, (f) => { progress.value = f; }));
      dialog.close();
      toast(draft ? t('care.form.draftSaved') : t('care.form.posted'), 'success');
      onCreated(created);
    } catch (err) {
      error.show(errorText(err));
    } finally {
      progress.remove();
    }
  };

  const draftButton = h('button', { type: 'button', class: 'button', testid: 'care-post-draft', onclick: () => void send(true, draftButton) }, t('care.form.saveDraft'));
  const submit = h('button', { type: 'submit', class: 'button primary', testid: 'care-post-submit' }, t('care.form.submit'));
  const actions = h('div', { class: 'actions care-form-actions' },
    h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, t('common.cancel')), draftButton, submit);
  const form = h('form', {
    class: 'care-post-form', novalidate: true, testid: 'care-post-form',
    onsubmit: (e: Event) => { e.preventDefault(); void send(false, submit); },
  },
  h('div', { class: 'care-kinds', role: 'group', 'aria-label': t('care.form.kind') }, kindButtons),
  error.el,
  h('div', { class: 'field' }, h('label', { for: titleId, class: 'field-label' }, t('care.form.title')), title),
  statusSlot,
  h('div', { class: 'field' }, h('label', { for: bodyId, class: 'field-label' }, t('care.form.body')), body),
  h('div', { class: 'care-attach' },
    photo, h('label', { for: photoId, class: 'button care-attach-button' }, t('care.form.photo')),
    fileInput, h('label', { for: fileId, class: 'button care-attach-button' }, t('care.form.file'))),
  previews,
  family.wrap,
  actions);
  if (initial.kind) setKind(initial.kind);
  if (initial.files?.length) {
    const list = new DataTransfer();
    for (const f of initial.files) list.items.add(f);
    addFiles(list.files);
  }
  const dialog = openDialog(t('care.form.heading'), form, { wide: true });
  dialog.element.classList.add('care-dialog');
  // Keyboard: the label buttons open the file pickers with Enter/Space too.
  for (const label of form.querySelectorAll<HTMLLabelElement>('.care-attach-button')) {
    label.tabIndex = 0;
    label.setAttribute('role', 'button');
    label.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        label.click();
      }
    });
  }
  title.focus();
}

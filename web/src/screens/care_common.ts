// Pieces shared by the care screens: template labels and values, pins,
// attachments, read receipts, and the "not available yet" explanation.
import { h, type Child } from '../ui/dom';
import { t, tDynamic, hasKey, formatDateTime } from '../i18n';
import { ApiError } from '../api/client';
import { care, type CareAttachment, type CarePost, type PinColor, type StatusTemplateInfo, type TemplateItem } from '../api/care';

let templateCache: Promise<StatusTemplateInfo> | null = null;

/** The status template of the user's occupation, with every item (loaded once per page load). */
export function occupationTemplate(): Promise<StatusTemplateInfo> {
  if (!templateCache) {
    templateCache = care.templates().catch((err: unknown) => {
      templateCache = null;
      throw err;
    });
  }
  return templateCache;
}

/** Every template item in catalogue order. */
export function statusTemplate(): Promise<TemplateItem[]> {
  return occupationTemplate().then((tpl) => tpl.items);
}

export function itemLabel(item: TemplateItem | undefined, key: string): string {
  const k = `care.item.${key}`;
  if (hasKey(k)) return t(k);
  return item?.label ?? key;
}

export function categoryLabel(category: string): string {
  return tDynamic('care.category', category);
}

export function choiceLabel(key: string, value: string): string {
  return tDynamic(`care.choice.${key}`, value);
}

/** A unit as shown: the catalogue's Japanese count units are translated. */
export function unitText(unit: string | undefined): string {
  if (unit === '回/分') return t('care.unit.perMinute');
  if (unit === '回') return t('care.unit.times');
  return unit ?? '';
}

/** "132 mmHg", "ほぼ全量", ... for one template value. */
export function valueText(item: TemplateItem | undefined, key: string, value: string | number): string {
  const v = String(value);
  if (item?.type === 'choice') return choiceLabel(key, v);
  if (item?.unit) return `${v} ${unitText(item.unit)}`;
  return v;
}

/** The filled template values of a post as a definition list, in catalogue order. */
export function valuesList(post: CarePost, template: TemplateItem[]): HTMLElement | null {
  const keys = Object.keys(post.values ?? {});
  if (!keys.length) return null;
  const byKey = new Map(template.map((i) => [i.key, i]));
  const order = (k: string) => {
    const i = template.findIndex((x) => x.key === k);
    return i < 0 ? 999 : i;
  };
  keys.sort((a, b) => order(a) - order(b));
  const rows: Child[] = [];
  const values = post.values;
  const done = new Set<string>();
  for (const key of keys) {
    if (done.has(key)) continue;
    done.add(key);
    // Blood pressure reads as one value: 132/78 mmHg.
    if (key === 'vital.bp_systolic' && values['vital.bp_diastolic'] !== undefined) {
      done.add('vital.bp_diastolic');
      rows.push(h('div', { class: 'care-value' }, h('dt', null, t('care.bloodPressure')),
        h('dd', null, `${values[key]}/${values['vital.bp_diastolic']} mmHg`)));
      continue;
    }
    const item = byKey.get(key);
    rows.push(h('div', { class: 'care-value' }, h('dt', null, itemLabel(item, key)),
      h('dd', null, valueText(item, key, values[key] ?? ''))));
  }
  return h('dl', { class: 'care-values', testid: 'care-values' }, rows);
}

export function pinChips(pins: PinColor[] | undefined): HTMLElement | null {
  if (!pins?.length) return null;
  return h('span', { class: 'care-pins' }, pins.map((c) =>
    h('span', { class: `care-pin care-pin-${c}`, title: t(`care.pin.${c}`), testid: `pin-${c}` },
      h('span', { class: 'visually-hidden' }, t(`care.pin.${c}`)))));
}

export function fileSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** Thumbnails for images, links for other files. */
export function attachmentsView(items: CareAttachment[] | undefined, large = false): HTMLElement | null {
  if (!items?.length) return null;
  return h('ul', { class: large ? 'care-files care-files-large' : 'care-files', testid: 'care-attachments' },
    items.map((a) => h('li', null, a.kind === 'image'
      ? h('a', { href: care.fileUrl(a.id), target: '_blank', rel: 'noopener', class: 'care-thumb' },
        h('img', { src: care.fileUrl(a.id), alt: a.file_name, loading: 'lazy', testid: 'care-image' }))
      : h('a', { href: care.fileUrl(a.id, true), class: 'care-file', download: a.file_name },
        h('span', { class: 'chip' }, tDynamic('care.fileKind', a.kind)), ' ', a.file_name,
        h('span', { class: 'field-hint' }, ` (${fileSize(a.size)})`)))));
}

/** "既読 2/3" with the readers' names in the title. */
export function readBadge(readCount: number, audience: number): HTMLElement {
  return h('span', { class: readCount > 0 ? 'care-read care-read-some' : 'care-read', testid: 'read-count' },
    t('care.readBy', { n: readCount, m: audience }));
}

export function postTime(post: CarePost): string {
  return formatDateTime(post.published_at ?? post.created_at);
}

/** True for the 404 of a route the server does not have (yet). */
export function isMissingRoute(err: unknown): boolean {
  // The router answers a bare "not found" for unknown paths; handlers name the object.
  return err instanceof ApiError && err.status === 404 && err.message === 'not found';
}

export function errorText(err: unknown): string {
  return err instanceof ApiError ? err.userMessage : t('error.generic');
}

/** An empty state: a sentence and an optional action. */
export function emptyState(text: string, testid: string, action?: Child): HTMLElement {
  return h('div', { class: 'empty-state', testid }, h('p', null, text), action ? h('p', null, action) : null);
}

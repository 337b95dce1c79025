// The patient's clinical timeline (診療情報): allergies pinned on top,
// duplicate-medication warnings, filters, a day-grouped list with cursor paging.
import { h, clear, uid, type Child } from '../ui/dom';
import { t, tDynamic, formatDate, formatDay, dayOf, timeOfDay, type MessageKey } from '../i18n';
import { api, ApiError, query } from '../api/client';
import { toast } from '../ui/toast';
import type { Category, Facility, MedicationWarning, TimelineItem, TimelinePage } from '../api/types';
import { busy } from '../ui/forms';
import { loading } from '../ui/layout';
import { openDialog } from '../ui/dialog';
import { facilities, showClinicalError, codeLabel, consentNotice, othersCovered, ownDataNote, type PatientTabContext } from './patient_common';
import { documentOfTimelineItem, openDocument } from './documents';

const kPageSize = 20;

/** The categories offered as filter chips (patient_info is never listed). */
export const kTimelineCategories: Category[] = [
  'condition', 'prescription', 'injection', 'dispensing', 'administration', 'immunization',
  'lab_result', 'report', 'encounter', 'order', 'document', 'allergy',
];

interface Filters {
  categories: Set<Category>;
  facilityId: string;
  from: string;
  to: string;
}

function categoryLabel(c: string): string {
  return tDynamic('category', c);
}

/** Short labelled facts ("用量 1錠") for an item's detail line. */
function fact(label: MessageKey, value: string | undefined, testid?: string): HTMLElement | null {
  if (!value) return null;
  return h('span', { class: 'fact', testid },
    h('span', { class: 'fact-label' }, t(label)), ' ', h('span', { class: 'fact-value' }, value));
}

function period(item: TimelineItem): string {
  const start = dayOf(item.effective);
  const end = item.effective_end ? dayOf(item.effective_end) : '';
  if (!end || end === start) return '';
  return t('timeline.period', { from: formatDate(start), to: formatDate(end) });
}

/** The flag of a lab value as a badge: H/HH red, L/LL blue, others amber. */
export function flagBadge(flag: string, abnormal: boolean): HTMLElement | null {
  if (!flag || (!abnormal && (flag === 'N' || flag === 'n'))) return null;
  const high = /^H/i.test(flag) || flag === '>';
  const low = /^L/i.test(flag) || flag === '<';
  const kind = high ? 'high' : low ? 'low' : 'other';
  const title = high ? t('labs.flagHigh') : low ? t('labs.flagLow') : t('labs.flagAbnormal');
  return h('span', { class: `flag flag-${kind}`, title, 'aria-label': `${title} (${flag})`, testid: 'lab-flag' }, flag);
}

export function labValueClass(flag: string, abnormal: boolean): string {
  if (!abnormal) return 'lab-value';
  if (/^H/i.test(flag) || flag === '>') return 'lab-value abnormal-high';
  if (/^L/i.test(flag) || flag === '<') return 'lab-value abnormal-low';
  return 'lab-value abnormal';
}

function medicationDetails(item: TimelineItem): Child[] {
  const m = item.medication;
  const s = item.summary;
  const dose = m ? `${m.dose}${m.unit}` : `${s.dose ?? ''}${s.unit ?? ''}`;
  const days = m?.days || s.days;
  return [
    fact('timeline.dose', dose, 'med-dose'),
    fact('timeline.frequency', m?.frequency || s.frequency, 'med-frequency'),
    fact('timeline.days', days ? t('timeline.daysValue', { days }) : '', 'med-days'),
    fact('timeline.route', m?.route || s.route, 'med-route'),
    fact('timeline.quantity', m?.quantity || s.quantity),
    fact('timeline.yj', m?.yj_code, 'med-yj'),
    fact('timeline.status', codeLabel('fhirStatus', s.status)),
  ];
}

function labDetails(item: TimelineItem): Child[] {
  const lab = item.lab;
  if (!lab) {
    return [fact('timeline.value', item.summary.value), fact('timeline.status', codeLabel('fhirStatus', item.summary.status))];
  }
  return [
    h('span', { class: 'fact' },
      h('span', { class: labValueClass(lab.flag, lab.abnormal), testid: 'lab-value' }, lab.value_text),
      lab.unit ? h('span', { class: 'lab-unit' }, ` ${lab.unit}`) : null,
      ' ', flagBadge(lab.flag, lab.abnormal)),
    fact('timeline.range', lab.range_text, 'lab-range'),
  ];
}

function itemDetails(item: TimelineItem): Child[] {
  const s = item.summary;
  switch (item.category) {
    case 'prescription':
    case 'injection':
    case 'dispensing':
    case 'administration':
      return medicationDetails(item);
    case 'lab_result':
      return labDetails(item);
    case 'condition':
      return [
        fact('timeline.clinicalStatus', codeLabel('conditionStatus', s.clinical_status), 'condition-status'),
        fact('timeline.verification', codeLabel('verificationStatus', s.verification_status)),
        fact('timeline.onset', s.onset ? formatDate(dayOf(s.onset)) : ''),
        fact('timeline.abatement', s.abatement ? formatDate(dayOf(s.abatement)) : ''),
        fact('timeline.severity', s.severity),
      ];
    case 'allergy':
      return [
        fact('allergy.reaction', s.reaction),
        fact('allergy.criticality', codeLabel('criticality', s.criticality)),
        fact('allergy.type', codeLabel('allergyCategory', s.allergy_category)),
      ];
    case 'encounter':
      return [fact('timeline.status', codeLabel('fhirStatus', s.status))];
    case 'report':
      return [
        s.conclusion ? h('p', { class: 'tl-text' }, s.conclusion) : null,
        fact('timeline.status', codeLabel('fhirStatus', s.status)),
      ];
    case 'document':
      return [
        fact('timeline.documentType', s.document_type),
        fact('timeline.documentTitle', s.title),
        s.description ? h('p', { class: 'tl-text' }, s.description) : null,
        documentViewButton(item),
      ];
    case 'immunization':
      return [fact('timeline.lot', s.lot_number), fact('timeline.dose', s.dose), fact('timeline.status', codeLabel('fhirStatus', s.status))];
    case 'order':
      return [fact('timeline.status', codeLabel('fhirStatus', s.status)), fact('timeline.intent', codeLabel('fhirIntent', s.intent))];
    default:
      return [];
  }
}

/** 表示: opens the document's content (docs/documents.md). */
function documentViewButton(item: TimelineItem): HTMLElement | null {
  const doc = documentOfTimelineItem(item);
  if (!doc) return null;
  return h('button', {
    type: 'button', class: 'button small no-print', testid: 'tl-view-document', onclick: () => openDocument(doc),
  }, t('timeline.viewDocument'));
}

function itemTitle(item: TimelineItem): string {
  if (item.medication?.name) return item.medication.name;
  if (item.category === 'immunization' && item.summary.vaccine) return item.summary.vaccine;
  if (item.category === 'document' && !item.display) return item.summary.title || item.summary.document_type || '';
  if (item.category === 'encounter') {
    const cls = codeLabel('encounterClass', item.summary.class || item.display);
    return [cls, item.summary.service_type].filter(Boolean).join('　') || categoryLabel(item.category);
  }
  return item.display || categoryLabel(item.category);
}

/** Shows the FHIR resource behind an item (for the curious and for integrators). */
async function showResource(item: TimelineItem): Promise<void> {
  const body = h('div', null, loading());
  openDialog(itemTitle(item), body, { wide: true });
  try {
    const resource = await api.get<unknown>(`/resources/${encodeURIComponent(item.resource_type)}/${encodeURIComponent(item.id)}`, { quiet: true });
    clear(body, h('pre', { class: 'json', testid: 'resource-json' }, JSON.stringify(resource, null, 2)));
  } catch {
    clear(body, h('p', { class: 'empty-state' }, t('error.generic')));
  }
}

function itemView(item: TimelineItem): HTMLElement {
  const time = timeOfDay(item.effective);
  const range = period(item);
  const abnormal = item.lab?.abnormal ? ' tl-abnormal' : '';
  return h('li', { class: `tl-item cat-${item.category}${abnormal}`, testid: 'tl-item', 'data-category': item.category },
    h('div', { class: 'tl-head' },
      h('span', { class: `cat-badge cat-${item.category}` }, categoryLabel(item.category)),
      h('strong', { class: 'tl-title', testid: 'tl-title' }, itemTitle(item)),
      time ? h('span', { class: 'tl-time' }, time) : null),
    h('div', { class: 'tl-body' }, range ? h('span', { class: 'fact' }, range) : null, itemDetails(item)),
    h('div', { class: 'tl-foot' },
      h('span', { class: 'tl-source', testid: 'tl-source' }, t('timeline.source', { facility: item.source_facility_name || '—' })),
      item.code ? h('span', { class: 'tl-code mono' }, item.code) : null,
      h('button', {
        type: 'button', class: 'link-button small-link no-print', onclick: () => void showResource(item),
        'aria-label': t('timeline.showResourceFor', { name: itemTitle(item) }),
      }, t('timeline.showResource'))));
}

function allergyChip(item: TimelineItem): HTMLElement {
  const s = item.summary;
  const severe = s.criticality === 'high';
  const details = [s.reaction, codeLabel('criticality', s.criticality)].filter(Boolean).join('・');
  return h('li', { class: `allergy-chip ${severe ? 'allergy-high' : 'allergy-other'}`, testid: 'allergy-chip' },
    h('span', { class: 'allergy-icon', 'aria-hidden': 'true' }, '⚠'),
    h('span', { class: 'allergy-name' }, item.display || s.type || t('category.allergy')),
    details ? h('span', { class: 'allergy-detail' }, details) : null,
    h('span', { class: 'allergy-source' }, item.source_facility_name));
}

export function allergyBar(allergies: TimelineItem[]): HTMLElement {
  return h('section', { class: 'allergy-bar', 'aria-labelledby': 'allergy-heading', testid: 'allergies' },
    h('h3', { id: 'allergy-heading', class: 'allergy-heading' }, t('allergy.title')),
    allergies.length
      ? h('ul', { class: 'allergy-list' }, allergies.map(allergyChip))
      : h('p', { class: 'allergy-none', testid: 'allergies-none' }, t('allergy.none')));
}

export function warningBanner(warnings: MedicationWarning[]): HTMLElement | null {
  if (!warnings.length) return null;
  const course = (c: MedicationWarning['first']) =>
    h('li', null,
      h('strong', null, c.facility_name), '：', c.medication,
      c.yj_code ? h('span', { class: 'mono sub-inline' }, ` (${c.yj_code})`) : null,
      ' ', h('span', { class: 'sub-inline' }, t('timeline.period', { from: formatDate(c.start), to: formatDate(c.end) })));
  return h('section', { class: 'notice notice-danger', role: 'alert', testid: 'med-warnings' },
    h('h3', { class: 'notice-title' }, t('warnings.title', { count: warnings.length })),
    h('ul', { class: 'warning-list' }, warnings.map((w) =>
      h('li', { class: 'warning', testid: 'med-warning' },
        h('p', { class: 'warning-head' },
          t('warnings.ingredient', { code: w.ingredient }), ' ',
          h('span', { class: 'sub-inline' }, t('warnings.overlap', { from: formatDate(w.overlap_start), to: formatDate(w.overlap_end) }))),
        h('ul', { class: 'warning-courses' }, course(w.first), course(w.second))))),
    h('p', { class: 'field-hint' }, t('warnings.hint')));
}

function printButton(): HTMLElement {
  return h('button', { type: 'button', class: 'button small no-print', onclick: () => window.print(), testid: 'print' },
    t('common.print'));
}

export function timelineTab(ctx: PatientTabContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'clinical', testid: 'timeline' });
  const filters: Filters = { categories: new Set(), facilityId: '', from: '', to: '' };
  let loaded = false;

  const head = h('div', { class: 'section-head' },
    h('h2', { class: 'section-title' }, t('timeline.title')), printButton());
  const allergySlot = h('div');
  const warningSlot = h('div');
  const listSlot = h('div', { 'aria-live': 'polite' });
  const countLine = h('p', { class: 'result-count', testid: 'timeline-count' });

  // Filters: category chips (multi-select), source facility, period.
  const chipButtons = kTimelineCategories.map((c) =>
    h('button', {
      type: 'button', class: `filter-chip cat-${c}`, 'aria-pressed': 'false', testid: `filter-${c}`,
      onclick: (e: Event) => {
        const b = e.currentTarget as HTMLButtonElement;
        if (filters.categories.has(c)) filters.categories.delete(c);
        else filters.categories.add(c);
        b.setAttribute('aria-pressed', String(filters.categories.has(c)));
        void reload();
      },
    }, categoryLabel(c)));
  const facilityId = uid('src');
  const facilitySelect = h('select', { id: facilityId, class: 'input', testid: 'filter-facility' },
    h('option', { value: '' }, t('common.all')));
  const fromId = uid('from');
  const toId = uid('to');
  const fromInput = h('input', { id: fromId, type: 'date', class: 'input', testid: 'filter-from' });
  const toInput = h('input', { id: toId, type: 'date', class: 'input', testid: 'filter-to' });
  const filterError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const applyButton = h('button', { type: 'submit', class: 'button primary', testid: 'filter-apply' }, t('timeline.apply'));
  const form = h('form', {
    class: 'timeline-filters no-print', role: 'search', 'aria-label': t('timeline.filters'),
    onsubmit: (e: Event) => {
      e.preventDefault();
      filters.facilityId = facilitySelect.value;
      filters.from = fromInput.value;
      filters.to = toInput.value;
      if (filters.from && filters.to && filters.from > filters.to) {
        clear(filterError, t('timeline.periodInvalid'));
        filterError.hidden = false;
        return;
      }
      filterError.hidden = true;
      void busy(applyButton, reload);
    },
  },
  h('fieldset', { class: 'chip-group' },
    h('legend', { class: 'field-label' }, t('timeline.categories')),
    h('div', { class: 'chips' }, chipButtons)),
  h('div', { class: 'filter-row' },
    h('div', { class: 'field' }, h('label', { for: facilityId, class: 'field-label' }, t('timeline.sourceFacility')), facilitySelect),
    h('div', { class: 'field' }, h('label', { for: fromId, class: 'field-label' }, t('timeline.from')), fromInput),
    h('div', { class: 'field' }, h('label', { for: toId, class: 'field-label' }, t('timeline.to')), toInput),
    h('div', { class: 'filters-actions' }, applyButton,
      h('button', {
        type: 'button', class: 'button', testid: 'filter-clear',
        onclick: () => {
          filters.categories.clear();
          chipButtons.forEach((b) => b.setAttribute('aria-pressed', 'false'));
          facilitySelect.value = '';
          fromInput.value = '';
          toInput.value = '';
          filters.facilityId = '';
          filters.from = '';
          filters.to = '';
          filterError.hidden = true;
          void reload();
        },
      }, t('common.clear')))),
  filterError);

  const body = h('div', null, allergySlot, warningSlot, form, countLine, listSlot);
  const rid = encodeURIComponent(ctx.patient.regional_id);

  const params = (cursor?: string) => query({
    category: [...filters.categories].join(','),
    facility_id: filters.facilityId,
    from: filters.from,
    to: filters.to,
    limit: kPageSize,
    cursor,
  });

  // Renders one page into the day groups, continuing the last day's group.
  let dayList: HTMLOListElement | null = null;
  let lastDay = '';
  let lastGroup: HTMLUListElement | null = null;
  const appendItems = (items: TimelineItem[]) => {
    if (!dayList) return;
    for (const item of items) {
      const day = dayOf(item.effective);
      if (day !== lastDay || !lastGroup) {
        lastDay = day;
        lastGroup = h('ul', { class: 'tl-items' });
        dayList.append(h('li', { class: 'tl-day', testid: 'tl-day', 'data-day': day },
          h('h3', { class: 'tl-day-head' }, h('time', { datetime: day }, formatDay(day))), lastGroup));
      }
      lastGroup.append(itemView(item));
    }
  };

  const moreSlot = h('div', { class: 'more no-print' });
  const showMore = (cursor: string | null) => {
    if (!cursor) {
      clear(moreSlot);
      return;
    }
    const more = h('button', { type: 'button', class: 'button block', testid: 'timeline-more' }, t('timeline.more'));
    more.addEventListener('click', () => void busy(more, async () => {
      try {
        const page = await api.get<TimelinePage>(`/patients/${rid}/timeline${params(cursor)}`, { quiet: true });
        appendItems(page.items);
        showMore(page.next_cursor);
      } catch (err) {
        // A refusal now (consent withdrawn meanwhile) replaces the list; other
        // errors keep what was shown and offer the button again.
        if (err instanceof ApiError && err.status === 403) showClinicalError(listSlot, err, ctx, () => void reload());
        else toast(err instanceof ApiError ? err.userMessage : t('error.generic'), 'error');
      }
    }));
    clear(moreSlot, more);
  };

  const reload = async () => {
    clear(listSlot, loading());
    let page: TimelinePage;
    try {
      page = await api.get<TimelinePage>(`/patients/${rid}/timeline${params()}`, { quiet: true });
    } catch (err) {
      showClinicalError(listSlot, err, ctx, () => void reload());
      clear(countLine);
      return;
    }
    clear(allergySlot, allergyBar(page.allergies ?? []));
    clear(countLine, t('timeline.count', { total: page.total }));
    if (!page.items.length) {
      const filtered = filters.categories.size > 0 || filters.facilityId || filters.from || filters.to;
      clear(listSlot, h('div', { class: 'empty-state', testid: 'timeline-empty' },
        h('p', null, filtered ? t('timeline.emptyFiltered') : t('timeline.empty'))));
      return;
    }
    dayList = h('ol', { class: 'tl-days', testid: 'timeline-list' });
    lastDay = '';
    lastGroup = null;
    clear(listSlot, dayList, moreSlot);
    appendItems(page.items);
    showMore(page.next_cursor);
  };

  const firstLoad = async () => {
    clear(panel, head, loading());
    let page: TimelinePage;
    let warnings: MedicationWarning[] = [];
    let covered: boolean | null = null;
    try {
      const [timeline, warned, coverage] = await Promise.all([
        api.get<TimelinePage>(`/patients/${rid}/timeline${params()}`, { quiet: true }),
        api.get<{ items: MedicationWarning[] }>(`/patients/${rid}/medication-warnings`, { quiet: true })
          .catch(() => ({ items: [] as MedicationWarning[] })),
        othersCovered(ctx.patient.regional_id),
      ]);
      page = timeline;
      warnings = warned.items ?? [];
      covered = coverage;
    } catch (err) {
      loaded = false;
      const slot = h('div');
      clear(panel, head, slot);
      showClinicalError(slot, err, ctx, () => { loaded = true; void firstLoad(); });
      return;
    }
    const nothing = page.items.length === 0 && (page.allergies ?? []).length === 0;
    clear(panel, head, covered === false ? (nothing ? consentNotice(ctx, false) : ownDataNote(ctx)) : null, body);
    clear(warningSlot, warningBanner(warnings));
    void facilities().then((list: Facility[]) => {
      for (const f of list) facilitySelect.append(h('option', { value: String(f.id) }, f.name));
    }).catch(() => undefined);
    clear(allergySlot, allergyBar(page.allergies ?? []));
    clear(countLine, t('timeline.count', { total: page.total }));
    if (!page.items.length) {
      clear(listSlot, h('div', { class: 'empty-state', testid: 'timeline-empty' }, h('p', null, t('timeline.empty'))));
      return;
    }
    dayList = h('ol', { class: 'tl-days', testid: 'timeline-list' });
    lastDay = '';
    lastGroup = null;
    clear(listSlot, dayList, moreSlot);
    appendItems(page.items);
    showMore(page.next_cursor);
  };

  return {
    panel,
    show: () => {
      if (loaded) return;
      loaded = true;
      void firstLoad();
    },
  };
}

// Lab results (検査結果): a tests × days table with abnormal cells marked;
// choosing a test shows its trend chart and the list of its values.
import { h, clear } from '../ui/dom';
import { t, formatDate, formatShortDate, dayOf, timeOfDay } from '../i18n';
import { api } from '../api/client';
import type { LabPoint, LabTable, LabTest } from '../api/types';
import { loading } from '../ui/layout';
import { lineChart } from '../ui/chart';
import { showClinicalError, consentNotice, othersCovered, ownDataNote, type PatientTabContext } from './patient_common';
import { flagBadge, labValueClass } from './timeline';

function rangeText(test: LabTest): string {
  const r = test.reference_range;
  if (r.text) return r.text;
  if (r.low !== null && r.high !== null) return `${r.low}–${r.high}`;
  if (r.low !== null) return `≥${r.low}`;
  if (r.high !== null) return `≤${r.high}`;
  return '';
}

function cellView(point: LabPoint | null): HTMLElement {
  if (!point) return h('td', { class: 'lab-cell empty-cell' }, h('span', { 'aria-label': t('labs.noValue') }, '·'));
  const cls = point.abnormal ? ' lab-cell-abnormal' : '';
  return h('td', { class: `lab-cell${cls}`, testid: point.abnormal ? 'lab-cell-abnormal' : 'lab-cell', title: point.source_facility_name },
    h('span', { class: labValueClass(point.flag, point.abnormal) }, point.value_text),
    flagBadge(point.flag, point.abnormal));
}

function valuesTable(test: LabTest): HTMLElement {
  const rows = [...test.series].reverse();
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data-table lab-values', testid: 'lab-values' },
      h('caption', { class: 'visually-hidden' }, t('labs.valuesOf', { name: test.display })),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, t('labs.date')),
        h('th', { scope: 'col' }, t('labs.value')),
        h('th', { scope: 'col' }, t('labs.range')),
        h('th', { scope: 'col' }, t('labs.source')))),
      h('tbody', null, rows.map((p) => {
        const time = timeOfDay(p.effective);
        return h('tr', { testid: 'lab-value-row' },
          h('td', { 'data-label': t('labs.date') }, h('div', { class: 'cell' }, formatDate(dayOf(p.effective)), time ? ` ${time}` : '')),
          h('td', { 'data-label': t('labs.value') }, h('div', { class: 'cell' },
            h('span', { class: labValueClass(p.flag, p.abnormal) }, p.value_text), p.unit ? ` ${p.unit}` : '', ' ', flagBadge(p.flag, p.abnormal))),
          h('td', { 'data-label': t('labs.range') }, h('div', { class: 'cell' }, p.range_text || rangeText(test) || t('common.none'))),
          h('td', { 'data-label': t('labs.source') }, h('div', { class: 'cell' }, p.source_facility_name || t('common.none'))));
      }))));
}

function trendView(test: LabTest): HTMLElement {
  const numeric = test.series.filter((p) => p.value !== null);
  const chart = numeric.length
    ? lineChart({
      points: numeric.map((p) => ({
        x: p.effective, y: p.value as number, flag: p.flag, abnormal: p.abnormal,
        label: `${p.value_text}${p.unit ? ` ${p.unit}` : ''}`,
      })),
      low: test.reference_range.low,
      high: test.reference_range.high,
      unit: test.unit,
      label: t('labs.chartLabel', { name: test.display, count: numeric.length }),
      legend: { range: t('labs.legendRange'), high: t('labs.legendHigh'), low: t('labs.legendLow') },
      formatX: formatShortDate,
      testid: 'lab-chart',
    })
    : h('p', { class: 'empty-state' }, t('labs.noNumeric'));
  return h('section', { class: 'lab-trend', 'aria-labelledby': 'lab-trend-title', testid: 'lab-trend' },
    h('h3', { id: 'lab-trend-title', class: 'section-title', tabindex: '-1' },
      t('labs.trendOf', { name: test.display })),
    h('p', { class: 'field-hint' },
      [test.code ? `${t('labs.code')} ${test.code}` : '', rangeText(test) ? `${t('labs.range')} ${rangeText(test)}${test.unit ? ` ${test.unit}` : ''}` : '']
        .filter(Boolean).join('　')),
    chart,
    valuesTable(test));
}

export function labsTab(ctx: PatientTabContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'clinical', testid: 'labs' });
  let loaded = false;
  const rid = encodeURIComponent(ctx.patient.regional_id);

  const head = h('div', { class: 'section-head' },
    h('h2', { class: 'section-title' }, t('labs.title')),
    h('button', { type: 'button', class: 'button small no-print', onclick: () => window.print(), testid: 'labs-print' },
      t('common.print')));

  const render = (data: LabTable, covered: boolean | null) => {
    const notice = covered !== false ? null : data.tests.length ? ownDataNote(ctx) : consentNotice(ctx, false);
    if (!data.tests.length) {
      clear(panel, head, notice, h('div', { class: 'empty-state', testid: 'labs-empty' }, h('p', null, t('labs.empty'))));
      return;
    }
    const trendSlot = h('div', { class: 'trend-slot' });
    const buttons: HTMLButtonElement[] = [];
    const choose = (test: LabTest, button: HTMLButtonElement) => {
      buttons.forEach((b) => b.setAttribute('aria-pressed', String(b === button)));
      clear(trendSlot, trendView(test));
      trendSlot.querySelector<HTMLElement>('h3')?.focus({ preventScroll: true });
      trendSlot.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    };
    const table = h('div', { class: 'lab-table-wrap', tabindex: '0', role: 'region', 'aria-label': t('labs.tableLabel') },
      h('table', { class: 'lab-table', testid: 'lab-table' },
        h('caption', { class: 'visually-hidden' }, t('labs.tableLabel')),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col', class: 'lab-name-col' }, t('labs.test')),
          h('th', { scope: 'col', class: 'lab-range-col' }, t('labs.range')),
          data.dates.map((d) => h('th', { scope: 'col', class: 'lab-date-col' }, h('time', { datetime: d }, formatShortDate(d)))))),
        h('tbody', null, data.tests.map((test) => {
          const button = h('button', {
            type: 'button', class: 'lab-test-button', 'aria-pressed': 'false', testid: 'lab-test',
            'aria-label': t('labs.showTrend', { name: test.display }),
          }, test.display || test.code);
          button.addEventListener('click', () => choose(test, button));
          buttons.push(button);
          const abnormalCount = test.cells.filter((c) => c?.abnormal).length;
          return h('tr', { class: abnormalCount ? 'has-abnormal' : '' },
            h('th', { scope: 'row', class: 'lab-name-col' }, button, h('span', { class: 'sub' }, test.unit)),
            h('td', { class: 'lab-range-col' }, rangeText(test)),
            test.cells.map(cellView));
        }))));
    clear(panel, head, notice,
      h('p', { class: 'field-hint' }, t('labs.lead')),
      table,
      h('p', { class: 'lab-legend field-hint' },
        h('span', { class: 'flag flag-high' }, 'H'), ` ${t('labs.flagHigh')}　`,
        h('span', { class: 'flag flag-low' }, 'L'), ` ${t('labs.flagLow')}`),
      trendSlot);
  };

  const load = async () => {
    clear(panel, head, loading());
    try {
      const [data, covered] = await Promise.all([
        api.get<LabTable>(`/patients/${rid}/labs`, { quiet: true }),
        othersCovered(ctx.patient.regional_id),
      ]);
      render(data, covered);
    } catch (err) {
      loaded = false;
      const slot = h('div');
      clear(panel, head, slot);
      showClinicalError(slot, err, ctx, () => { loaded = true; void load(); });
    }
  };

  return {
    panel,
    show: () => {
      if (loaded) return;
      loaded = true;
      void load();
    },
  };
}

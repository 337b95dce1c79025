// Vital-sign trends from the status posts: blood pressure (systolic and
// diastolic in one chart), pulse, temperature, SpO2 and weight, each as a
// chart and a table, over a chosen period. Printable.
import { h, clear } from '../ui/dom';
import { t, formatDateTime, formatShortDate, todayInJapan } from '../i18n';
import { loading } from '../ui/layout';
import { lineChart, niceTicks, timeOf } from '../ui/chart';
import { care, type Series } from '../api/care';
import { emptyState, errorText, isMissingRoute, itemLabel, unitText } from './care_common';
import type { CareGroupContext } from './care_group';

const kGroups: { id: string; items: string[] }[] = [
  { id: 'bp', items: ['vital.bp_systolic', 'vital.bp_diastolic'] },
  { id: 'pulse', items: ['vital.pulse'] },
  { id: 'temperature', items: ['vital.temperature'] },
  { id: 'spo2', items: ['vital.spo2'] },
  { id: 'weight', items: ['vital.weight'] },
];
const kSvgNs = 'http://www.w3.org/2000/svg';

// Printed trends include their tables.
window.addEventListener('beforeprint', () => {
  for (const d of document.querySelectorAll<HTMLDetailsElement>('.care-series-details')) d.open = true;
});

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(kSvgNs, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Two lines on one axis (blood pressure); redraws at its container's width. */
function dualChart(a: Series, b: Series, label: string): HTMLElement {
  const figure = h('figure', { class: 'chart care-dual-chart', testid: 'care-chart-bp' });
  const canvas = h('div', { class: 'chart-canvas' });
  figure.append(canvas, h('figcaption', { class: 'chart-legend' },
    h('span', { class: 'chart-key care-key-a' }, itemLabel(undefined, a.item)),
    h('span', { class: 'chart-key care-key-b' }, itemLabel(undefined, b.item))));
  const draw = () => {
    const width = Math.max(280, Math.floor(canvas.clientWidth || 640));
    const height = width < 480 ? 220 : 280;
    const pad = { left: 48, right: 16, top: 18, bottom: 40 };
    const all = [...a.points, ...b.points].map((p) => ({ x: timeOf(p.at), y: Number(p.value) })).filter((p) => Number.isFinite(p.y));
    const ticks = niceTicks(Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y)), 5);
    const yMin = ticks[0] ?? 0;
    const yMax = ticks[ticks.length - 1] ?? 1;
    let tMin = Math.min(...all.map((p) => p.x));
    let tMax = Math.max(...all.map((p) => p.x));
    if (!(tMax > tMin)) { tMin -= 86_400_000; tMax += 86_400_000; }
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const xOf = (ms: number) => pad.left + ((ms - tMin) / (tMax - tMin)) * plotW;
    const yOf = (v: number) => pad.top + plotH - ((v - yMin) / (yMax - yMin || 1)) * plotH;
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label, class: 'chart-svg' });
    for (const v of ticks) {
      root.append(svg('line', { x1: pad.left, x2: pad.left + plotW, y1: yOf(v), y2: yOf(v), class: 'chart-grid' }));
      root.append(svg('text', { x: pad.left - 6, y: yOf(v) + 4, 'text-anchor': 'end', class: 'chart-label' }, String(v)));
    }
    root.append(svg('text', { x: 4, y: pad.top - 6, class: 'chart-label' }, unitText(a.unit)));
    const axisY = pad.top + plotH;
    root.append(svg('line', { x1: pad.left, x2: pad.left + plotW, y1: axisY, y2: axisY, class: 'chart-axis' }));
    root.append(svg('text', { x: pad.left, y: axisY + 20, class: 'chart-label' }, formatShortDate(new Date(tMin).toISOString())));
    root.append(svg('text', { x: pad.left + plotW, y: axisY + 20, 'text-anchor': 'end', class: 'chart-label' }, formatShortDate(new Date(tMax).toISOString())));
    [a, b].forEach((s, i) => {
      const pts = s.points.map((p) => ({ x: xOf(timeOf(p.at)), y: yOf(Number(p.value)), p })).sort((p, q) => p.x - q.x);
      if (pts.length > 1) root.append(svg('path', { d: pts.map((p, j) => `${j ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' '), class: `chart-line care-line-${i ? 'b' : 'a'}` }));
      for (const p of pts) {
        const dot = svg('circle', { cx: p.x, cy: p.y, r: 4.5, class: `chart-point care-point-${i ? 'b' : 'a'}`, 'data-testid': 'chart-point' });
        dot.append(svg('title', {}, `${formatDateTime(p.p.at)} ${p.p.value} ${unitText(s.unit)}`));
        root.append(dot);
      }
    });
    canvas.replaceChildren(root);
  };
  requestAnimationFrame(draw);
  if (typeof ResizeObserver !== 'undefined') {
    let last = 0;
    const observer = new ResizeObserver(() => {
      if (!figure.isConnected) {
        if (last) observer.disconnect();
        return;
      }
      if (Math.abs(canvas.clientWidth - last) < 2) return;
      last = canvas.clientWidth;
      draw();
    });
    observer.observe(canvas);
  }
  return figure;
}

function seriesTable(list: Series[]): HTMLElement {
  const times = [...new Set(list.flatMap((s) => s.points.map((p) => p.at)))].sort().reverse();
  const cell = (s: Series, at: string) => s.points.find((p) => p.at === at)?.value ?? '';
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data-table care-series-table', testid: 'care-series-table' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('care.series.when')),
      list.map((s) => h('th', { scope: 'col' }, `${itemLabel(undefined, s.item)} (${unitText(s.unit)})`)))),
    h('tbody', null, times.map((at) => h('tr', null, h('td', { 'data-label': t('care.series.when') }, formatDateTime(at)),
      list.map((s) => h('td', { 'data-label': itemLabel(undefined, s.item) }, String(cell(s, at)))))))));
}

export function seriesTab(ctx: CareGroupContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'care-series', testid: 'care-series' });
  const body = h('div', null);
  const period = h('select', { class: 'input', name: 'period', 'aria-label': t('care.series.period'), testid: 'care-series-period' },
    (['30', '90', '365', ''] as const).map((d) => h('option', { value: d }, d ? t('care.series.days', { n: d }) : t('care.series.all'))));
  period.value = '90';
  const load = async () => {
    clear(body, loading());
    const to = todayInJapan();
    const days = Number(period.value);
    const from = days ? new Date(Date.parse(`${to}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10) : undefined;
    let series: Series[];
    try {
      series = await care.series(ctx.group.id, kGroups.flatMap((g) => g.items), from, days ? to : undefined);
    } catch (err) {
      clear(body, h('p', { class: 'empty-state' }, isMissingRoute(err) ? t('care.notAvailable') : errorText(err)));
      return;
    }
    const byItem = new Map(series.map((s) => [s.item, s]));
    const sections = kGroups.map((g) => {
      const list = g.items.map((i) => byItem.get(i)).filter((s): s is Series => Boolean(s && s.points.length));
      if (!list.length) return null;
      const title = g.id === 'bp' ? t('care.bloodPressure') : itemLabel(undefined, g.items[0] ?? '');
      const a = list[0] as Series;
      const chart = g.id === 'bp' && list.length === 2
        ? dualChart(list[0] as Series, list[1] as Series, title)
        : lineChart({
          label: title, unit: unitText(a.unit), testid: `care-chart-${g.id}`,
          points: a.points.map((p) => ({ x: p.at, y: Number(p.value), label: `${p.value} ${unitText(a.unit)}` })),
        });
      return h('section', { class: 'care-series-section', testid: `care-series-${g.id}` },
        h('h3', null, title), chart,
        h('details', { class: 'care-series-details' }, h('summary', null, t('care.series.table')), seriesTable(list)));
    }).filter((s): s is HTMLElement => s !== null);
    clear(body, sections.length ? sections : emptyState(t('care.series.none'), 'care-series-empty'));
  };
  period.addEventListener('change', () => void load());
  panel.append(h('div', { class: 'care-toolbar no-print' },
    h('label', { class: 'care-filter' }, h('span', { class: 'field-label' }, t('care.series.period')), period),
    h('button', { type: 'button', class: 'button small', onclick: () => window.print() }, t('common.print'))), body);
  return { panel, show: () => void load() };
}

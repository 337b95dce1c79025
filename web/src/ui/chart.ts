// A small dependency-free SVG line chart for lab trends: points on a time
// axis, the reference range as a band, abnormal points marked (▲ high in red,
// ▼ low in blue), axis labels. It redraws at the width of its container, so
// it stays legible on a phone and scales when printed.
const kSvgNs = 'http://www.w3.org/2000/svg';

export interface ChartPoint {
  /** YYYY-MM-DD or an ISO date-time. */
  x: string;
  y: number;
  /** Interpretation code (H, L, HH, LL, A, N...); '' when none. */
  flag?: string;
  abnormal?: boolean;
  /** Extra text for the point's tooltip (value with unit, source). */
  label?: string;
}

export interface LineChartOptions {
  points: ChartPoint[];
  low?: number | null;
  high?: number | null;
  unit?: string;
  /** Read by screen readers: what the chart shows. */
  label: string;
  /** Legend texts (already translated). */
  legend?: { range: string; high: string; low: string };
  formatX?: (x: string) => string;
  testid?: string;
}

type SvgAttrs = Record<string, string | number | undefined>;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: SvgAttrs = {},
  ...children: (Node | string)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(kSvgNs, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** Milliseconds of a date or date-time (a plain date counts as noon UTC). */
export function timeOf(x: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(x)) return Date.parse(`${x}T12:00:00Z`);
  const ms = Date.parse(x);
  return Number.isNaN(ms) ? 0 : ms;
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 0.5; v += step) {
    ticks.push(Number(v.toFixed(10)));
    if (ticks.length > 50) break;
  }
  return ticks;
}

function formatTick(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

function defaultFormatX(x: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(x);
  return m ? `${m[1]}/${Number(m[2])}/${Number(m[3])}` : x;
}

function isHigh(p: ChartPoint): boolean {
  return /^H/.test(p.flag ?? '') || p.flag === '>';
}

function isLow(p: ChartPoint): boolean {
  return /^L/.test(p.flag ?? '') || p.flag === '<';
}

/** Draws the chart into an SVG of the given pixel width. */
export function drawLineChart(o: LineChartOptions, width: number): SVGSVGElement {
  const narrow = width < 480;
  const height = narrow ? 220 : 280;
  const pad = { left: narrow ? 46 : 60, right: 16, top: 18, bottom: narrow ? 40 : 46 };
  const plotW = Math.max(40, width - pad.left - pad.right);
  const plotH = height - pad.top - pad.bottom;
  const points = o.points.filter((p) => Number.isFinite(p.y)).sort((a, b) => timeOf(a.x) - timeOf(b.x));
  const formatX = o.formatX ?? defaultFormatX;

  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': o.label,
    class: 'chart-svg', 'data-testid': o.testid,
  });
  root.append(svg('title', {}, o.label));

  const ys = points.map((p) => p.y);
  if (o.low !== null && o.low !== undefined) ys.push(o.low);
  if (o.high !== null && o.high !== undefined) ys.push(o.high);
  const ticks = niceTicks(Math.min(...ys), Math.max(...ys), narrow ? 4 : 5);
  const yMin = ticks[0] ?? 0;
  const yMax = ticks[ticks.length - 1] ?? 1;
  const yOf = (v: number) => pad.top + plotH - ((v - yMin) / (yMax - yMin || 1)) * plotH;

  const times = points.map((p) => timeOf(p.x));
  let tMin = Math.min(...times);
  let tMax = Math.max(...times);
  if (!(tMax > tMin)) {
    tMin -= 86_400_000;
    tMax += 86_400_000;
  }
  const xOf = (ms: number) => pad.left + ((ms - tMin) / (tMax - tMin)) * plotW;

  // Reference range band (open ends run to the plot's edge).
  const hasLow = o.low !== null && o.low !== undefined;
  const hasHigh = o.high !== null && o.high !== undefined;
  if (hasLow || hasHigh) {
    const top = hasHigh ? yOf(o.high as number) : pad.top;
    const bottom = hasLow ? yOf(o.low as number) : pad.top + plotH;
    root.append(svg('rect', {
      x: pad.left, y: Math.min(top, bottom), width: plotW, height: Math.abs(bottom - top),
      class: 'chart-range', 'data-testid': 'chart-range',
    }));
  }

  // Y grid and labels.
  for (const v of ticks) {
    const y = yOf(v);
    root.append(svg('line', { x1: pad.left, x2: pad.left + plotW, y1: y, y2: y, class: 'chart-grid' }));
    root.append(svg('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-label' }, formatTick(v)));
  }
  if (o.unit) {
    root.append(svg('text', { x: 4, y: pad.top - 6, class: 'chart-label chart-unit' }, o.unit));
  }

  // X axis with up to a handful of date labels taken from the points.
  const axisY = pad.top + plotH;
  root.append(svg('line', { x1: pad.left, x2: pad.left + plotW, y1: axisY, y2: axisY, class: 'chart-axis' }));
  const maxLabels = Math.max(2, Math.floor(plotW / (narrow ? 70 : 90)));
  const step = Math.max(1, Math.ceil(points.length / maxLabels));
  points.forEach((p, i) => {
    if (i % step !== 0 && i !== points.length - 1) return;
    if (i !== points.length - 1 && points.length - 1 - i < step && i !== 0) return;
    const x = xOf(timeOf(p.x));
    // Labels at the ends are anchored inwards so that they are not clipped.
    const anchor = x - pad.left < 36 ? 'start' : pad.left + plotW - x < 36 ? 'end' : 'middle';
    root.append(svg('line', { x1: x, x2: x, y1: axisY, y2: axisY + 5, class: 'chart-axis' }));
    root.append(svg('text', { x, y: axisY + 20, 'text-anchor': anchor, class: 'chart-label' }, formatX(p.x)));
  });

  // The line, then the points on top.
  if (points.length > 1) {
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${xOf(timeOf(p.x)).toFixed(1)},${yOf(p.y).toFixed(1)}`).join(' ');
    root.append(svg('path', { d, class: 'chart-line' }));
  }
  for (const p of points) {
    const x = xOf(timeOf(p.x));
    const y = yOf(p.y);
    const tip = `${formatX(p.x)}  ${p.label ?? formatTick(p.y)}${p.flag ? ` (${p.flag})` : ''}`;
    let mark: SVGElement;
    if (p.abnormal && isHigh(p)) {
      mark = svg('path', { d: `M${x},${y - 7} L${x + 6.5},${y + 5} L${x - 6.5},${y + 5} Z`, class: 'chart-point chart-high' });
    } else if (p.abnormal && isLow(p)) {
      mark = svg('path', { d: `M${x},${y + 7} L${x + 6.5},${y - 5} L${x - 6.5},${y - 5} Z`, class: 'chart-point chart-low' });
    } else if (p.abnormal) {
      mark = svg('rect', { x: x - 5, y: y - 5, width: 10, height: 10, class: 'chart-point chart-abnormal' });
    } else {
      mark = svg('circle', { cx: x, cy: y, r: 4.5, class: 'chart-point' });
    }
    mark.setAttribute('data-testid', p.abnormal ? 'chart-point-abnormal' : 'chart-point');
    mark.append(svg('title', {}, tip));
    root.append(mark);
  }
  return root;
}

/**
 * A chart that fills its container's width and redraws when that changes.
 * Returns the container element (a <figure> with an optional legend).
 */
export function lineChart(o: LineChartOptions): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  if (o.testid) figure.dataset.testid = o.testid;
  const canvas = document.createElement('div');
  canvas.className = 'chart-canvas';
  figure.append(canvas);
  if (o.legend) {
    const legend = document.createElement('figcaption');
    legend.className = 'chart-legend';
    const item = (cls: string, text: string) => {
      const span = document.createElement('span');
      span.className = `chart-key ${cls}`;
      span.textContent = text;
      return span;
    };
    legend.append(item('key-range', o.legend.range), item('key-high', o.legend.high), item('key-low', o.legend.low));
    figure.append(legend);
  }
  let drawnWidth = 0;
  const draw = () => {
    const width = Math.max(280, Math.floor(canvas.clientWidth || 640));
    if (Math.abs(width - drawnWidth) < 2) return;
    drawnWidth = width;
    canvas.replaceChildren(drawLineChart({ ...o, testid: undefined }, width));
  };
  draw();
  if (typeof ResizeObserver !== 'undefined') {
    const observer = new ResizeObserver(() => {
      if (!figure.isConnected) {
        if (drawnWidth) observer.disconnect();
        return;
      }
      draw();
    });
    observer.observe(canvas);
  }
  return figure;
}

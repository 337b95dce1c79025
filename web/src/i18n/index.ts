import { ja, type MessageKey } from './ja';
import { en } from './en';

export type { MessageKey };
export type Lang = 'ja' | 'en';

const kStorageKey = 'tsunagu.lang';
const catalogues: Record<Lang, Record<MessageKey, string>> = { ja, en };
const listeners = new Set<() => void>();

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(kStorageKey);
    if (saved === 'ja' || saved === 'en') return saved;
  } catch {
    // Storage may be unavailable (private mode); fall back to Japanese.
  }
  return 'ja';
}

let current: Lang = initialLang();
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(kStorageKey, next);
  } catch {
    // Not persisted; the choice still applies to this page.
  }
  for (const fn of listeners) fn();
}

export function onLangChange(fn: () => void): void {
  listeners.add(fn);
}

/** Translates a key, replacing {name} placeholders with params. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  let text = catalogues[current][key] ?? ja[key] ?? key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (m, name: string) =>
      name in params ? String(params[name]) : m,
    );
  }
  return text;
}

/** Translates a key built at run time (an enum value); falls back to the raw value. */
export function tDynamic(prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  if (key in ja) return t(key as MessageKey);
  return value;
}

export function hasKey(key: string): key is MessageKey {
  return key in ja;
}

const kDateTime: Record<Lang, Intl.DateTimeFormat> = {
  ja: new Intl.DateTimeFormat('ja-JP', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }),
  en: new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }),
};

/** Formats an ISO-8601 UTC timestamp in Japan time. */
export function formatDateTime(iso: string | undefined | null): string {
  if (!iso) return t('common.none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return kDateTime[current].format(d);
}

/** Formats a YYYY-MM-DD date for display (kept as the calendar date). */
export function formatDate(date: string | undefined | null): string {
  if (!date) return t('common.none');
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return date;
  if (current === 'ja') return `${m[1]}年${Number(m[2])}月${Number(m[3])}日`;
  return date;
}

/** Age in whole years on today's date in Japan. */
export function ageOn(birth: string, today = new Date()): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birth);
  if (!m) return null;
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit',
  }).format(today).split('-').map(Number);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = (parts[0] ?? 0) - y;
  if ((parts[1] ?? 0) < mo || ((parts[1] ?? 0) === mo && (parts[2] ?? 0) < d)) age--;
  return age >= 0 ? age : null;
}

const kJapanDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit',
});
const kJapanTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hour12: false,
});

/** Today's date in Japan as YYYY-MM-DD. */
export function todayInJapan(now = new Date()): string {
  return kJapanDate.format(now);
}

/**
 * The calendar day (Japan time) of a clinical date or date-time:
 * "2024-04-04" stays as it is, "2024-04-04T01:00:00Z" becomes "2024-04-04".
 */
export function dayOf(effective: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(effective)) return effective;
  if (/^\d{4}-\d{2}$/.test(effective)) return `${effective}-01`;
  if (/^\d{4}$/.test(effective)) return `${effective}-01-01`;
  const d = new Date(effective);
  if (Number.isNaN(d.getTime())) return effective.slice(0, 10);
  return kJapanDate.format(d);
}

/** The time of day (Japan time, HH:MM) of a date-time; '' for a plain date. */
export function timeOfDay(effective: string): string {
  if (!effective.includes('T')) return '';
  const d = new Date(effective);
  return Number.isNaN(d.getTime()) ? '' : kJapanTime.format(d);
}

/** A day heading: 2024年4月4日（木） / Thu 2024-04-04. */
export function formatDay(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const weekday = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDay();
  if (current === 'ja') return `${formatDate(day)}（${'日月火水木金土'[weekday]}）`;
  return `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][weekday]} ${day}`;
}

/** A short date for table headers and chart axes: 2024/4/4. */
export function formatShortDate(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(dayOf(date));
  return m ? `${m[1]}/${Number(m[2])}/${Number(m[3])}` : date;
}

// The team's schedule: visits, day service, short stays, outpatient visits,
// in day, week and month views (Japan time), with adding, editing and
// deleting events. Narrow screens show the week and month as lists.
import { h, clear } from '../ui/dom';
import { t, tDynamic, dayOf, timeOfDay, formatDay, todayInJapan, lang } from '../i18n';
import { loading } from '../ui/layout';
import { inputField, selectField, switchField, formError, busy, submitButton } from '../ui/forms';
import { openDialog, confirmDialog } from '../ui/dialog';
import { toast } from '../ui/toast';
import { care, kEventKinds, type CareEvent, type EventKind, type NewEvent } from '../api/care';
import { emptyState, errorText, isMissingRoute } from './care_common';
import type { CareGroupContext } from './care_group';

type View = 'day' | 'week' | 'month';

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function weekday(day: string): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay();
}

/** The visible range [from, to] (inclusive days) of a view around a day. */
function rangeOf(view: View, day: string): { from: string; to: string } {
  if (view === 'day') return { from: day, to: day };
  if (view === 'week') {
    const from = addDays(day, -((weekday(day) + 6) % 7)); // Monday first
    return { from, to: addDays(from, 6) };
  }
  const first = `${day.slice(0, 7)}-01`;
  const next = new Date(`${first}T00:00:00Z`);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const last = addDays(next.toISOString().slice(0, 10), -1);
  return { from: addDays(first, -((weekday(first) + 6) % 7)), to: addDays(last, (7 - weekday(last)) % 7) };
}

/** Japan wall-clock date + time as ISO 8601 with the +09:00 offset. */
function japanTime(date: string, time: string): string {
  return `${date}T${time || '00:00'}:00+09:00`;
}

/** The Japan days an event covers (all-day events carry dates, inclusive). */
function eventDays(e: CareEvent): { first: string; last: string } {
  const first = dayOf(e.starts_at);
  const last = e.all_day ? dayOf(e.ends_at) : dayOf(new Date(Date.parse(e.ends_at) - 1).toISOString());
  return { first, last: last < first ? first : last };
}

function onDay(e: CareEvent, day: string): boolean {
  const { first, last } = eventDays(e);
  return first <= day && day <= last;
}

function eventTime(e: CareEvent): string {
  if (e.all_day) return t('care.sched.allDay');
  return `${timeOfDay(e.starts_at)}–${timeOfDay(e.ends_at)}`;
}

function openEventForm(ctx: CareGroupContext, day: string, existing: CareEvent | null, saved: () => void): void {
  const error = formError();
  const title = inputField({ label: t('care.sched.eventTitle'), name: 'title', required: true, maxlength: 200, value: existing?.title, testid: 'event-title' });
  const kind = selectField({
    label: t('care.sched.kind'), name: 'kind', value: existing?.kind ?? 'visit_nursing', testid: 'event-kind',
    options: kEventKinds.map((k) => ({ value: k, label: tDynamic('care.eventKind', k) })),
  });
  const startDay = existing ? dayOf(existing.starts_at) : day;
  const date = inputField({ label: t('care.sched.date'), name: 'date', type: 'date', required: true, value: startDay, testid: 'event-date' });
  const lastDay = inputField({ label: t('care.sched.lastDay'), name: 'last_day', type: 'date', value: existing?.all_day ? dayOf(existing.ends_at) : startDay, testid: 'event-last-day' });
  const start = inputField({ label: t('care.sched.start'), name: 'start', type: 'time', value: existing && !existing.all_day ? timeOfDay(existing.starts_at) : '10:00', testid: 'event-start' });
  const end = inputField({ label: t('care.sched.end'), name: 'end', type: 'time', value: existing && !existing.all_day ? timeOfDay(existing.ends_at) : '11:00', testid: 'event-end' });
  const allDay = switchField({ label: t('care.sched.allDay'), name: 'all_day', checked: existing?.all_day ?? false });
  const location = inputField({ label: t('care.sched.location'), name: 'location', maxlength: 200, value: existing?.location });
  const note = h('textarea', { class: 'input', rows: 3, name: 'note', 'aria-label': t('care.sched.note') });
  note.value = existing?.note ?? '';
  const times = h('div', { class: 'grid-2' }, start.wrap, end.wrap);
  const syncAllDay = () => {
    times.hidden = allDay.input.checked;
    lastDay.wrap.hidden = !allDay.input.checked;
  };
  allDay.input.addEventListener('change', syncAllDay);
  syncAllDay();
  const submit = submitButton(t('common.save'), 'event-save');
  const form = h('form', {
    novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.hide();
      if (!title.input.value.trim() || !date.input.value) {
        error.show(t('care.sched.required'));
        return;
      }
      const whole = allDay.input.checked;
      const last = lastDay.input.value || date.input.value;
      if (whole && last < date.input.value) {
        error.show(t('care.sched.endBeforeStart'));
        lastDay.input.focus();
        return;
      }
      if (!whole && end.input.value <= start.input.value) {
        error.show(t('care.sched.endBeforeStart'));
        end.input.focus();
        return;
      }
      const body: NewEvent = {
        title: title.input.value.trim(), kind: kind.select.value as EventKind, all_day: whole,
        starts_at: whole ? date.input.value : japanTime(date.input.value, start.input.value),
        ends_at: whole ? last : japanTime(date.input.value, end.input.value),
        location: location.input.value.trim(), note: note.value.trim(),
      };
      try {
        await busy(submit, () => (existing ? care.updateEvent(existing.id, body) : care.createEvent(ctx.group.id, body)));
        toast(t('care.sched.saved'), 'success');
        dialog.close();
        saved();
      } catch (err) {
        error.show(errorText(err));
      }
    },
  }, error.el, title.wrap, kind.wrap, date.wrap, allDay.wrap, lastDay.wrap, times, location.wrap,
  h('div', { class: 'field' }, h('label', { class: 'field-label' }, t('care.sched.note')), note),
  existing ? h('p', { class: 'field-hint' }, t('care.sched.by', { created: existing.created_by_name, updated: existing.updated_by_name })) : null,
  h('div', { class: 'actions' },
    existing ? h('button', {
      type: 'button', class: 'button danger-outline', testid: 'event-delete',
      onclick: async () => {
        if (!(await confirmDialog(t('care.sched.deleteConfirm'), t('care.delete'), true))) return;
        await care.deleteEvent(existing.id);
        toast(t('care.sched.deleted'), 'success');
        dialog.close();
        saved();
      },
    }, t('care.delete')) : null,
    h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, t('common.cancel')), submit));
  const dialog = openDialog(existing ? t('care.sched.editTitle') : t('care.sched.addTitle'), form);
  title.input.focus();
}

export function scheduleTab(ctx: CareGroupContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'care-schedule', testid: 'care-schedule' });
  let view: View = window.matchMedia?.('(max-width: 600px)').matches ? 'week' : 'month';
  let day = todayInJapan();
  const editable = !ctx.group.archived;

  const chip = (e: CareEvent) => h('button', {
    type: 'button', class: `care-event care-event-${e.kind}`, testid: 'care-event', disabled: !editable,
    onclick: () => openEventForm(ctx, day, e, () => void load()),
  }, h('span', { class: 'care-event-time' }, eventTime(e)), ' ', h('span', null, e.title),
  e.location ? h('span', { class: 'field-hint' }, ` @${e.location}`) : null);

  const dayList = (d: string, events: CareEvent[]) => {
    const mine = events.filter((e) => onDay(e, d));
    return h('section', { class: d === todayInJapan() ? 'care-day today' : 'care-day' },
      h('h3', { class: 'care-day-head' }, h('button', { type: 'button', class: 'link-button', onclick: () => { day = d; view = 'day'; void load(); } }, formatDay(d))),
      mine.length ? h('ul', { class: 'care-event-list' }, mine.map((e) => h('li', null, chip(e)))) : h('p', { class: 'field-hint care-day-empty' }, t('care.sched.noneDay')));
  };

  const monthGrid = (from: string, to: string, events: CareEvent[]) => {
    const days: string[] = [];
    for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
    const heads = t('care.sched.weekdays').split(',');
    return h('div', { class: 'care-month', role: 'grid', 'aria-label': day.slice(0, 7) },
      heads.map((w) => h('div', { class: 'care-month-head', role: 'columnheader' }, w)),
      days.map((d) => {
        const mine = events.filter((e) => onDay(e, d));
        return h('div', { class: `care-month-day${d.slice(0, 7) === day.slice(0, 7) ? '' : ' other'}${d === todayInJapan() ? ' today' : ''}`, role: 'gridcell' },
          h('button', { type: 'button', class: 'link-button care-month-date', 'aria-label': formatDay(d), onclick: () => { day = d; view = 'day'; void load(); } }, String(Number(d.slice(8)))),
          mine.map(chip));
      }));
  };

  const load = async () => {
    const { from, to } = rangeOf(view, day);
    const viewButton = (v: View) => h('button', { type: 'button', class: 'button small', 'aria-pressed': String(view === v), testid: `sched-${v}`, onclick: () => { view = v; void load(); } }, t(`care.sched.${v}`));
    const step = (n: number) => {
      if (view === 'day') day = addDays(day, n);
      else if (view === 'week') day = addDays(day, 7 * n);
      else {
        const d = new Date(`${day.slice(0, 7)}-01T00:00:00Z`);
        d.setUTCMonth(d.getUTCMonth() + n);
        day = d.toISOString().slice(0, 10);
      }
      void load();
    };
    const heading = view === 'month'
      ? t('care.sched.monthTitle', { year: day.slice(0, 4), month: lang() === 'ja' ? Number(day.slice(5, 7)) : day.slice(5, 7) })
      : view === 'week' ? `${formatDay(from)} – ${formatDay(to)}` : formatDay(day);
    const body = h('div', null, loading());
    clear(panel,
      h('div', { class: 'care-toolbar care-sched-bar no-print' },
        h('div', { class: 'care-seg', role: 'group', 'aria-label': t('care.sched.view') }, viewButton('day'), viewButton('week'), viewButton('month')),
        h('div', { class: 'care-seg' },
          h('button', { type: 'button', class: 'button small', 'aria-label': t('common.prev'), onclick: () => step(-1) }, '‹'),
          h('button', { type: 'button', class: 'button small', onclick: () => { day = todayInJapan(); void load(); } }, t('care.sched.today')),
          h('button', { type: 'button', class: 'button small', 'aria-label': t('common.next'), onclick: () => step(1) }, '›')),
        editable ? h('button', { type: 'button', class: 'button primary', testid: 'event-add', onclick: () => openEventForm(ctx, day, null, () => void load()) }, t('care.sched.add')) : null,
        h('button', { type: 'button', class: 'button small', onclick: () => window.print() }, t('common.print'))),
      h('h3', { class: 'care-sched-title', testid: 'care-sched-title' }, heading),
      body);
    let events: CareEvent[];
    try {
      events = (await care.events(ctx.group.id, from, to)).sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    } catch (err) {
      clear(body, h('p', { class: 'empty-state' }, isMissingRoute(err) ? t('care.notAvailable') : errorText(err)));
      return;
    }
    if (view === 'day') {
      clear(body, dayList(day, events));
    } else if (view === 'week') {
      const days: string[] = [];
      for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
      clear(body, h('div', { class: 'care-week' }, days.map((d) => dayList(d, events))));
    } else {
      const days = [...new Set(events.flatMap((e) => {
        const out: string[] = [];
        for (let d = dayOf(e.starts_at) < from ? from : dayOf(e.starts_at); onDay(e, d) && d <= to; d = addDays(d, 1)) out.push(d);
        return out;
      }))].sort();
      clear(body,
        events.length ? null : emptyState(t('care.sched.noneMonth'), 'care-sched-empty'),
        monthGrid(from, to, events),
        events.length ? h('div', { class: 'care-month-list' }, days.map((d) => dayList(d, events))) : null);
    }
  };
  return { panel, show: () => void load() };
}

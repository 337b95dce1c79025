// Data tables that turn into labelled cards on narrow screens.
import { h } from './dom';
import { t } from '../i18n';

type Cell = Node | string | number | null | undefined;

export interface Column<T> {
  label: string;
  cell: (row: T) => Cell | Cell[];
  className?: string;
}

export function dataTable<T>(
  columns: Column<T>[],
  rows: T[],
  options: { empty: string; caption?: string; testid?: string; rowTestId?: (row: T) => string } = {
    empty: '',
  },
): HTMLElement {
  if (rows.length === 0) {
    return h('div', { class: 'empty-state', testid: options.testid ? `${options.testid}-empty` : 'empty' },
      h('p', null, options.empty));
  }
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table', testid: options.testid },
      options.caption ? h('caption', { class: 'visually-hidden' }, options.caption) : null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
      h(
        'tbody',
        null,
        rows.map((row) =>
          h(
            'tr',
            { testid: options.rowTestId?.(row) },
            columns.map((c) => {
              const value = c.cell(row);
              const content = value === '' || value === null || value === undefined ? t('common.none') : value;
              return h('td', { 'data-label': c.label, class: c.className }, h('div', { class: 'cell' }, content as Node));
            }),
          ),
        ),
      ),
    ),
  );
}

export function pager(
  total: number,
  offset: number,
  limit: number,
  go: (offset: number) => void,
): HTMLElement | null {
  if (total <= 0) return null;
  const from = offset + 1;
  const to = Math.min(offset + limit, total);
  return h(
    'nav',
    { class: 'pager', 'aria-label': t('common.page', { from, to, total }) },
    h('span', { class: 'pager-info' }, t('common.page', { from, to, total })),
    h('button', {
      type: 'button', class: 'button', disabled: offset <= 0,
      onclick: () => go(Math.max(0, offset - limit)),
    }, t('common.prev')),
    h('button', {
      type: 'button', class: 'button', disabled: to >= total,
      onclick: () => go(offset + limit),
    }, t('common.next')),
  );
}

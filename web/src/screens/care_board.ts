// The shared board (共有ボード): standing information of the team (key
// points of care, emergency contacts, ...) in sections; anyone edits one
// section at a time. A stale version (409) means someone else saved first:
// say so and show the current text.
import { h, clear } from '../ui/dom';
import { t, hasKey, formatDateTime } from '../i18n';
import { loading } from '../ui/layout';
import { formError, busy } from '../ui/forms';
import { toast } from '../ui/toast';
import { ApiError } from '../api/client';
import { care, type BoardSection } from '../api/care';
import { emptyState, errorText, isMissingRoute } from './care_common';
import type { CareGroupContext } from './care_group';

function sectionLabel(s: BoardSection): string {
  const key = `care.boardSection.${s.section}`;
  return hasKey(key) ? t(key) : s.label;
}

export function boardTab(ctx: CareGroupContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'care-board', testid: 'care-board' });
  const editable = !ctx.group.archived && !ctx.family;

  const sectionView = (s: BoardSection, notice?: string): HTMLElement => {
    const box = h('section', { class: 'care-board-section', testid: `board-${s.section}` });
    const showText = (message?: string) => clear(box,
      h('div', { class: 'care-board-head' },
        h('h3', null, sectionLabel(s)),
        editable ? h('button', { type: 'button', class: 'button small no-print', testid: `board-edit-${s.section}`, onclick: () => edit() }, t('common.edit')) : null),
      message ? h('p', { class: 'notice notice-warn', role: 'alert', testid: 'board-conflict' }, message) : null,
      s.body ? h('p', { class: 'care-board-body' }, s.body) : h('p', { class: 'field-hint' }, t('care.board.empty')),
      s.updated_at ? h('p', { class: 'field-hint' }, t('care.board.updated', { name: s.updated_by_name ?? '', at: formatDateTime(s.updated_at) })) : null);
    const edit = () => {
      const error = formError();
      const area = h('textarea', { class: 'input', rows: 6, name: s.section, 'aria-label': sectionLabel(s), testid: `board-input-${s.section}` });
      area.value = s.body;
      const save = h('button', { type: 'submit', class: 'button primary', testid: `board-save-${s.section}` }, t('common.save'));
      clear(box, h('form', {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hide();
          try {
            const saved = await busy(save, () => care.saveBoard(ctx.group.id, s.section, area.value, s.version));
            Object.assign(s, saved);
            toast(t('care.board.saved'), 'success');
            showText();
          } catch (err) {
            if (err instanceof ApiError && err.status === 409) {
              // Someone else saved first: show their text; the typed text stays visible to copy.
              const mine = area.value;
              try {
                const fresh = (await care.board(ctx.group.id)).find((x) => x.section === s.section);
                if (fresh) Object.assign(s, fresh);
              } catch {
                // Keep the old text; the notice still explains.
              }
              showText(t('care.board.conflict'));
              box.append(h('details', { class: 'care-board-mine', open: true },
                h('summary', null, t('care.board.yourText')), h('p', { class: 'care-board-body' }, mine)));
              return;
            }
            error.show(errorText(err));
          }
        },
      }, h('h3', null, sectionLabel(s)), error.el, area,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button', onclick: () => showText() }, t('common.cancel')), save)));
      area.focus();
    };
    showText(notice);
    return box;
  };

  const load = async () => {
    clear(panel, loading());
    try {
      const sections = await care.board(ctx.group.id);
      clear(panel,
        h('div', { class: 'care-toolbar no-print' }, h('button', { type: 'button', class: 'button small', onclick: () => window.print() }, t('common.print'))),
        sections.length ? sections.map((s) => sectionView(s)) : emptyState(t('care.board.none'), 'care-board-empty'));
    } catch (err) {
      clear(panel, h('p', { class: 'empty-state' }, isMissingRoute(err) ? t('care.notAvailable') : errorText(err)));
    }
  };
  return { panel, show: () => void load() };
}

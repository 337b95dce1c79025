// Modal dialogs on the native <dialog> element (focus trap, Esc to close).
import { h } from './dom';
import { t } from '../i18n';

export interface DialogHandle {
  close: () => void;
  element: HTMLDialogElement;
}

export function openDialog(
  title: string,
  body: Node,
  options: { onClose?: () => void; wide?: boolean } = {},
): DialogHandle {
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const dialog = h(
    'dialog',
    { class: options.wide ? 'dialog dialog-wide' : 'dialog', 'aria-labelledby': titleId },
    h(
      'div',
      { class: 'dialog-head' },
      h('h2', { id: titleId }, title),
      h(
        'button',
        {
          type: 'button', class: 'icon-button', 'aria-label': t('common.close'),
          onclick: () => dialog.close(),
        },
        '×',
      ),
    ),
    h('div', { class: 'dialog-body' }, body),
  );
  dialog.addEventListener('close', () => {
    dialog.remove();
    options.onClose?.();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return { close: () => dialog.close(), element: dialog };
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog(message: string, confirmLabel: string, danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    let answered = false;
    const ok = h(
      'button',
      {
        type: 'button', class: danger ? 'button danger' : 'button primary', testid: 'confirm-ok',
        onclick: () => { answered = true; handle.close(); resolve(true); },
      },
      confirmLabel,
    );
    const body = h(
      'div',
      null,
      h('p', null, message),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'button', onclick: () => handle.close() }, t('common.cancel')),
        ok,
      ),
    );
    const handle = openDialog(confirmLabel, body, { onClose: () => { if (!answered) resolve(false); } });
    ok.focus();
  });
}

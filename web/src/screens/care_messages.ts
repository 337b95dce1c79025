// Direct conversations between members of a care group: the list with
// unread counts, starting one with chosen members, and a conversation view
// (own messages on the right, others' on the left; older ones on demand).
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDateTime } from '../i18n';
import { loading } from '../ui/layout';
import { formError, busy } from '../ui/forms';
import { session } from '../session';
import { care, type CareMessage, type Conversation } from '../api/care';
import { emptyState, errorText, isMissingRoute } from './care_common';
import { onCareFrame } from './care_live';
import type { CareGroupContext } from './care_group';

function names(c: Conversation): string {
  const me = session.user?.id;
  const others = c.participants.filter((p) => p.user_id !== me);
  return (others.length ? others : c.participants).map((p) => p.display_name).join('、');
}

function bubble(m: CareMessage): HTMLElement {
  return h('li', { class: m.mine ? 'care-msg mine' : 'care-msg', testid: m.mine ? 'care-msg-mine' : 'care-msg-other' },
    m.mine ? null : h('span', { class: 'care-msg-author' }, m.author_name),
    h('p', { class: 'care-msg-body' }, m.body),
    h('time', { class: 'field-hint', datetime: m.created_at }, formatDateTime(m.created_at)));
}

export function messagesTab(ctx: CareGroupContext): { panel: HTMLElement; show: () => void } {
  const panel = h('div', { class: 'care-messages' });
  let openId: number | null = null;
  let view: 'list' | 'conversation' = 'list';

  const showList = async () => {
    view = 'list';
    openId = null;
    clear(panel, loading());
    let items: Conversation[];
    try {
      items = await care.conversations(ctx.group.id);
    } catch (err) {
      clear(panel, h('p', { class: 'empty-state' }, isMissingRoute(err) ? t('care.notAvailable') : errorText(err)));
      return;
    }
    clear(panel,
      ctx.group.archived ? null : h('div', { class: 'care-toolbar' },
        h('button', { type: 'button', class: 'button primary', testid: 'care-new-conversation', onclick: startForm }, t('care.msg.new'))),
      items.length
        ? h('ul', { class: 'care-conversations', testid: 'care-conversations' }, items.map((c) =>
          h('li', null, h('button', { type: 'button', class: 'care-conversation', onclick: () => void showConversation(c) },
            h('span', { class: 'care-conv-names' }, h('strong', null, names(c)),
              c.unread_count ? h('span', { class: 'care-unread', testid: 'care-conv-unread' }, t('care.unreadMessages', { n: c.unread_count })) : null),
            h('span', { class: 'field-hint care-conv-last' }, c.last_message ? `${c.last_message.author_name}: ${c.last_message.body.slice(0, 60)}` : ''),
            h('span', { class: 'field-hint' }, formatDateTime(c.updated_at))))))
        : emptyState(t('care.msg.none'), 'care-conversations-empty'));
  };

  const startForm = () => {
    const me = session.user?.id;
    const error = formError();
    const boxes = (ctx.group.members ?? []).filter((m) => m.user_id !== me && m.occupation !== 'family').map((m) =>
      h('label', { class: 'care-check' }, h('input', { type: 'checkbox', value: String(m.user_id), name: 'member' }),
        `${m.display_name}（${tDynamic('occupation', m.occupation)}）`));
    const text = h('textarea', { class: 'input', rows: 3, name: 'body', 'aria-label': t('care.msg.body'), testid: 'care-msg-first' });
    const send = h('button', { type: 'submit', class: 'button primary' }, t('care.msg.send'));
    clear(panel, h('form', {
      class: 'card care-msg-start',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        const ids = boxes.map((b) => b.querySelector('input') as HTMLInputElement).filter((i) => i.checked).map((i) => Number(i.value));
        if (!ids.length) {
          error.show(t('care.msg.pickMembers'));
          return;
        }
        if (!text.value.trim()) {
          error.show(t('care.msg.empty'));
          text.focus();
          return;
        }
        try {
          const c = await busy(send, () => care.startConversation(ctx.group.id, ids, text.value.trim()));
          await showConversation(c);
        } catch (err) {
          error.show(errorText(err));
        }
      },
    }, h('h3', { class: 'care-subtitle' }, t('care.msg.new')), error.el,
    h('fieldset', { class: 'chip-group' }, h('legend', { class: 'field-label' }, t('care.msg.to')),
      boxes.length ? h('div', { class: 'care-check-list' }, boxes) : h('p', { class: 'field-hint' }, t('care.msg.noOthers'))),
    text,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button', onclick: () => void showList() }, t('common.cancel')), send)));
    boxes[0]?.querySelector('input')?.focus();
  };

  const showConversation = async (c: Conversation) => {
    view = 'conversation';
    openId = c.id;
    const list = h('ol', { class: 'care-msgs', testid: 'care-msgs', 'aria-label': t('care.tab.messages') });
    let messages: CareMessage[] = [];
    let hasMore = false;
    const olderSlot = h('div', { class: 'care-more' });
    const renderMessages = (scroll: boolean) => {
      clear(list, messages.map(bubble));
      clear(olderSlot, hasMore ? h('button', {
        type: 'button', class: 'button small',
        onclick: async (e: Event) => {
          const page = await busy(e.currentTarget as HTMLButtonElement, () => care.messages(c.id, messages[0]?.id));
          messages = page.items.concat(messages);
          hasMore = page.has_more;
          renderMessages(false);
        },
      }, t('care.msg.older')) : null);
      if (scroll) list.lastElementChild?.scrollIntoView({ block: 'end' });
    };
    const refresh = async () => {
      const page = await care.messages(c.id);
      messages = page.items;
      hasMore = page.has_more;
      renderMessages(true);
    };
    const error = formError();
    const text = h('textarea', { class: 'input', rows: 2, name: 'body', 'aria-label': t('care.msg.body'), testid: 'care-msg-input' });
    const send = h('button', { type: 'submit', class: 'button primary', testid: 'care-msg-send' }, t('care.msg.send'));
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    const form = h('form', {
      class: 'care-msg-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        const body = text.value.trim();
        if (!body) {
          text.focus();
          return;
        }
        try {
          await busy(send, () => care.sendMessage(c.id, body));
          text.value = '';
          await refresh();
          text.focus();
        } catch (err) {
          error.show(errorText(err));
        }
      },
    }, error.el, text, send);
    clear(panel,
      h('div', { class: 'care-toolbar' },
        h('button', { type: 'button', class: 'button small care-back', onclick: () => void showList() }, `← ${t('care.msg.back')}`),
        h('strong', { testid: 'care-conv-title' }, names(c))),
      olderSlot, list, ctx.group.archived ? null : form);
    try {
      await refresh();
    } catch (err) {
      clear(list, h('li', { class: 'empty-state' }, errorText(err)));
    }
    refreshOpen = refresh;
  };
  let refreshOpen: (() => Promise<void>) | null = null;

  onCareFrame(panel, (f) => {
    if (f.group_id !== ctx.group.id || f.type !== 'care.message' || panel.closest('[hidden]')) return;
    if (view === 'conversation' && f.conversation_id === openId) void refreshOpen?.();
    else if (view === 'list') void showList();
  });
  return { panel, show: () => { if (view === 'list') void showList(); } };
}

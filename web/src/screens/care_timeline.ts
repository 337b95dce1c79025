// The group's timeline: posts newest first (or unread first), search and
// filters (pin colour, author, occupation, dates), read receipts, the post
// detail with comments and readers, live refresh, printing.
import { h, clear } from '../ui/dom';
import { t, tDynamic, formatDateTime } from '../i18n';
import { loading } from '../ui/layout';
import { openDialog, confirmDialog } from '../ui/dialog';
import { formError, busy } from '../ui/forms';
import { toast } from '../ui/toast';
import { session } from '../session';
import { kOccupations } from '../api/types';
import {
  care, kPinColors, type CarePostDetail, type CarePostSummary, type PinColor, type TemplateItem, type TimelineFilter,
} from '../api/care';
import {
  attachmentsView, emptyState, errorText, pinChips, postTime, readBadge, statusTemplate, valuesList,
} from './care_common';
import { openPostForm } from './care_post_form';
import { onCareFrame } from './care_live';
import type { CareGroupContext } from './care_group';

const kPage = 30;

function occupationOf(ctx: CareGroupContext, userId: number): string {
  const m = ctx.group.members?.find((x) => x.user_id === userId);
  return m ? tDynamic('occupation', m.occupation) : '';
}

function postHeader(ctx: CareGroupContext, p: CarePostSummary): HTMLElement {
  const occ = occupationOf(ctx, p.author_id);
  return h('div', { class: 'care-post-head' },
    h('span', { class: 'care-avatar', 'aria-hidden': 'true' }, p.author_name.slice(0, 1)),
    h('span', { class: 'care-author' }, h('strong', null, p.author_name), occ ? h('span', { class: 'field-hint' }, ` ${occ}`) : null,
      h('br'), h('time', { datetime: p.published_at ?? p.created_at, class: 'field-hint' }, postTime(p))),
    h('span', { class: 'care-post-tags' },
      h('span', { class: `chip care-kind-${p.kind}` }, t(`care.kind.${p.kind}`)),
      p.draft ? h('span', { class: 'chip chip-warn', testid: 'care-draft' }, t('care.draft')) : null,
      p.publish_to_family ? h('span', { class: 'chip care-family', testid: 'care-family' }, t('care.toFamily')) : null,
      pinChips(p.pins)));
}

/** The heading of a post: its title, else the first line of its text, else its kind. */
function headingOf(p: CarePostSummary): string {
  if (p.title) return p.title;
  const line = p.body.split('\n')[0]?.trim() ?? '';
  if (line) return line.length > 40 ? `${line.slice(0, 40)}…` : line;
  return t(`care.kind.${p.kind}`);
}

function postCard(ctx: CareGroupContext, p: CarePostSummary, template: TemplateItem[], open: (id: number) => void): HTMLElement {
  const heading = headingOf(p);
  const shown = p.body.length > 240 ? `${p.body.slice(0, 240)}…` : p.body;
  // A text that is all in the heading is not repeated.
  const snippet = !p.title && shown.trim() === heading ? '' : shown;
  return h('li', { class: p.read || p.author_id === session.user?.id ? 'care-post' : 'care-post unread', testid: 'care-post', 'data-post-id': String(p.id) },
    postHeader(ctx, p),
    h('h3', { class: 'care-post-title' },
      h('button', { type: 'button', class: 'link-button', testid: 'care-post-open', onclick: () => open(p.id) }, heading),
      !p.read && p.author_id !== session.user?.id ? h('span', { class: 'care-unread-dot', testid: 'care-unread' }, t('care.unread')) : null),
    snippet ? h('p', { class: 'care-post-body' }, snippet) : null,
    valuesList(p, template),
    attachmentsView(p.attachments),
    h('div', { class: 'care-post-foot' },
      ctx.family ? null : readBadge(p.read_count, p.audience_count),
      h('span', { class: 'field-hint', testid: 'comment-count' }, t('care.comments', { n: p.comment_count }))));
}

function pinEditor(detail: CarePostDetail, onSaved: () => void): HTMLElement {
  const chosen = new Set<PinColor>(detail.pins ?? []);
  const error = formError();
  const boxes = kPinColors.map((c) => h('label', { class: `care-pin-choice care-pin-${c}` },
    h('input', { type: 'checkbox', value: c, checked: chosen.has(c), testid: `pin-choice-${c}`,
      onchange: (e: Event) => { if ((e.target as HTMLInputElement).checked) chosen.add(c); else chosen.delete(c); } }),
    t(`care.pin.${c}`)));
  const save = h('button', {
    type: 'button', class: 'button small', testid: 'pin-save',
    onclick: async () => {
      error.hide();
      try {
        await busy(save, () => care.setPins(detail.id, [...chosen]));
        toast(t('care.pinsSaved'), 'success');
        onSaved();
      } catch (err) {
        error.show(errorText(err));
      }
    },
  }, t('care.savePins'));
  return h('fieldset', { class: 'care-pin-editor no-print' }, h('legend', null, t('care.pins')), error.el,
    h('div', { class: 'chips' }, boxes), save);
}

function openPostDialog(ctx: CareGroupContext, pid: number, template: TemplateItem[], changed: () => void): void {
  const body = h('div', { class: 'care-detail', testid: 'care-post-detail' }, loading());
  const handle = openDialog(t('care.postTitle'), body, { wide: true, onClose: changed });
  handle.element.classList.add('care-dialog');
  const render = async () => {
    let d: CarePostDetail;
    try {
      d = await care.post(pid);
    } catch (err) {
      clear(body, h('p', { class: 'empty-state', role: 'alert' }, errorText(err)));
      return;
    }
    const me = session.user;
    const mine = d.author_id === me?.id;
    const commentError = formError();
    const commentBox = h('textarea', { class: 'input', rows: 2, name: 'comment', 'aria-label': t('care.commentLabel'), testid: 'care-comment-input' });
    const commentSend = h('button', { type: 'submit', class: 'button primary', testid: 'care-comment-submit' }, t('care.commentSend'));
    const archived = ctx.group.archived;
    clear(body,
      postHeader(ctx, d),
      h('h3', { class: 'care-post-title', testid: 'care-detail-title' }, d.title || t(`care.kind.${d.kind}`)),
      d.body ? h('p', { class: 'care-post-body', testid: 'care-detail-body' }, d.body) : null,
      valuesList(d, template),
      attachmentsView(d.attachments, true),
      ctx.family ? null : h('section', { class: 'care-readers' },
        h('h4', null, readBadge(d.read_count, d.audience_count)),
        d.readers.length
          ? h('ul', { class: 'care-reader-list', testid: 'care-readers' }, d.readers.map((r) =>
            h('li', null, r.display_name, h('span', { class: 'field-hint' }, ` ${formatDateTime(r.read_at)}`))))
          : h('p', { class: 'field-hint' }, t('care.noReaders'))),
      h('section', { class: 'care-comments' },
        h('h4', null, t('care.comments', { n: d.comments.length })),
        d.comments.length
          ? h('ul', { class: 'care-comment-list', testid: 'care-comments' }, d.comments.map((c) => h('li', { class: c.author_id === me?.id ? 'care-comment mine' : 'care-comment' },
            h('div', { class: 'care-comment-head' }, h('strong', null, c.author_name), ' ', h('span', { class: 'field-hint' }, formatDateTime(c.created_at))),
            h('p', null, c.body))))
          : h('p', { class: 'field-hint' }, t('care.noComments')),
        archived || d.draft ? null : h('form', {
          class: 'care-comment-form no-print',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            commentError.hide();
            const text = commentBox.value.trim();
            if (!text) {
              commentError.show(t('care.commentEmpty'));
              commentBox.focus();
              return;
            }
            try {
              await busy(commentSend, () => care.comment(d.id, text));
              await render();
            } catch (err) {
              commentError.show(errorText(err));
            }
          },
        }, commentError.el, commentBox, h('div', { class: 'actions' }, commentSend))),
      // Pins are offered once the server reports them on posts.
      ctx.family || archived || !d.pins ? null : pinEditor(d, () => void render()),
      h('div', { class: 'actions no-print' },
        h('button', { type: 'button', class: 'button', onclick: () => window.print() }, t('common.print')),
        mine && d.draft ? h('button', {
          type: 'button', class: 'button primary', testid: 'care-publish',
          onclick: async (e: Event) => {
            await busy(e.currentTarget as HTMLButtonElement, () => care.publish(d.id));
            toast(t('care.published'), 'success');
            await render();
          },
        }, t('care.publish')) : null,
        mine ? h('button', {
          type: 'button', class: 'button danger-outline', testid: 'care-delete',
          onclick: async () => {
            if (!(await confirmDialog(t('care.deleteConfirm'), t('care.delete'), true))) return;
            await care.deletePost(d.id);
            toast(t('care.deleted'), 'success');
            handle.close();
          },
        }, t('care.delete')) : null));
  };
  void render();
}

export function timelineTab(ctx: CareGroupContext, initialPost?: number): { panel: HTMLElement; show: () => void } {
  const list = h('div', { testid: 'care-timeline' }); // Live changes are announced by toasts.
  const filter: TimelineFilter = { limit: kPage };
  let items: CarePostSummary[] = [];
  let template: TemplateItem[] = [];
  let more = false;
  let shown = false;

  const openPost = (id: number) => openPostDialog(ctx, id, template, () => void load());

  const render = () => {
    if (!items.length) {
      const filtered = Boolean(filter.q || filter.pin || filter.author || filter.occupation || filter.from || filter.to);
      clear(list, emptyState(filtered ? t('care.noMatch') : ctx.family ? t('care.noPostsFamily') : t('care.noPosts'), 'care-timeline-empty'));
      return;
    }
    clear(list,
      h('ol', { class: 'care-posts' }, items.map((p) => postCard(ctx, p, template, openPost))),
      more ? h('p', { class: 'care-more no-print' }, h('button', {
        type: 'button', class: 'button', testid: 'care-more',
        onclick: async (e: Event) => {
          const next = await busy(e.currentTarget as HTMLButtonElement, () => care.posts(ctx.group.id, { ...filter, offset: items.length }));
          more = next.length === kPage;
          items = items.concat(next);
          render();
        },
      }, t('care.more'))) : null);
  };

  const load = async () => {
    if (!items.length) clear(list, loading());
    try {
      const [posts, tpl] = await Promise.all([
        care.posts(ctx.group.id, { ...filter, offset: 0, limit: Math.max(kPage, items.length) }),
        statusTemplate().catch(() => [] as TemplateItem[]),
      ]);
      template = tpl;
      items = posts;
      more = posts.length >= kPage && posts.length % kPage === 0;
      render();
    } catch (err) {
      clear(list, h('div', { class: 'empty-state', role: 'alert' }, h('p', null, errorText(err)),
        h('button', { type: 'button', class: 'button', onclick: () => void load() }, t('common.retry'))));
    }
  };

  // Search and filters.
  const q = h('input', { type: 'search', class: 'input', name: 'q', 'aria-label': t('care.search'), placeholder: t('care.searchPlaceholder'), testid: 'care-search' });
  const unreadFirst = h('input', { type: 'checkbox', name: 'unread_first', testid: 'care-unread-first' });
  const pin = h('select', { class: 'input', name: 'pin', 'aria-label': t('care.filter.pin'), testid: 'care-filter-pin' },
    h('option', { value: '' }, t('care.filter.anyPin')), kPinColors.map((c) => h('option', { value: c }, t(`care.pin.${c}`))));
  const author = h('select', { class: 'input', name: 'author', 'aria-label': t('care.filter.author'), testid: 'care-filter-author' },
    h('option', { value: '' }, t('care.filter.anyAuthor')),
    (ctx.group.members ?? []).map((m) => h('option', { value: String(m.user_id) }, m.display_name)));
  const occupation = h('select', { class: 'input', name: 'occupation', 'aria-label': t('care.filter.occupation'), testid: 'care-filter-occupation' },
    h('option', { value: '' }, t('care.filter.anyOccupation')),
    kOccupations.map((o) => h('option', { value: o }, tDynamic('occupation', o))));
  const from = h('input', { type: 'date', class: 'input', name: 'from', 'aria-label': t('care.filter.from') });
  const to = h('input', { type: 'date', class: 'input', name: 'to', 'aria-label': t('care.filter.to') });
  const apply = () => {
    filter.q = q.value.trim() || undefined;
    filter.unread_first = unreadFirst.checked;
    filter.pin = (pin.value || undefined) as PinColor | undefined;
    filter.author = author.value ? Number(author.value) : undefined;
    filter.occupation = occupation.value || undefined;
    filter.from = from.value || undefined;
    filter.to = to.value || undefined;
    const active = [filter.pin, filter.author, filter.occupation, filter.from, filter.to].filter(Boolean).length;
    summary.textContent = active ? t('care.filter.active', { n: active }) : t('care.filter.title');
    items = [];
    void load();
  };
  const label = (text: string, control: HTMLElement) => h('label', { class: 'care-filter' }, h('span', { class: 'field-label' }, text), control);
  const summary = h('summary', { class: 'button small', testid: 'care-filters' }, t('care.filter.title'));
  const filters = h('details', { class: 'care-filters no-print' },
    summary,
    h('div', { class: 'filters' },
      label(t('care.filter.pin'), pin), label(t('care.filter.author'), author),
      label(t('care.filter.occupation'), occupation), label(t('care.filter.from'), from), label(t('care.filter.to'), to),
      h('div', { class: 'filters-actions' },
        h('button', { type: 'button', class: 'button primary small', onclick: apply }, t('care.filter.apply')),
        h('button', { type: 'button', class: 'button small', onclick: () => { for (const s of [pin, author, occupation]) s.value = ''; from.value = ''; to.value = ''; apply(); } }, t('common.clear')))));
  const canPost = !ctx.family && !ctx.group.archived;
  // The camera button: take a photo first, then the form opens with it attached.
  const cameraId = `care-camera-${ctx.group.id}`;
  const camera = h('input', {
    id: cameraId, type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'visually-hidden',
    testid: 'care-camera-input',
    onchange: () => {
      const files = Array.from(camera.files ?? []);
      camera.value = '';
      if (files.length) openPostForm(ctx, () => void load(), { files, kind: 'message' });
    },
  });
  const cameraButton = h('label', {
    for: cameraId, class: 'button care-camera', role: 'button', tabindex: '0', testid: 'care-camera',
    onkeydown: (e: KeyboardEvent) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        camera.click();
      }
    },
  }, t('care.photoPost'));
  const toolbar = h('div', { class: 'care-toolbar no-print' },
    canPost ? h('button', {
      type: 'button', class: 'button primary care-new-post', testid: 'care-new-post',
      onclick: () => openPostForm(ctx, () => void load()),
    }, t('care.newPost')) : null,
    canPost ? [camera, cameraButton] : null,
    h('form', { class: 'care-search', role: 'search', onsubmit: (e: Event) => { e.preventDefault(); apply(); } },
      q, h('button', { type: 'submit', class: 'button', testid: 'care-search-submit' }, t('common.search'))),
    h('label', { class: 'care-check' }, unreadFirst, t('care.unreadFirst')),
    h('button', { type: 'button', class: 'button small', testid: 'care-refresh', onclick: () => void load() }, t('care.refresh')),
    h('button', { type: 'button', class: 'button small', onclick: () => window.print() }, t('common.print')));
  unreadFirst.addEventListener('change', apply);
  const panel = h('div', { class: 'care-timeline' }, toolbar, ctx.family ? null : filters, list);

  onCareFrame(panel, (f) => {
    if (f.group_id === ctx.group.id && f.type !== 'care.message' && shown && !panel.closest('[hidden]')) void load();
  });
  let first = true;
  return {
    panel,
    show: () => {
      shown = true;
      void load().then(() => {
        if (first && initialPost) openPost(initialPost);
        first = false;
      });
    },
  };
}

// One WebSocket per page for live care notifications (/ws, same origin,
// session cookie). Frames: {type: care.post|care.comment|care.message|care.read,
// group_id, group_name, post_id?, conversation_id?, actor_name, at}.
// Reconnects with backoff; screens subscribe while they are on the page.
import { t } from '../i18n';
import { toast } from '../ui/toast';
import { session } from '../session';

export interface CareFrame {
  /** care.read: someone opened one of my posts (its "read by" count changed). */
  type: 'care.post' | 'care.comment' | 'care.message' | 'care.read';
  group_id: number;
  group_name: string;
  post_id?: number;
  conversation_id?: number;
  actor_name: string;
  at: string;
}

type Listener = (frame: CareFrame) => void;
interface Subscription {
  fn: Listener;
  /** Dropped once this element has left the page. */
  owner: Element;
  attached: boolean;
}

const subscriptions = new Set<Subscription>();
let socket: WebSocket | null = null;
let retryMs = 1000;
let retryTimer: number | undefined;

function connect(): void {
  if (!session.user) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url);
  } catch {
    scheduleRetry();
    return;
  }
  socket = ws;
  ws.addEventListener('open', () => { retryMs = 1000; });
  ws.addEventListener('message', (event) => {
    let frame: CareFrame;
    try {
      frame = JSON.parse(String(event.data)) as CareFrame;
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== 'string' || !frame.type.startsWith('care.')) return;
    deliver(frame);
  });
  ws.addEventListener('close', () => {
    if (socket === ws) socket = null;
    scheduleRetry();
  });
}

function scheduleRetry(): void {
  if (retryTimer !== undefined || !session.user) return;
  retryTimer = window.setTimeout(() => {
    retryTimer = undefined;
    if (!socket) connect();
  }, retryMs);
  retryMs = Math.min(retryMs * 2, 30_000);
}

function deliver(frame: CareFrame): void {
  const me = session.user;
  if (me && frame.actor_name !== me.display_name && frame.type !== 'care.read') {
    const key = frame.type === 'care.message' ? 'care.live.message' : frame.type === 'care.comment' ? 'care.live.comment' : 'care.live.post';
    toast(t(key, { name: frame.actor_name, group: frame.group_name }));
  }
  for (const s of [...subscriptions]) {
    if (!s.owner.isConnected) {
      // Not on the page yet (being built), or gone for good.
      if (s.attached) subscriptions.delete(s);
      continue;
    }
    s.attached = true;
    s.fn(frame);
  }
}

/** Opens the shared socket if it is not open yet (idempotent). */
export function ensureLive(): void {
  if (!socket && retryTimer === undefined) connect();
}

/** Calls fn for every frame while owner is on the page. */
export function onCareFrame(owner: Element, fn: Listener): void {
  ensureLive();
  subscriptions.add({ owner, fn, attached: owner.isConnected });
}

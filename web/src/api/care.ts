// Typed client of the care SNS API (docs/care.md): groups, members, posts,
// comments, files, pins, search, time series, conversations, the shared
// board, the schedule, unread counts and notification settings.
import { api, apiUrl, query, upload, type RequestOptions } from './client';
import type { Facility, Occupation, User } from './types';

export interface CareMember {
  user_id: number;
  display_name: string;
  facility_id: number;
  occupation: Occupation;
  role: 'owner' | 'member';
  added_at: string;
}

export interface CareGroup {
  id: number;
  regional_id: string;
  name: string;
  owner_id: number;
  facility_id: number;
  archived: boolean;
  archived_at: string | null;
  created_at: string;
  /** "pending" / "rejected" when the network requires the secretariat's approval. */
  approval?: 'approved' | 'pending' | 'rejected';
  members?: CareMember[];
}

export const kPinColors = ['red', 'orange', 'yellow', 'green', 'blue', 'purple'] as const;
export type PinColor = (typeof kPinColors)[number];

export type AttachmentKind = 'image' | 'pdf' | 'document' | 'audio' | 'video';

export interface CareAttachment {
  id: number;
  file_name: string;
  content_type: string;
  size: number;
  kind: AttachmentKind;
}

export type PostKind = 'status' | 'message' | 'photo' | 'file';

export interface CarePost {
  id: number;
  group_id: number;
  author_id: number;
  author_name: string;
  kind: PostKind;
  title: string;
  body: string;
  values: Record<string, string | number>;
  publish_to_family: boolean;
  draft: boolean;
  created_at: string;
  published_at: string | null;
  attachments?: CareAttachment[];
  pins?: PinColor[];
  /** Cross-group search answers name the group. */
  group_name?: string;
}

export interface CarePostSummary extends CarePost {
  read: boolean;
  read_count: number;
  audience_count: number;
  comment_count: number;
}

export interface CareComment {
  id: number;
  author_id: number;
  author_name: string;
  body: string;
  created_at: string;
}

export interface CarePostDetail extends CarePostSummary {
  comments: CareComment[];
  readers: { user_id: number; display_name: string; read_at: string }[];
}

export interface TemplateItem {
  key: string;
  category: string;
  label: string;
  type: 'integer' | 'decimal' | 'choice' | 'text';
  min?: number;
  max?: number;
  unit?: string;
  choices?: string[];
  max_chars?: number;
}

/** The template of the caller's occupation: its categories in form order, and every item. */
export interface StatusTemplateInfo {
  occupation: string;
  categories: string[];
  items: TemplateItem[];
}

export interface NewPost {
  kind: PostKind;
  title?: string;
  body?: string;
  values?: Record<string, string | number>;
  publish_to_family?: boolean;
  draft?: boolean;
}

export interface TimelineFilter {
  q?: string;
  unread_first?: boolean;
  pin?: PinColor | '';
  author?: number | '';
  occupation?: string;
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

export interface SeriesPoint {
  post_id: number;
  at: string;
  value: number | string;
}

export interface Series {
  item: string;
  label: string;
  unit: string;
  type: string;
  points: SeriesPoint[];
}

export interface Conversation {
  id: number;
  participants: { user_id: number; display_name: string; occupation: Occupation }[];
  last_message: CareMessage | null;
  unread_count: number;
  updated_at: string;
}

export interface CareMessage {
  id: number;
  conversation_id: number;
  author_id: number;
  author_name: string;
  body: string;
  created_at: string;
  mine: boolean;
}

export interface BoardSection {
  section: string;
  label: string;
  body: string;
  version: number;
  updated_by: number | null;
  updated_by_name: string | null;
  updated_at: string | null;
}

export const kEventKinds = [
  'visit_medical', 'visit_nursing', 'visit_care', 'visit_rehab', 'visit_pharmacy',
  'day_service', 'short_stay', 'outpatient', 'other',
] as const;
export type EventKind = (typeof kEventKinds)[number];

export interface CareEvent {
  id: number;
  title: string;
  kind: EventKind;
  /** An ISO date-time, or the first day (YYYY-MM-DD) of an all-day event. */
  starts_at: string;
  /** An ISO date-time, or the last day (inclusive) of an all-day event. */
  ends_at: string;
  all_day: boolean;
  location: string;
  note: string;
  created_by_name: string;
  updated_by_name: string;
  updated_at: string;
}

export type NewEvent = Pick<CareEvent, 'title' | 'kind' | 'starts_at' | 'ends_at' | 'all_day' | 'location' | 'note'>;

export interface UnreadCounts {
  groups: { group_id: number; name: string; unread_posts: number; unread_messages: number }[];
  total_posts: number;
  total_messages: number;
}

export interface CareInvitation {
  id: number;
  group_id: number;
  email: string;
  display_name: string;
  occupation: Occupation;
  facility_id: number | null;
  organization_name: string;
  status: string;
  inviter_id: number;
  inviter_name: string;
  created_at: string;
  expires_at: string;
}

export interface NewInvitation {
  email: string;
  display_name: string;
  occupation: Occupation;
  organization?: { name: string; kana: string; type: string };
}

export interface NotificationSettings {
  email: 'immediate' | 'digest' | 'off';
  address_known: boolean;
}

const quiet: RequestOptions = { quiet: true };
const enc = encodeURIComponent;

/** Builds the multipart body (part `post` = the JSON, parts `file`) as one Blob. */
async function multipart(post: NewPost, files: File[]): Promise<{ blob: Blob; type: string }> {
  const form = new FormData();
  form.append('post', new Blob([JSON.stringify(post)], { type: 'application/json' }), 'post.json');
  for (const f of files) form.append('file', f, f.name);
  const encoded = new Response(form);
  const type = encoded.headers.get('Content-Type') ?? 'multipart/form-data';
  return { blob: await encoded.blob(), type };
}

export const care = {
  templates: () => api.get<StatusTemplateInfo>('/care/templates/status', quiet),
  groups: () => api.get<{ items: CareGroup[] }>('/care/groups', quiet).then((a) => a.items),
  pendingGroups: () => api.get<{ items: CareGroup[] }>('/care/group-approvals', quiet).then((a) => a.items),
  decideGroup: (gid: number, decision: 'approve' | 'reject', reason?: string) =>
    api.post<CareGroup>(`/care/groups/${gid}/approval`, { decision, reason }, quiet),
  group: (gid: number) => api.get<CareGroup>(`/care/groups/${gid}`, quiet),
  createGroup: (regional_id: string, name: string) =>
    api.post<CareGroup>('/care/groups', { regional_id, name }, quiet),
  archive: (gid: number) => api.post<CareGroup>(`/care/groups/${gid}/archive`),
  addMember: (gid: number, user_id: number) =>
    api.post<CareMember>(`/care/groups/${gid}/members`, { user_id }, quiet),
  removeMember: (gid: number, uid: number) => api.del<void>(`/care/groups/${gid}/members/${uid}`),

  posts: (gid: number, f: TimelineFilter) =>
    api.get<{ items: CarePostSummary[] }>(`/care/groups/${gid}/posts${query({
      q: f.q, unread_first: f.unread_first ? 'true' : undefined, pin: f.pin, author: f.author,
      occupation: f.occupation, from: f.from, to: f.to, limit: f.limit, offset: f.offset,
    })}`, quiet).then((a) => a.items),
  /** JSON when there are no files, else multipart/form-data with upload progress. */
  async createPost(gid: number, post: NewPost, files: File[], onProgress?: (f: number) => void): Promise<CarePost> {
    if (!files.length) return api.post<CarePost>(`/care/groups/${gid}/posts`, post, quiet);
    const { blob, type } = await multipart(post, files);
    return upload<CarePost>(`/care/groups/${gid}/posts`, blob, type, onProgress, quiet);
  },
  post: (pid: number) => api.get<CarePostDetail>(`/care/posts/${pid}`, quiet),
  publish: (pid: number) => api.post<CarePost>(`/care/posts/${pid}/publish`),
  deletePost: (pid: number) => api.del<void>(`/care/posts/${pid}`),
  comment: (pid: number, body: string) => api.post<CareComment>(`/care/posts/${pid}/comments`, { body }, quiet),
  setPins: (pid: number, colors: PinColor[]) => api.put<{ colors: PinColor[] }>(`/care/posts/${pid}/pins`, { colors }),
  fileUrl: (fid: number, download = false) => apiUrl(`/care/files/${fid}${download ? '?download=1' : ''}`),
  search: (q: string) =>
    api.get<{ items: CarePostSummary[] }>(`/care/search${query({ q })}`, quiet).then((a) => a.items),
  series: (gid: number, items: string[], from?: string, to?: string) =>
    api.get<{ items: Series[] }>(`/care/groups/${gid}/series${query({ items: items.join(','), from, to })}`, quiet)
      .then((a) => a.items),

  conversations: (gid: number) =>
    api.get<{ items: Conversation[] }>(`/care/groups/${gid}/conversations`, quiet).then((a) => a.items),
  startConversation: (gid: number, member_ids: number[], body: string) =>
    api.post<Conversation>(`/care/groups/${gid}/conversations`, { member_ids, body }, quiet),
  messages: (cid: number, before?: number, limit = 50) =>
    api.get<{ items: CareMessage[]; has_more: boolean }>(
      `/care/conversations/${cid}/messages${query({ before, limit })}`, quiet),
  sendMessage: (cid: number, body: string) =>
    api.post<CareMessage>(`/care/conversations/${cid}/messages`, { body }, quiet),

  unread: () => api.get<UnreadCounts>('/care/unread', quiet),
  board: (gid: number) => api.get<{ items: BoardSection[] }>(`/care/groups/${gid}/board`, quiet).then((a) => a.items),
  saveBoard: (gid: number, section: string, body: string, version: number) =>
    api.put<BoardSection>(`/care/groups/${gid}/board/${enc(section)}`, { body, version }, quiet),

  events: (gid: number, from: string, to: string) =>
    api.get<{ items: CareEvent[] }>(`/care/groups/${gid}/events${query({ from, to })}`, quiet).then((a) => a.items),
  createEvent: (gid: number, e: NewEvent) => api.post<CareEvent>(`/care/groups/${gid}/events`, e, quiet),
  updateEvent: (eid: number, e: NewEvent) => api.put<CareEvent>(`/care/events/${eid}`, e, quiet),
  deleteEvent: (eid: number) => api.del<void>(`/care/events/${eid}`),

  invitations: (gid: number) =>
    api.get<{ items: CareInvitation[] }>(`/care/groups/${gid}/invitations`, quiet).then((a) => a.items),
  invite: (gid: number, body: NewInvitation) => api.post<CareInvitation>(`/care/groups/${gid}/invitations`, body, quiet),
  revokeInvitation: (iid: number) => api.del<void>(`/care/invitations/${iid}`),

  notificationSettings: () => api.get<NotificationSettings>('/care/notification-settings', quiet),
  saveNotificationSettings: (email: NotificationSettings['email']) =>
    api.put<NotificationSettings>('/care/notification-settings', { email }, quiet),

  /** Member picker: participating facilities, then a facility's staff. */
  facilities: (q: string) => api.get<{ items: Facility[] }>(`/facilities${query({ q })}`, quiet).then((a) => a.items),
  /** Staff of a facility that a member of the group may add. */
  staffOf: (groupId: number, facilityId: number) =>
    api.get<{ items: User[] }>(`/care/groups/${groupId}/candidates?facility_id=${facilityId}`, quiet).then((a) => a.items),
};

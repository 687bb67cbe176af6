// Taking in one sync reply (webwxsync, or the long link's op 11) as one state
// change: messages, contacts, SKey and key together, so that what is saved
// afterwards never holds a key without the items it covers.
import type { Inbox } from './inbox.ts';
import type { SyncReply } from './replies.ts';
import type { Session } from './session.ts';
import type { SyncPosition } from './sync-position.ts';

/** What a sync reply changes. */
export interface SyncState {
  inbox: Inbox;
  session: Session;
  position: SyncPosition;
}

/** Returns whether anything new came (a message, a contact, a higher key). */
export function applySyncReply(r: SyncReply, s: SyncState): boolean {
  const fresh = s.inbox.take(r);
  s.session.setSkey(r.skey);
  return s.position.adoptSyncKey(r.syncKey) || fresh;
}

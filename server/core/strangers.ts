// Direct messages from strangers. A sender is a stranger to a recipient who
// never reached out to it: never sent it a direct message, nor created a
// chat room it is in. (A room the sender created, or a third account did,
// does not count: anyone may put anyone in a room.) Strangers together may
// fill only part of a recipient's log (maxStrangerBacklog, Ret 1110) at a
// bounded rate per recipient (Ret 1111), so that nobody can bury a user's
// mail or crowd out the people the user talks to.
import { read, type PeerLinks, type Step, type Write } from '../store/store-ops.ts';
import type { CoreContext } from './core-context.ts';
import { Category, type Account } from './model.ts';
import { rateLimited } from './rate-limits.ts';
import { Ret, errorReply, type ErrorReply } from './ret.ts';

/** Who wrote to whom between a direct message's sender (a) and its recipient (b). */
export function* peerLinks(sender: Account, recipient: Account): Step<PeerLinks> {
  return yield* read({ kind: 'peers', a: sender.uin, b: recipient.uin });
}

/** Whether `sender`'s direct message may come in to `recipient` (undefined: it may); a stranger's takes from the recipient's quota. */
export function* admitDirect(ctx: CoreContext, sender: Account, recipient: Account, links: PeerLinks, now: number): Step<ErrorReply | undefined> {
  if (links.bToA) return undefined;
  if (yield* read({ kind: 'inRoomOf', member: sender.uin, owner: recipient.uin })) return undefined;
  if (recipient.itemCount[Category.Messages] >= ctx.config.maxStrangerBacklog) {
    return errorReply(Ret.MailboxFull, `${recipient.userName} takes no more messages from new contacts for now; try again later`);
  }
  const buckets = ctx.quotas.strangerMessages;
  const wait = buckets.wait(recipient.uin, 1, now);
  if (wait > 0) return rateLimited(`${recipient.userName} gets too many messages from new contacts`, wait);
  buckets.take(recipient.uin, 1, now);
  return undefined;
}

/** After a direct message: the sender is no stranger to its recipient from then on (written once per pair). */
export function notePeer(sender: Account, recipient: Account, links: PeerLinks, writes: Write[]): void {
  if (!links.aToB) writes.push({ kind: 'putPeer', uin: sender.uin, peer: recipient.uin });
}

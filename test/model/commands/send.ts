// Sending a message to a user or a chat room, new or a retried ClientMsgId.
import { expect } from 'vitest';
import type { Harness } from '../../harness/core-harness.ts';
import { expectRet, settle } from '../model-checks.ts';
import { append, base, pick, sessionRet, slotOf, type Cmd, type Model } from '../reference-model.ts';

export class Send implements Cmd {
  constructor(
    /** Which ready device sends (an index, wrapping). */
    readonly who: number,
    /** A user name, or a chat room (index into the rooms the clients know). */
    readonly to: { user: string } | { room: number },
    /** Repeat a ClientMsgId the account used before (index), or a new one. */
    readonly retry: number | undefined,
  ) {}
  private name = '';
  private slot = '';
  check(m: Model): boolean {
    const c = pick(m, this.who);
    if (!c) return false;
    if ('room' in this.to && m.rooms.length === 0) return false;
    return this.retry === undefined || (m.cmids.get(c.account)?.length ?? 0) > 0;
  }
  run(m: Model, h: Harness): void {
    const c = pick(m, this.who)!;
    this.name = c.account;
    this.slot = slotOf(c);
    const used = m.cmids.get(this.name) ?? [];
    m.cmids.set(this.name, used);
    let cmid: string;
    if (this.retry !== undefined) cmid = used[this.retry % used.length]!;
    else used.push((cmid = `c${++m.nextCmid}`));
    const to = 'user' in this.to ? this.to.user : m.rooms[this.to.room % m.rooms.length]!;
    const s = m.server;
    let expected: { ret: number; msgId?: number };
    const dedupKey = `${this.name}\u0000${cmid}`;
    const replaced = sessionRet(m, c);
    if (replaced) expected = { ret: replaced };
    else if (s.dedup.has(dedupKey)) expected = { ret: 0, msgId: s.dedup.get(dedupKey)! };
    else if (to.startsWith('@@')) {
      const members = s.groups.get(to);
      if (!members) expected = { ret: 1106 };
      else if (!members.includes(this.name)) expected = { ret: 1107 };
      else {
        const msgId = ++s.nextMsgId;
        for (const a of members) append(s, a, 1, msgId);
        s.dedup.set(dedupKey, msgId);
        expected = { ret: 0, msgId };
      }
    } else if (!s.accounts.has(to)) {
      expected = { ret: 1106 };
    } else {
      const msgId = ++s.nextMsgId;
      for (const a of new Set([this.name, to])) append(s, a, 1, msgId);
      s.dedup.set(dedupKey, msgId);
      expected = { ret: 0, msgId };
    }
    const req = h.post('webwxsendmsg', {
      BaseRequest: base(c),
      Msg: { ClientMsgId: cmid, LocalID: cmid, FromUserName: this.name, ToUserName: to, Type: 1, Content: `${cmid} to ${to}` },
      Scene: 0,
    });
    m.pending.push({
      req,
      what: `${this} (${cmid})`,
      check: (b) => {
        expectRet(b, expected.ret, `${this} (${cmid})`);
        if (expected.ret === 0) {
          expect(b.MsgID, `${this} (${cmid}): one MsgID per ClientMsgId`).toBe(expected.msgId);
          expect(b.LocalID).toBe(cmid);
        }
      },
    });
    settle(m, h);
  }
  toString(): string {
    const to = 'user' in this.to ? this.to.user : `room ${this.to.room}`;
    return `send(${this.name}#${this.slot} → ${to}${this.retry !== undefined ? `, retry ${this.retry}` : ''})`;
  }
}

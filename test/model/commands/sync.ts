// Syncing with the current key, an older key the device held, or a session a
// newer login replaced.
import { expect } from 'vitest';
import type { Harness } from '../../harness/core-harness.ts';
import { expectRet, settle } from '../model-checks.ts';
import { base, devKey, keyJson, keyOf, pick, sessionRet, slotOf, SYNC_LIMIT, type Cmd, type Key, type Model } from '../reference-model.ts';

export class Sync implements Cmd {
  constructor(
    readonly who: number,
    /** Present the current key, an older one the device held (index), or use a replaced session. */
    readonly present: { current: true } | { older: number } | { staleSession: number },
  ) {}
  private name = '';
  private slot = '';
  check(m: Model): boolean {
    const c = pick(m, this.who);
    if (!c) return false;
    if ('older' in this.present) return c.olderKeys.length > 0;
    if ('staleSession' in this.present) return c.stale.length > 0;
    return true;
  }
  run(m: Model, h: Harness): void {
    const c = pick(m, this.who)!;
    this.name = c.account;
    this.slot = slotOf(c);
    const p = this.present;
    const key = 'older' in p ? c.olderKeys[p.older % c.olderKeys.length]! : c.key;
    const session = 'staleSession' in p ? c.stale[p.staleSession % c.stale.length]! : c.session!;
    const s = m.server;
    let expected: { ret: number; msgIds?: number[]; contacts?: number; key?: Key; more?: boolean };
    const replaced = sessionRet(m, c, session.n);
    if (replaced) expected = { ret: replaced };
    else {
      const a = s.accounts.get(this.name)!;
      let remaining = SYNC_LIMIT;
      let more = false;
      const msgIds: number[] = [];
      let contacts = 0;
      const newKey: Key = { 1: 0, 2: 0 };
      for (const cat of [1, 2] as const) {
        const after = a.items.filter((i) => i.cat === cat && i.seq > key[cat]);
        const taken = after.slice(0, remaining);
        if (after.length > taken.length) more = true;
        remaining -= taken.length;
        newKey[cat] = taken.length > 0 ? taken[taken.length - 1]!.seq : key[cat];
        for (const i of taken) if (cat === 1) msgIds.push(i.msgId);
        contacts += cat === 2 ? taken.length : 0;
      }
      const dev = s.devices.get(devKey(this.name, Number(this.slot)))!;
      dev.acked = { 1: Math.max(dev.acked[1], key[1]), 2: Math.max(dev.acked[2], key[2]) };
      expected = { ret: 0, msgIds, contacts, key: newKey, more };
    }
    const req = h.post('webwxsync', { BaseRequest: base(c, session), SyncKey: keyJson(key), rr: -1 });
    const current = 'current' in p;
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, expected.ret, this.toString());
        if (expected.ret !== 0) return;
        expect(b.AddMsgList.map((x: { MsgId: number }) => x.MsgId), `${this}: the messages after the key, in order`).toEqual(expected.msgIds);
        expect(b.ModContactCount).toBe(expected.contacts);
        expect(keyOf(b.SyncKey), `${this}: the new key`).toEqual(expected.key);
        expect(b.ContinueFlag).toBe(expected.more ? 1 : 0);
        if (current && (expected.key![1] !== c.key[1] || expected.key![2] !== c.key[2])) {
          c.olderKeys.push(c.key);
          c.key = expected.key!;
        }
      },
    });
    settle(m, h);
  }
  toString(): string {
    const p = this.present;
    return `sync(${this.name}#${this.slot}, ${'current' in p ? 'current key' : 'older' in p ? `older key ${p.older}` : `replaced session ${p.staleSession}`})`;
  }
}

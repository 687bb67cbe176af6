// ContinueFlag paging with a small syncLimit: every item exactly once, in
// order, across both categories, and the last page says ContinueFlag 0.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK, keyVal } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('ContinueFlag paging (%s)', (store) => {
  const harness = useHarness();

  for (const limit of [1, 2, 3, 7]) {
    it(`syncLimit ${limit}: every item exactly once, in order`, () => {
      const h = harness({ store, core: { syncLimit: limit } });
      const a = h.user('alice');
      const b = h.user('bob');
      h.user('carol');
      const sent: number[] = [];
      const contacts: string[] = [];
      for (let i = 0; i < 10; i++) {
        sent.push(h.sendOk(a, 'bob', `m${i}`));
        if (i % 3 === 0) {
          h.oplog(b, 'alice', `remark${i}`);
          contacts.push(`remark${i}`);
        }
      }
      const room = h.createRoom(a, ['bob', 'carol']).ChatRoomName as string;
      sent.push(h.sendOk(a, room, 'group'));
      const pages: any[] = [];
      for (;;) {
        const prev = b.key;
        const r = h.sync(b);
        expect(r.BaseResponse).toEqual(OK);
        expect(r.AddMsgCount + r.ModContactCount).toBeLessThanOrEqual(limit);
        expect(r.AddMsgCount).toBe(r.AddMsgList.length);
        expect(r.ModContactCount).toBe(r.ModContactList.length);
        for (const k of [1, 2]) expect(keyVal(r.SyncKey, k)).toBeGreaterThanOrEqual(keyVal(prev, k));
        expect(r.SyncCheckKey).toEqual(r.SyncKey);
        pages.push(r);
        if (r.ContinueFlag === 0) break;
        expect(r.ContinueFlag).toBe(1);
        expect(r.AddMsgCount + r.ModContactCount).toBe(limit);
        expect(pages.length).toBeLessThan(100);
      }
      const msgs = pages.flatMap((p) => p.AddMsgList);
      const mods = pages.flatMap((p) => p.ModContactList);
      expect(msgs.map((m) => m.MsgId)).toEqual(sent);
      expect(mods.map((c) => c.RemarkName || c.UserName)).toEqual([...contacts, room]);
      expect(pages.length).toBe(Math.ceil((sent.length + contacts.length + 1) / limit) || 1);
      // Nothing more, and the final key is stable.
      const last = h.sync(b);
      expect(last.AddMsgCount + last.ModContactCount).toBe(0);
      expect(last.ContinueFlag).toBe(0);
    });
  }

  it('a page that ends exactly at the last item says ContinueFlag 0', () => {
    const h = harness({ store, core: { syncLimit: 2 } });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'x');
    h.sendOk(a, 'bob', 'y');
    const r = h.sync(b);
    expect(r.AddMsgCount).toBe(2);
    expect(r.ContinueFlag).toBe(0);
  });

  it('a retried page (same key) answers the same items again, and new items join the paging', () => {
    const h = harness({ store, core: { syncLimit: 2 } });
    const a = h.user('alice');
    const b = h.user('bob');
    for (let i = 0; i < 5; i++) h.sendOk(a, 'bob', `m${i}`);
    const key0 = b.key;
    const p1 = h.sync(b);
    const again = h.sync(b, key0);
    expect(again.AddMsgList).toEqual(p1.AddMsgList);
    expect(again.SyncKey).toEqual(p1.SyncKey);
    h.sendOk(a, 'bob', 'late');
    const rest = h.drain(b).messages.map((m) => m.Content);
    expect(rest).toEqual(['m2', 'm3', 'm4', 'late']);
  });

  it('paging over the long link gives the same pages', () => {
    const h = harness({ store, core: { syncLimit: 3 } });
    const a = h.user('alice');
    const b = h.user('bob');
    for (let i = 0; i < 7; i++) h.sendOk(a, 'bob', `m${i}`);
    const link = h.link(b);
    let key = b.key;
    const got: string[] = [];
    for (let seq = 10; ; seq++) {
      const r = link.sync(key, seq);
      expect(r.BaseResponse).toEqual(OK);
      got.push(...r.AddMsgList.map((m: any) => m.Content));
      key = r.SyncKey;
      if (r.ContinueFlag === 0) break;
    }
    expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });
});

describe.each(STORES)('paging by size (%s)', (store) => {
  const harness = useHarness();

  it('pages end before maxSyncReplyBytes, so every reply fits one long-link packet', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const sent: number[] = [];
    for (let i = 0; i < 100; i++) sent.push(h.sendOk(a, 'bob', `${i}:`.padEnd(1000, '"')));
    const got: number[] = [];
    let pages = 0;
    for (;;) {
      const r = h.sync(b);
      pages++;
      expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(64 * 1024);
      got.push(...r.AddMsgList.map((m: any) => m.MsgId));
      if (r.ContinueFlag === 0) break;
    }
    expect(got).toEqual(sent);
    expect(pages).toBeGreaterThan(2);
  });

  it('a message too large once JSON-encoded is refused with 1105 and nothing is written', () => {
    const h = harness({ store });
    const a = h.user('alice');
    h.user('bob');
    const r = h.send(a, 'bob', '"'.repeat(32 * 1024));
    expect(r.BaseResponse.Ret).toBe(1105);
    expect(r.BaseResponse.ErrMsg).toMatch(/JSON-encoded/);
  });
});

// Guarantee 4 (order) for groups: every member sees group messages in the
// same order, GroupSeq is consecutive, and a sender's messages keep the order
// in which the server accepted them.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK, type Dev } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('group order (%s)', (store) => {
  const harness = useHarness();

  function room(h: ReturnType<typeof harness>, names: string[]): { devs: Dev[]; room: string } {
    const devs = names.map((n) => h.user(n));
    const r = h.createRoom(devs[0]!, names.slice(1), 'team');
    expect(r.BaseResponse).toEqual(OK);
    expect(r.ChatRoomName).toMatch(/^@@/);
    return { devs, room: r.ChatRoomName };
  }

  it('concurrent senders in one batch: every member sees the same order, GroupSeq 1..n', () => {
    const h = harness({ store });
    const { devs, room: name } = room(h, ['ann', 'ben', 'cat', 'dan']);
    const order: string[] = [];
    h.batch(() => {
      for (let round = 0; round < 3; round++) {
        for (const d of devs) {
          const content = `${d.userName}-${round}`;
          order.push(content);
          h.sendReq(d, name, content);
        }
      }
    });
    h.flush();
    const seen = devs.map((d) => h.drain(d).messages.filter((m) => m.ToUserName === name));
    for (const s of seen) {
      expect(s.map((m) => m.Content)).toEqual(order);
      expect(s.map((m) => m.GroupSeq)).toEqual(order.map((_, i) => i + 1));
      expect(s).toEqual(seen[0]);
    }
    expect(new Set(seen[0]!.map((m) => m.MsgId)).size).toBe(order.length);
  });

  it('interleaved senders, syncs and batches: members agree and each sender\'s order holds', () => {
    const h = harness({ store });
    const { devs, room: name } = room(h, ['ann', 'ben', 'cat']);
    const views = new Map<string, any[]>(devs.map((d) => [d.userName, []]));
    let n = 0;
    for (let step = 0; step < 12; step++) {
      const senders = devs.filter((_, i) => (step + i) % 2 === 0);
      h.batch(() => {
        for (const d of senders) h.sendReq(d, name, `${d.userName}#${n++}`);
      });
      h.flush();
      const syncer = devs[step % devs.length]!;
      views.get(syncer.userName)!.push(...h.drain(syncer).messages);
    }
    for (const d of devs) views.get(d.userName)!.push(...h.drain(d).messages);
    const ref = views.get('ann')!;
    expect(ref).toHaveLength(n);
    expect(ref.map((m) => m.GroupSeq)).toEqual(ref.map((_, i) => i + 1));
    for (const d of devs) expect(views.get(d.userName)).toEqual(ref);
    for (const d of devs) {
      const mine = ref.filter((m) => m.FromUserName === d.userName).map((m) => Number(m.Content.split('#')[1]));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  });

  it('a member\'s second device sees the same group order as everyone', () => {
    const h = harness({ store });
    const { devs, room: name } = room(h, ['ann', 'ben']);
    const ben2 = h.login('ben');
    h.batch(() => {
      for (let i = 0; i < 4; i++) for (const d of devs) h.sendReq(d, name, `${d.userName}${i}`);
    });
    h.flush();
    const a = h.drain(devs[0]!).messages;
    expect(h.drain(ben2).messages).toEqual(a);
    expect(h.drain(devs[1]!).messages).toEqual(a);
  });

  it('group creation reaches every member as a contact (key 2) with the member list', () => {
    const h = harness({ store });
    const { devs, room: name } = room(h, ['ann', 'ben', 'cat']);
    for (const d of devs) {
      const c = h.drain(d).contacts;
      expect(c).toEqual([{ UserName: name, NickName: 'team', RemarkName: '', MemberList: ['ann', 'ben', 'cat'], MemberCount: 3 }]);
    }
  });

  it('group order survives a restart: GroupSeq continues after the old values', () => {
    const h = harness({ store });
    const { devs, room: name } = room(h, ['ann', 'ben']);
    h.sendOk(devs[0]!, name, 'one');
    h.sendOk(devs[1]!, name, 'two');
    h.restart();
    h.sendOk(devs[1]!, name, 'three');
    const got = h.drain(devs[0]!).messages;
    expect(got.map((m) => [m.Content, m.GroupSeq])).toEqual([
      ['one', 1],
      ['two', 2],
      ['three', 3],
    ]);
  });
});

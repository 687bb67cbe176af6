// Where the real node meets the model: at each commit every pending answer is
// checked, and the store's logs and acknowledged positions must equal the
// model's committed ones.
import { expect } from 'vitest';
import type { Harness } from '../harness/core-harness.ts';
import { deviceIdOf, type Model } from './reference-model.ts';

/** After a command is submitted: in auto mode commit and check at once; in a batch, at the next flush. */
export function settle(m: Model, h: Harness): void {
  if (!m.batch) flush(m, h);
}

export function flush(m: Model, h: Harness): void {
  h.flush();
  const pending = m.pending;
  m.pending = [];
  for (const p of pending) {
    const a = h.answer(p.req);
    expect(a, `${p.what}: answered at the commit`).toBeDefined();
    p.check(JSON.parse(a!.body));
  }
  m.committed = structuredClone(m.server);
  compareStore(m, h);
}

/** The store holds exactly the model's committed logs and acknowledged positions. */
export function compareStore(m: Model, h: Harness): void {
  for (const [name, a] of m.committed.accounts) {
    for (const cat of [1, 2] as const) {
      const real = h.items(a.uin, cat).map((i) => (i.category === 1 ? [i.seq, i.data.MsgId] : [i.seq, 0]));
      const want = a.items.filter((i) => i.cat === cat).map((i) => [i.seq, i.msgId]);
      expect(real, `${name}'s log ${cat} (seq, MsgId)`).toEqual(want);
    }
    const acc = h.account(a.uin)!;
    expect(acc.seq, `${name}'s sequence`).toBe(a.seq);
  }
  for (const [key, d] of m.committed.devices) {
    const [account, slot] = key.split('#') as [string, string];
    const real = h.store.read({ kind: 'device', uin: m.committed.accounts.get(account)!.uin, deviceId: deviceIdOf(account, Number(slot)) });
    expect(real?.acked, `${key}'s acknowledged position`).toEqual(d.acked);
  }
}

export function expectRet(body: any, ret: number, what: string): void {
  expect(body.BaseResponse?.Ret, `${what}: Ret (${body.BaseResponse?.ErrMsg ?? ''})`).toBe(ret);
}

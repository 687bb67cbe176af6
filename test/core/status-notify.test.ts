// webwxstatusnotify: Code 3 after webwxinit (and 1, 2, 4, 5) is checked and
// answered {BaseResponse, MsgID: "0"}; it keeps nothing and tells no device.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK, type Dev } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';
import { postAs } from './web-calls.ts';

function notify(h: Harness, d: Dev, body: Record<string, unknown>): any {
  return postAs(h, d, 'webwxstatusnotify', body, 'lang=zh_CN&pass_ticket=x');
}

describe.each(STORES)('webwxstatusnotify (%s)', (store) => {
  const harness = useHarness();

  it('Code 3 (init) and 1 (read) are answered Ok with MsgID "0", and nothing is stored or sent', () => {
    const h = harness({ store });
    h.register('alice');
    const web = h.login('alice');
    const phone = h.login('alice');
    h.user('bob');
    h.drain(phone);
    const poll = h.synccheck(phone);
    const init = h.unchanged(() => notify(h, web, { Code: 3, FromUserName: 'alice', ToUserName: 'alice', ClientMsgId: 1609456789012012 }));
    expect(init).toEqual({ BaseResponse: OK, MsgID: '0' });
    expect(h.unchanged(() => notify(h, web, { Code: 1, FromUserName: 'alice', ToUserName: 'bob', ClientMsgId: '16094567890120123' }))).toEqual({ BaseResponse: OK, MsgID: '0' });
    expect(notify(h, web, { Code: 3, ToUserName: 'alice' })).toEqual({ BaseResponse: OK, MsgID: '0' });
    expect(h.syncCheckResult(poll)).toBeUndefined();
  });

  it('bad input is 1102 (an id past 2^53 with its code), a session ended 1101', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    for (const [what, body] of [
      ['Code missing', { ToUserName: 'alice' }],
      ['Code 0', { Code: 0, ToUserName: 'alice' }],
      ['Code 6', { Code: 6, ToUserName: 'alice' }],
      ['Code a string', { Code: '3', ToUserName: 'alice' }],
      ['ToUserName missing', { Code: 3 }],
      ['ToUserName too long', { Code: 3, ToUserName: 'a'.repeat(41) }],
      ['FromUserName another', { Code: 3, FromUserName: 'bob', ToUserName: 'alice' }],
      ['ClientMsgId negative', { Code: 3, ToUserName: 'alice', ClientMsgId: -1 }],
    ] as const) {
      expect(h.unchanged(() => notify(h, alice, body)).BaseResponse.Ret, what).toBe(1102);
    }
    const big = h.unchanged(() => notify(h, alice, { Code: 3, ToUserName: 'alice', ClientMsgId: 2 ** 53 }));
    expect(big.BaseResponse.ErrMsg).toMatch(/^ID_UNSAFE_INTEGER: ClientMsgId /);
    h.logout(alice);
    expect(notify(h, alice, { Code: 3, ToUserName: 'alice' }).BaseResponse.Ret).toBe(1101);
  });
});

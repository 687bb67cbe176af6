// webwxsendmsg's ClientMsgId and LocalID as the web client sends them: JSON
// numbers (up to 2^53 - 1) or digit strings, the web client's ~17 digits
// included, kept exactly; a JSON number past 2^53 - 1 (which JSON.parse has
// already rounded) is refused with ID_UNSAFE_INTEGER, never stored rounded.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK, type Dev } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

/** A send whose Msg ids are written into the body as given: raw JSON number text, or a quoted string. */
function sendRaw(h: Harness, d: Dev, clientMsgId: string, localId: string, content = 'hi'): any {
  const base = JSON.stringify(h.base(d));
  const body = `{"BaseRequest":${base},"Msg":{"ClientMsgId":${clientMsgId},"LocalID":${localId},"FromUserName":"${d.userName}","ToUserName":"bob","Type":1,"Content":"${content}"},"Scene":0}`;
  return h.json(h.post('webwxsendmsg', body));
}

describe.each(STORES)('send ids (%s)', (store) => {
  const harness = useHarness();

  it('digit strings of the web client\'s 17 digits and safe JSON numbers are kept exactly; a retry is deduplicated', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const web = sendRaw(h, alice, '"16094567890120123"', '"16094567890120123"', 'as strings');
    expect(web.BaseResponse).toEqual(OK);
    expect(web.LocalID).toBe('16094567890120123');
    const num = sendRaw(h, alice, '9007199254740991', '1609456789012012', 'as numbers');
    expect(num.BaseResponse).toEqual(OK);
    expect(num.LocalID).toBe('1609456789012012');
    expect(sendRaw(h, alice, '"16094567890120123"', '"16094567890120123"', 'as strings').MsgID).toBe(web.MsgID);
    // A number and the digit string of the same value are the same id.
    expect(sendRaw(h, alice, '"9007199254740991"', '1', 'again').MsgID).toBe(num.MsgID);
    const got = h.drain(bob).messages.map((m) => [m.ClientMsgId, m.Content]);
    expect(got).toEqual([['16094567890120123', 'as strings'], ['9007199254740991', 'as numbers']]);
  });

  it('a JSON number past 2^53 - 1 is 1102 ID_UNSAFE_INTEGER and stores nothing, for either id', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.user('bob');
    for (const [what, id, local] of [
      ['ClientMsgId 2^53 + 1', '9007199254740993', '"1"'],
      ['ClientMsgId 2^53', '9007199254740992', '"1"'],
      ['ClientMsgId of 17 digits', '16094567890120123', '"1"'],
      ['ClientMsgId of 20 digits', '12345678901234567890', '"1"'],
      ['ClientMsgId in exponent form', '1e300', '"1"'],
      ['LocalID of 17 digits', '"1"', '16094567890120123'],
    ] as const) {
      const r = h.unchanged(() => sendRaw(h, alice, id, local));
      expect(r.BaseResponse.Ret, what).toBe(1102);
      const field = what.startsWith('LocalID') ? 'LocalID' : 'ClientMsgId';
      expect(r.BaseResponse.ErrMsg, what).toMatch(new RegExp(`^ID_UNSAFE_INTEGER: ${field} `));
    }
    // Other bad numbers keep their own answer.
    for (const id of ['-1', '1.5']) expect(h.unchanged(() => sendRaw(h, alice, id, '"1"')).BaseResponse.ErrMsg).not.toMatch(/^ID_UNSAFE_INTEGER/);
  });

  it('the long link\'s send refuses it alike', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.user('bob');
    const link = h.link(alice);
    const r = h.unchanged(() => link.sendMsg({ ClientMsgId: 2 ** 60, ToUserName: 'bob', Type: 1, Content: 'x' }, 7));
    expect(r.BaseResponse.Ret).toBe(1102);
    expect(r.BaseResponse.ErrMsg).toMatch(/^ID_UNSAFE_INTEGER: ClientMsgId /);
    expect(link.closed).toBe(false);
  });
});

// The reference client told to wait during login (issue 11, item 4): a
// manualauth or an op 7 answered 1112 (too many failed logins) or 2 (the
// server is hashing as many passwords as it will) is tried again after the
// server's retry-after hint, not before, and gets in. On every transport,
// in the simulated world.
import { describe, expect, it } from 'vitest';
import { PATHS } from '../../server/node/http-api.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, encodeJsonPacket } from '../../server/wire/packet.ts';
import { ClientWorld, eventsOf, sentPackets, type Peer } from '../harness/client-world.ts';

const WAIT_MS = 7_000;

/** When each password login of a peer went out. */
function loginTimes(w: ClientWorld, p: Peer): number[] {
  if (p.transport === 'http') return w.requests(p, PATHS.manualauth).map((r) => r.at);
  return sentPackets(p)
    .filter((x) => x.op === Op.Auth)
    .map((x) => x.at);
}

describe.each(['http', 'tcp', 'ws'] as const)('a login told to retry after a wait (%s)', (transport) => {
  it('1112: the owner, slowed by guesses at the account from elsewhere, logs in after the hint', () => {
    const w = new ClientWorld({ node: { loginFreeFailuresPerAccount: 1, loginDelayBaseMs: WAIT_MS, loginMaxDelayPerAccountMs: WAIT_MS } });
    w.register('alice');
    // A guess from another address: the account's one free failure is used.
    w.node.httpRequest(1_000_000_000, 'POST', PATHS.manualauth, JSON.stringify({ UserName: 'alice', Password: 'guess', DeviceID: 'x' }), 'elsewhere', w.now);
    w.settle();
    const t0 = w.now;
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport });
    w.runFor(WAIT_MS - 1);
    expect(loginTimes(w, a)).toHaveLength(1);
    expect(eventsOf(a, 'loggedIn')).toEqual([]);
    w.runFor(1_000);
    expect(loginTimes(w, a)).toEqual([t0, t0 + WAIT_MS]);
    expect(eventsOf(a, 'loggedIn')).toHaveLength(1);
    expect(eventsOf(a, 'sessionLost')).toEqual([]);
  });

  it('Busy: a login answered Ret 2 with a hint is tried again after the hint', () => {
    const w = new ClientWorld();
    w.register('alice');
    const busy = { BaseResponse: { Ret: 2, ErrMsg: `too many password checks under way: retry after ${WAIT_MS} ms` } };
    let refused = 0;
    // The first login's answer says Busy, as a server with every hash slot taken would.
    w.httpAnswer = (_p, req, answer) => (req.url === PATHS.manualauth && refused++ === 0 ? { ...answer, body: JSON.stringify(busy) } : answer);
    w.linkDown = (_p, bytes) => {
      const { packets } = new PacketDecoder().push(bytes);
      if (packets[0]?.op !== Op.AuthReply || refused++ > 0) return bytes;
      return encodeJsonPacket(Op.AuthReply, packets[0].seq, busy);
    };
    const t0 = w.now;
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport });
    w.runFor(WAIT_MS - 1);
    expect(loginTimes(w, a)).toEqual([t0]);
    w.runFor(1_000);
    expect(loginTimes(w, a)).toEqual([t0, t0 + WAIT_MS]);
    expect(eventsOf(a, 'loggedIn')).toHaveLength(1);
  });
});

// Probes of the password logins a peer made, and a fault that makes login
// answers go missing after the server carried the logins out.
import { PATHS } from '../../server/node/http-api.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, decodeJsonBody } from '../../server/wire/packet.ts';
import { sentPackets, type ClientWorld, type Peer } from '../harness/client-world.ts';

export const ALL_TRANSPORTS = ['http', 'tcp', 'ws'] as const;

/** The ClientLoginId of each password login a peer sent (manualauth, or op 7 by password). */
export function loginIds(w: ClientWorld, p: Peer): string[] {
  const bodies =
    p.transport === 'http'
      ? w.requests(p, PATHS.manualauth).map((r) => JSON.parse(r.body) as Record<string, unknown>)
      : sentPackets(p)
          .filter((x) => x.op === Op.Auth && 'Password' in (x.body as object))
          .map((x) => x.body as Record<string, unknown>);
  return bodies.map((b) => String(b['ClientLoginId']));
}

/**
 * Makes the first `n` login answers to `who` go missing (the server carried
 * the logins out), and returns the Sids they carried.
 */
export function loseLoginAnswers(w: ClientWorld, who: string, n: number, how: 'lost' | 'Ret 1' = 'lost'): string[] {
  const sids: string[] = [];
  w.httpAnswer = (p, req, answer) => {
    if (p.name !== who || req.url !== PATHS.manualauth || sids.length >= n) return answer;
    sids.push((JSON.parse(answer.body) as { Sid: string }).Sid);
    return how === 'lost' ? null : { ...answer, body: JSON.stringify({ BaseResponse: { Ret: 1, ErrMsg: 'try again' } }) };
  };
  w.linkDown = (p, bytes) => {
    if (p.name !== who || sids.length >= n) return bytes;
    const auth = new PacketDecoder().push(bytes).packets.find((x) => x.op === Op.AuthReply);
    if (!auth) return bytes;
    sids.push((decodeJsonBody(auth) as { Sid: string }).Sid);
    return null;
  };
  return sids;
}

// (e) One link writing 10,000 pipelined sync packets in one write: the
// attacker's account first fills its own log (so every sync from key 0
// answers a full page), then, round after round, a fresh authenticated link
// writes all the packets in one buffer and reads whatever comes back until
// the link ends or every reply is in. Replies, disconnects and bytes are
// counted; a round that outlasts the attack is cut off.
import { Op, encodePackets } from '../../../../server/wire/packet.ts';
import { poll, registerAll } from '../attack-kit.ts';
import { AttackLink, replyRet } from '../attack-link.ts';
import type { Attack } from './attack.ts';

/** Prefill sends unanswered at once. */
const PREFILL_WINDOW = 32;
/** Key 0 for every category: "everything still kept", the largest answer a sync can get. */
const KEY_ZERO = { SyncKey: { Count: 0, List: [] } };

export const pipelinedSync: Attack = {
  name: 'pipelined-sync',
  title: '10,000 pipelined syncs in one write',
  what: (s) =>
    `an account with ${s.pipelinedSync.prefillMessages} messages of ${s.pipelinedSync.prefillContentBytes} bytes in its log writes ${s.pipelinedSync.packets.toLocaleString('en-US')} sync packets (key 0) ` +
    `in one write on a fresh link, round after round (at most ${s.pipelinedSync.maxRounds}), reading what comes back`,
  plan: (env, s) => {
    const c = s.pipelinedSync;
    const attacker = `${env.prefix}a`;
    let round = 0;
    const connect = async (): Promise<AttackLink | undefined> => {
      const l = await AttackLink.connect(env, 'tcp');
      const ret = await l.auth(attacker, env.password, 'pipeliner');
      if (ret === 0) return l;
      env.tally.reply(Op.AuthReply, ret);
      l.destroy();
      return undefined;
    };
    return {
      prepare: async () => {
        await registerAll(env, [attacker]);
        const l = await connect();
        if (!l) throw new Error('the attacker could not log in');
        try {
          const content = 'P'.repeat(c.prefillContentBytes);
          for (let i = 0; i < c.prefillMessages; i += PREFILL_WINDOW) {
            const batch = Array.from({ length: Math.min(PREFILL_WINDOW, c.prefillMessages - i) }, (_, k) =>
              l.call(Op.Send, { ClientMsgId: `prefill-${i + k}`, LocalID: `prefill-${i + k}`, ToUserName: attacker, Type: 1, Content: content }),
            );
            const replies = await Promise.all(batch);
            if (replies.some((p) => !p || replyRet(p) !== 0)) throw new Error('the prefill sends were refused');
          }
        } finally {
          l.destroy();
        }
      },
      run: async () => {
        while (env.open && round < c.maxRounds) {
          round++;
          const l = await connect();
          if (!l) {
            await env.pause(100);
            continue;
          }
          env.count('rounds');
          let replies = 0;
          l.onPacket = (p) => {
            env.count('bytes received', 16 + p.body.length);
            if (p.op !== Op.SyncReply) return;
            replies++;
            env.tally.reply(Op.SyncReply, replyRet(p));
          };
          const seq0 = l.nextSeq();
          l.write(encodePackets(Array.from({ length: c.packets }, (_, k) => ({ op: Op.Sync, seq: seq0 + k, body: JSON.stringify(KEY_ZERO) }))));
          env.count('sync packets written', c.packets);
          await Promise.race([l.closed, poll(() => replies >= c.packets || !env.open)]);
          env.count('sync replies received', replies);
          if (l.isClosed) l.tallyEnd(env.tally);
          else if (replies < c.packets) env.count('rounds cut off by the end of the attack');
          l.destroy();
        }
      },
    };
  },
};


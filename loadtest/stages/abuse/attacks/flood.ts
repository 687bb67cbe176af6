// (a) Flood to one recipient: one account sends as fast as it can to a
// victim that is never online, over several long links (each keeping a
// window of sends unanswered) and over HTTP at once. A link the server ends
// is opened again: the attacker does not give up.
import http from 'node:http';
import { Op, encodeJsonPacket } from '../../../../server/wire/packet.ts';
import { httpCall, login, poll, registerAll, type Session } from '../attack-kit.ts';
import { AttackLink, replyRet } from '../attack-link.ts';
import { workers, type Attack } from './attack.ts';

/** How long a link the server ended waits before the attacker opens it again. */
const REOPEN_AFTER_MS = 100;
/** After the deadline, replies still on their way get this long. */
const DRAIN_MS = 2000;

export const flood: Attack = {
  name: 'flood',
  title: 'flood to one recipient',
  what: (s) =>
    `one account sends ${s.flood.contentBytes}-byte messages as fast as it can to an offline victim: ${s.flood.links} TCP links with ${s.flood.window} sends unanswered each, ` +
    `and ${s.flood.httpConcurrency} HTTP requests at once (at most ${s.flood.maxMessages.toLocaleString('en-US')} messages)`,
  plan: (env, s) => {
    const f = s.flood;
    const attacker = `${env.prefix}a`;
    const victim = `${env.prefix}v`;
    const content = 'F'.repeat(f.contentBytes);
    let session: Session | undefined;
    const agent = new http.Agent({ keepAlive: true, maxSockets: f.httpConcurrency });
    let sent = 0;
    const more = (): boolean => env.open && sent < f.maxMessages;
    const msg = (): { ClientMsgId: string; LocalID: string; ToUserName: string; Type: number; Content: string } => {
      const id = `flood-${++sent}`;
      return { ClientMsgId: id, LocalID: id, ToUserName: victim, Type: 1, Content: content };
    };

    const linkLoop = async (i: number): Promise<void> => {
      while (more()) {
        let l: AttackLink;
        try {
          l = await AttackLink.connect(env, 'tcp');
        } catch {
          env.tally.refuse('TCP connect failed');
          await env.pause(REOPEN_AFTER_MS);
          continue;
        }
        env.count('links opened');
        const ret = await l.auth(attacker, env.password, `flood-${i}`);
        if (ret !== 0) {
          env.tally.reply(Op.AuthReply, ret);
          l.destroy();
          await env.pause(REOPEN_AFTER_MS);
          continue;
        }
        let inflight = 0;
        const pump = (): void => {
          while (inflight < f.window && more() && !l.isClosed) {
            inflight++;
            env.count('messages sent');
            l.write(encodeJsonPacket(Op.Send, l.nextSeq(), msg()));
          }
        };
        l.onPacket = (p) => {
          if (p.op !== Op.SendReply) return;
          inflight--;
          env.tally.reply(Op.SendReply, replyRet(p));
          pump();
        };
        pump();
        await Promise.race([l.closed, poll(() => !more())]);
        if (!l.isClosed) {
          await Promise.race([l.closed, poll(() => inflight === 0, DRAIN_MS)]);
          env.count('unanswered at the end', inflight);
          l.destroy();
          return;
        }
        l.tallyEnd(env.tally);
        env.count('unanswered when the link ended', inflight);
        await env.pause(REOPEN_AFTER_MS);
      }
    };

    const httpLoop = async (): Promise<void> => {
      while (more() && session) {
        env.count('messages sent');
        const a = await httpCall(env, agent, 'POST', '/cgi-bin/mmwebwx-bin/webwxsendmsg', JSON.stringify({ BaseRequest: session, Msg: msg(), Scene: 0 }));
        env.tally.http(a);
      }
    };

    return {
      prepare: async () => {
        await registerAll(env, [attacker, victim]);
        session = await login(env, agent, attacker, 'flood-web');
        if (!session) env.note('the attacker\'s HTTP login was refused: HTTP flooding skipped');
      },
      run: async () => {
        try {
          await Promise.all([workers(f.links, linkLoop), workers(f.httpConcurrency, httpLoop)]);
        } finally {
          agent.destroy();
        }
      },
    };
  },
};

// (g) Group spam: an account that knows hundreds of strangers (accounts that
// never heard of it) creates group after group holding all of them, then
// sends as fast as it can to one of those big groups, so that every send
// lands in hundreds of logs. The first half of the attack creates groups,
// the second sends.
import http from 'node:http';
import { Op, encodeJsonPacket } from '../../../../server/wire/packet.ts';
import { httpCall, login, poll, registerAll, type Session } from '../attack-kit.ts';
import { AttackLink, replyRet } from '../attack-link.ts';
import { workers, type Attack } from './attack.ts';

/** Group creations in flight at once. */
const CREATE_CONCURRENCY = 4;
const REGISTER_CONCURRENCY = 32;
const SPAM_BYTES = 100;

export const groupSpam: Attack = {
  name: 'group-spam',
  title: 'groups of strangers, and spam to them',
  what: (s) =>
    `one account creates groups holding ${s.groupSpam.strangers} strangers each (at most ${s.groupSpam.maxGroups}), then sends to one such group as fast as it can ` +
    `with ${s.groupSpam.window} sends unanswered (at most ${s.groupSpam.maxMessages.toLocaleString('en-US')} messages)`,
  plan: (env, s) => {
    const c = s.groupSpam;
    const spammer = `${env.prefix}a`;
    const strangers = Array.from({ length: c.strangers }, (_, i) => `${env.prefix}s${i}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CREATE_CONCURRENCY });
    let session: Session | undefined;
    const groups: string[] = [];
    let creates = 0;
    /** When the attack turns from creating groups to sending: set when it starts. */
    let halfway = Infinity;

    const create = async (): Promise<void> => {
      while (env.open && performance.now() < halfway && creates < c.maxGroups) {
        creates++;
        env.count('group creations');
        const a = await httpCall(env, agent, 'POST', '/cgi-bin/mmwebwx-bin/webwxcreatechatroom', JSON.stringify({ BaseRequest: session, MemberCount: strangers.length, MemberList: strangers.map((UserName) => ({ UserName })), Topic: 'spam' }));
        env.tally.http(a);
        const name = a.json?.['ChatRoomName'];
        if (typeof name === 'string' && name !== '') groups.push(name);
      }
    };

    const spam = async (): Promise<void> => {
      const group = groups[0];
      if (!group) return env.note('no group was created: nothing to spam');
      const l = await AttackLink.connect(env, 'tcp');
      const ret = await l.auth(spammer, env.password, 'spam-link');
      if (ret !== 0) {
        env.tally.reply(Op.AuthReply, ret);
        return l.destroy();
      }
      let sent = 0;
      let inflight = 0;
      const more = (): boolean => env.open && sent < c.maxMessages && !l.isClosed;
      const pump = (): void => {
        while (inflight < c.window && more()) {
          inflight++;
          sent++;
          env.count('messages sent to the group');
          l.write(encodeJsonPacket(Op.Send, l.nextSeq(), { ClientMsgId: `spam-${sent}`, LocalID: `spam-${sent}`, ToUserName: group, Type: 1, Content: 'S'.repeat(SPAM_BYTES) }));
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
      if (l.isClosed) l.tallyEnd(env.tally);
      env.count('group sends unanswered at the end', inflight);
      l.destroy();
    };

    return {
      prepare: async () => {
        await registerAll(env, [spammer, ...strangers], REGISTER_CONCURRENCY);
        session = await login(env, agent, spammer, 'spam-web');
        if (!session) throw new Error('the spammer could not log in');
      },
      run: async () => {
        halfway = performance.now() + (env.deadline - performance.now()) / 2;
        try {
          await workers(CREATE_CONCURRENCY, create);
          env.count('groups created', groups.length);
          await spam();
        } finally {
          agent.destroy();
        }
      },
    };
  },
};

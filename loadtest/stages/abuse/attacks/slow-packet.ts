// (c) Long links that write an unfinished packet one byte at a time: each
// link sends a header announcing a large body, then the body one byte every
// so often, so the server holds a partial packet per link and sees a stream
// of one-byte reads. Half the links authenticate first (a logged-in device
// is not closed for lack of auth); the other half never do. TCP and
// WebSocket (where every byte is a message of its own). A link the server
// ends is replaced by a new one while the attack lasts.
import { Op } from '../../../../server/wire/packet.ts';
import { registerAll } from '../attack-kit.ts';
import { AttackLink, type LinkTransport } from '../attack-link.ts';
import { workers, type Attack } from './attack.ts';

/** The body the header announces: well inside the server's default 64 KiB, so the header itself is accepted. */
const ANNOUNCED_BODY = 60_000;
/** Links per attacker account: the server's limit of live devices per account. */
const DEVICES_PER_ACCOUNT = 8;
const REOPEN_AFTER_MS = 100;

function header(): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(16 + ANNOUNCED_BODY, 0);
  h.writeUInt16BE(16, 4);
  h.writeUInt16BE(1, 6);
  h.writeUInt32BE(Op.Send, 8);
  h.writeUInt32BE(1, 12);
  return h;
}

export const slowPacket: Attack = {
  name: 'slow-packet',
  title: 'unfinished packets, a byte at a time',
  what: (s) =>
    `${s.slowPacket.tcpLinks} TCP and ${s.slowPacket.wsLinks} WebSocket links each announce a ${ANNOUNCED_BODY.toLocaleString('en-US')}-byte packet and write its body one byte every ${s.slowPacket.byteEveryMs} ms; ` +
    `${Math.round(s.slowPacket.authenticatedShare * 100)}% of them logged in first; a closed link is replaced`,
  plan: (env, s) => {
    const c = s.slowPacket;
    const total = c.tcpLinks + c.wsLinks;
    const authed = Math.round(total * c.authenticatedShare);
    const accounts = Array.from({ length: Math.ceil(authed / DEVICES_PER_ACCOUNT) }, (_, i) => `${env.prefix}a${i}`);

    /** One link slot: link i trickles until the attack ends, reopened when the server ends it. */
    const slot = async (i: number): Promise<void> => {
      const transport: LinkTransport = i < c.tcpLinks ? 'tcp' : 'ws';
      const logsIn = i < authed;
      // Spread the slots' bytes over the interval rather than all at one instant.
      await env.pause((i / total) * c.byteEveryMs);
      while (env.open) {
        let l: AttackLink;
        try {
          l = await AttackLink.connect(env, transport);
        } catch {
          env.tally.refuse(`${transport} connect failed`);
          await env.pause(REOPEN_AFTER_MS);
          continue;
        }
        env.count(`${transport} links opened`);
        if (logsIn) {
          const ret = await l.auth(accounts[Math.floor(i / DEVICES_PER_ACCOUNT)]!, env.password, `slow-${i}`);
          if (ret !== 0) {
            env.tally.reply(Op.AuthReply, ret);
            l.destroy();
            await env.pause(REOPEN_AFTER_MS);
            continue;
          }
        }
        l.write(header());
        let sent = 0;
        while (env.open && !l.isClosed && sent < ANNOUNCED_BODY) {
          l.write(Buffer.of(0x20));
          sent++;
          env.count('bytes trickled');
          await Promise.race([env.pause(c.byteEveryMs), l.closed]);
        }
        if (!l.isClosed) {
          env.count(`${transport} links still open at the end`);
          l.destroy();
          return;
        }
        env.count(`${transport} links ended by the server`);
        l.tallyEnd(env.tally);
        await env.pause(REOPEN_AFTER_MS);
      }
    };

    return {
      prepare: () => registerAll(env, accounts),
      run: () => workers(total, slot),
    };
  },
};


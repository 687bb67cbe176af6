// (d) Many connections that never log in: TCP long links and WebSocket
// links that never send a byte after connecting, and sockets to the HTTP
// port that never send a request. Whatever the server closes is opened
// again while the attack lasts (up to a bound of opens), so the count stays
// up; how the server closed each one is tallied.
import net from 'node:net';
import type { AttackEnv } from '../attack-kit.ts';
import { AttackLink, type LinkTransport } from '../attack-link.ts';
import type { Attack } from './attack.ts';

/** Connections being opened at once. */
const CONNECT_CONCURRENCY = 128;
const REOPEN_AFTER_MS = 100;

type Kind = LinkTransport | 'http';

/** A connection held open: it resolves `closed` when it closes, and says how the server closed it. */
interface Held {
  closed: Promise<void>;
  tallyEnd: () => void;
  destroy: () => void;
}

/** A raw socket to the HTTP port that says nothing. */
function silentHttp(env: AttackEnv): Promise<Held> {
  return new Promise((resolve, reject) => {
    const s = env.sockets.add(net.connect({ host: env.http.host, port: env.http.port, ...env.source }));
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    const tallyEnd = (): void => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1];
      env.tally.refuse(status ? `HTTP ${status} to a silent connection` : 'HTTP port closed a silent connection');
    };
    s.once('error', reject);
    s.once('connect', () => {
      s.off('error', reject);
      s.on('error', () => {});
      resolve({ closed, tallyEnd, destroy: () => s.destroy() });
    });
  });
}

export const idleConnections: Attack = {
  name: 'idle-connections',
  title: 'connections that never log in',
  what: (s) =>
    `${s.idleConnections.tcp.toLocaleString('en-US')} TCP and ${s.idleConnections.ws} WebSocket long links that never authenticate, and ${s.idleConnections.http} sockets to the HTTP port that never send a request; ` +
    `each one the server closes is opened again (at most ${s.idleConnections.maxOpens.toLocaleString('en-US')} opens)`,
  plan: (env, s) => {
    const c = s.idleConnections;
    const slots: Kind[] = [...Array<Kind>(c.tcp).fill('tcp'), ...Array<Kind>(c.ws).fill('ws'), ...Array<Kind>(c.http).fill('http')];
    const gate = new Gate(CONNECT_CONCURRENCY);
    let opens = 0;
    let openNow = 0;

    /** Keeps one connection of `kind` open until the attack ends. */
    const hold = async (kind: Kind): Promise<void> => {
      while (env.open && opens < c.maxOpens) {
        opens++;
        let conn: Held;
        await gate.take();
        try {
          if (kind === 'http') conn = await silentHttp(env);
          else {
            const l = await AttackLink.connect(env, kind);
            conn = { closed: l.closed, tallyEnd: () => l.tallyEnd(env.tally), destroy: l.destroy };
          }
        } catch (e) {
          env.tally.refuse(`${kind} connect failed (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
          await env.pause(REOPEN_AFTER_MS);
          continue;
        } finally {
          gate.give();
        }
        env.count(`${kind} connections opened`);
        openNow++;
        if (openNow > (env.figures.get('most open at once') ?? 0)) env.figures.set('most open at once', openNow);
        let ended = false;
        await Promise.race([conn.closed.then(() => (ended = true)), env.pause(Infinity)]);
        openNow--;
        if (!ended) {
          env.count(`${kind} connections still open at the end`);
          conn.destroy();
          return;
        }
        env.count(`${kind} connections closed by the server`);
        conn.tallyEnd();
      }
    };

    return {
      prepare: async () => {},
      run: async () => {
        await Promise.all(slots.map(hold));
      },
    };
  },
};

/** At most `n` holders at once. */
class Gate {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(n: number) {
    this.#free = n;
  }

  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#queue.push(r));
  }

  give(): void {
    const w = this.#queue.shift();
    if (w) w();
    else this.#free++;
  }
}

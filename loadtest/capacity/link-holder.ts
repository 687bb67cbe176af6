// A link-holder process of the capacity profile: it holds a share of the
// idle links, under an open-files limit of its own and from a loopback
// source address of its own (each source address has its own range of
// ephemeral ports: /proc/sys/net/ipv4/ip_local_port_range, ~28,000 on
// Linux, bounds the links from one address to one server port). Both ends
// live here, as in server-process.ts: the child's side runs when this file is
// the process's entry; the parent's side (LinkHolder) starts it with an IPC
// channel. Requests carry an id echoed in their reply:
//
//   child → parent  {type: 'hello', pid, fdLimit}
//   parent → child  {type: 'register', id, server, names, password}   → {type: 'registered', id, ok, taken, failed, firstError?}
//   parent → child  {type: 'open', id, links | raw}                   → {type: 'progress', ready, failed} every second,
//                                                                        then {type: 'opened', id, ready, failed, errors}
//   parent → child  {type: 'stats', id}                               → {type: 'stats', id, ...HolderStats}
//   parent → child  {type: 'close'}                                   → closes every link, exits 0
//
// `links` are logged-in devices (held-link.ts), heartbeating; `raw` is a
// count of bare TCP connections that send nothing (the bare server's side).
// The child exits by itself when the parent goes away.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { registerAccount } from '../../client/net/register-account.ts';
import { Ret } from '../../server/core/ret.ts';
import { until } from '../wait-until.ts';
import { procFdLimits, withFdLimit } from './fd-limit.ts';
import { HeldLink, newCounters, type LinkCounters, type LinkCredentials } from './held-link.ts';
import { closeChild, killChild, runAsEntry } from '../child-process.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const HELLO_TIMEOUT_MS = 30_000;
/** How often the holder walks its links for due heartbeats. */
const BEAT_TICK_MS = 200;
const PROGRESS_EVERY_MS = 1000;
/** A login (connect, auth, first sync) not done in this long fails. */
const LINK_READY_TIMEOUT_MS = 60_000;
/**
 * A failed login (the server busy, or shedding new connections: Ret 2,
 * Ret 1112) is tried this many times in all, the delay doubling from the
 * first: at most 15 s of waiting for one link.
 */
const LINK_ATTEMPTS = 5;
const RETRY_DELAY_MS = 1000;
/** Errors kept for the report, per holder. */
const KEEP_ERRORS = 5;

export interface HolderStats {
  /** Links ready now (logged in and not closed). */
  ready: number;
  /** Raw sockets open now. */
  raw: number;
  counters: LinkCounters;
}

export interface OpenResult {
  ready: number;
  failed: number;
  errors: string[];
}

interface OpenRequest {
  type: 'open';
  id: number;
  links?: LinkCredentials[];
  raw?: number;
  /** Logins in flight at once in this holder. */
  concurrency: number;
}

// ------------------------------------------------------------ the child's side

async function childMain(): Promise<void> {
  const { values } = parseArgs({ strict: true, options: { host: { type: 'string' }, port: { type: 'string' }, 'local-address': { type: 'string' } } });
  const host = values.host!;
  const port = Number(values.port);
  const localAddress = values['local-address'];
  const send = (m: object): void => void process.send?.(m);
  if (!process.send) throw new Error('link-holder.ts is started by the capacity stage (LinkHolder) with an IPC channel');

  const counters = newCounters();
  const links: HeldLink[] = [];
  const raws: net.Socket[] = [];
  let rawOpen = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    for (const l of links) l.beat(now);
  }, BEAT_TICK_MS);

  const register = async (m: { id: number; server: string; names: string[]; password: string; concurrency: number }): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: m.concurrency, ...(localAddress ? { localAddress } : {}) });
    let ok = 0;
    let taken = 0;
    let failed = 0;
    let firstError: string | undefined;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < m.names.length) {
        const name = m.names[next++]!;
        try {
          const r = await registerAccount(m.server, name, m.password, undefined, agent);
          if (r.ret === Ret.Ok) ok++;
          else if (r.ret === Ret.UserNameTaken) taken++;
          else {
            failed++;
            firstError ??= `register ${name}: Ret ${r.ret} ${r.errMsg}`;
          }
        } catch (e) {
          failed++;
          firstError ??= `register ${name}: ${(e as Error).message}`;
        }
      }
    };
    await Promise.all(Array.from({ length: m.concurrency }, worker));
    agent.destroy();
    send({ type: 'registered', id: m.id, ok, taken, failed, ...(firstError ? { firstError } : {}) });
  };

  const openLinks = async (m: OpenRequest): Promise<void> => {
    let ready = 0;
    let failed = 0;
    const errors: string[] = [];
    const progress = setInterval(() => send({ type: 'progress', ready, failed }), PROGRESS_EVERY_MS);
    const one = (cred: LinkCredentials, attempt: number): Promise<void> =>
      new Promise((resolve) => {
        const link = new HeldLink(cred, counters, (f) => {
          if (!f) {
            links.push(link);
            ready++;
            return resolve();
          }
          if (attempt < LINK_ATTEMPTS) {
            setTimeout(() => void one(cred, attempt + 1).then(resolve), RETRY_DELAY_MS * 2 ** (attempt - 1));
            return;
          }
          failed++;
          if (errors.length < KEEP_ERRORS) errors.push(`${cred.userName}/${cred.deviceId}: Ret ${f.ret} ${f.errMsg}`);
          resolve();
        });
        link.open(host, port, localAddress, LINK_READY_TIMEOUT_MS);
      });
    const oneRaw = (): Promise<void> =>
      new Promise((resolve) => {
        const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
        let open = false;
        s.once('connect', () => {
          open = true;
          rawOpen++;
          raws.push(s);
          ready++;
          resolve();
        });
        s.on('error', (e) => {
          if (open) return;
          failed++;
          if (errors.length < KEEP_ERRORS) errors.push(`raw connect: ${e.message}`);
          resolve();
        });
        s.on('close', () => {
          if (!open) return;
          rawOpen--;
          counters.drops++;
        });
      });
    const jobs: Array<() => Promise<void>> = m.links ? m.links.map((c) => () => one(c, 1)) : Array.from({ length: m.raw ?? 0 }, () => oneRaw);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) await jobs[next++]!();
    };
    await Promise.all(Array.from({ length: Math.max(1, m.concurrency) }, worker));
    clearInterval(progress);
    send({ type: 'opened', id: m.id, ready, failed, errors });
  };

  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    clearInterval(ticker);
    for (const l of links) l.close();
    for (const s of raws) {
      s.removeAllListeners('close');
      s.destroy();
    }
    process.exit(0);
  };
  process.on('message', (m: { type?: string; id?: number }) => {
    if (m.type === 'register') void register(m as Parameters<typeof register>[0]);
    else if (m.type === 'open') void openLinks(m as OpenRequest);
    else if (m.type === 'stats') {
      const stats: HolderStats = { ready: links.filter((l) => l.state === 'ready').length, raw: rawOpen, counters };
      send({ type: 'stats', id: m.id, ...stats });
    } else if (m.type === 'close') close();
  });
  process.on('disconnect', close);
  process.on('SIGTERM', close);
  send({ type: 'hello', pid: process.pid, fdLimit: procFdLimits()?.soft });
}

// ------------------------------------------------------------ the parent's side

export interface HolderOptions {
  /** The server's TCP address (loopback). */
  host: string;
  port: number;
  /** The source address of every connection of this holder. */
  localAddress: string;
  /** The open-files limit the holder asks for (it gets what the system allows: `fdLimit` after start). */
  fdLimit: number;
}

/** A link-holder child process. */
export class LinkHolder {
  readonly #child: ChildProcess;
  readonly #replies = new Map<number, (m: unknown) => void>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  pid = 0;
  /** The open-files limit the child really has. */
  fdLimit: number | undefined;
  /** The latest progress of an open. */
  progress = { ready: 0, failed: 0 };

  private constructor(readonly o: HolderOptions) {
    const node = [process.execPath, '--import', 'tsx', SELF, '--host', o.host, '--port', String(o.port), '--local-address', o.localAddress];
    const run = withFdLimit(o.fdLimit, node[0]!, node.slice(1));
    this.#child = spawn(run.cmd, run.args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#exited = new Promise((resolve) => this.#child.on('exit', () => resolve()));
    this.#child.on('message', (m: { type: string; id?: number; pid?: number; fdLimit?: number; ready?: number; failed?: number }) => {
      if (m.type === 'hello') {
        this.pid = m.pid!;
        this.fdLimit = m.fdLimit;
      } else if (m.type === 'progress') this.progress = { ready: m.ready!, failed: m.failed! };
      else if (m.id !== undefined) {
        const r = this.#replies.get(m.id);
        this.#replies.delete(m.id);
        r?.(m);
      }
    });
  }

  static async start(o: HolderOptions): Promise<LinkHolder> {
    const h = new LinkHolder(o);
    const gone = h.#exited.then(() => {
      throw new Error(`link holder ${o.localAddress} exited before it was ready`);
    });
    await Promise.race([until(() => h.pid !== 0, HELLO_TIMEOUT_MS, () => `link holder ${o.localAddress} to start`), gone]);
    return h;
  }

  #ask<T>(m: object): Promise<T> {
    const id = this.#nextId++;
    const reply = new Promise<T>((resolve) => this.#replies.set(id, resolve as (m: unknown) => void));
    const gone = this.#exited.then(() => {
      throw new Error(`link holder ${this.o.localAddress} exited`);
    });
    this.#child.send({ ...m, id });
    return Promise.race([reply, gone]);
  }

  register(server: string, names: string[], password: string, concurrency: number): Promise<{ ok: number; taken: number; failed: number; firstError?: string }> {
    return this.#ask({ type: 'register', server, names, password, concurrency });
  }

  /** Logs `links` in and keeps them heartbeating; or, with `raw`, opens that many bare connections. */
  open(what: { links: LinkCredentials[] } | { raw: number }, concurrency: number): Promise<OpenResult> {
    this.progress = { ready: 0, failed: 0 };
    return this.#ask({ type: 'open', concurrency, ...what });
  }

  stats(): Promise<HolderStats> {
    return this.#ask({ type: 'stats' });
  }

  close(): Promise<void> {
    return closeChild(this.#child, this.#exited);
  }

  kill(): void {
    killChild(this.#child);
  }
}

// Only as the process's entry (its parent's spawn); the parent imports this file for the class above.
runAsEntry(SELF, 'link-holder', childMain);

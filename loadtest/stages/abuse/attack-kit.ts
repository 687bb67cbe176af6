// What every attack of the abuse profile works with: where the server is,
// its deadline, the tally of what the server refused and accepted, the
// figures of what the attacker did, every socket it opened (all destroyed
// when the attack ends, whatever state it is in), and a bare HTTP call that
// reports an answer or the lack of one instead of throwing.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { parseHostPort, parseServerUrl, type HostPort } from '../../../client/net/server-address.ts';
import type { Target } from '../../target.ts';

/** How long an attacker waits for any one answer before it counts as none. */
export const ANSWER_TIMEOUT_MS = 15_000;
/** The Ret of a long-link request that got no reply. */
export const NO_REPLY = -1;
/** How often an attacker checks a condition it waits for. */
const POLL_MS = 50;

/** Resolves true once `f()` holds, or false after `maxMs`. */
export function poll(f: () => boolean, maxMs = Infinity): Promise<boolean> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const check = (): void => {
      if (f()) return resolve(true);
      if (performance.now() - t0 > maxMs) return resolve(false);
      setTimeout(check, POLL_MS);
    };
    check();
  });
}

/** Counts by kind: `HTTP 413 Ret 1102`, `op 5 Ret 0`, `op 6 Ret 1100 auth timeout`, `closed without op 6`, ... */
export class Tally {
  readonly refused = new Map<string, number>();
  readonly accepted = new Map<string, number>();

  refuse(kind: string, n = 1): void {
    this.refused.set(kind, (this.refused.get(kind) ?? 0) + n);
  }

  accept(kind: string, n = 1): void {
    this.accepted.set(kind, (this.accepted.get(kind) ?? 0) + n);
  }

  /** An HTTP answer: status 200 with Ret 0 is accepted, anything else refused. */
  http(a: HttpAnswer): void {
    if (a.status === 0) return this.refuse(`HTTP no answer (${a.error ?? 'closed'})`);
    const ret = a.json?.BaseResponse?.Ret;
    const kind = `HTTP ${a.status}${typeof ret === 'number' ? ` Ret ${ret}` : ''}`;
    if (a.status === 200 && ret === 0) this.accept(kind);
    else this.refuse(kind);
  }

  /** A long-link reply (op 5, 8, 11) with its Ret; NO_REPLY when none came. */
  reply(op: number, ret: number): void {
    if (ret === 0) this.accept(`op ${op} Ret 0`);
    else if (ret === NO_REPLY) this.refuse(`no op ${op} reply (link ended or ${ANSWER_TIMEOUT_MS / 1000} s passed)`);
    else this.refuse(`op ${op} Ret ${ret}`);
  }

  /** An op 6: its Ret and the start of its ErrMsg (a framing code, or the first words, numbers left out). */
  disconnect(d: { Ret: number; ErrMsg: string }): void {
    const what = /^[A-Z_]+(?=:)/.exec(d.ErrMsg)?.[0] ?? d.ErrMsg.split(/[:(]/)[0]!.replace(/\d+/g, 'N').trim().slice(0, 48);
    this.refuse(`op 6 Ret ${d.Ret} ${what}`);
  }

  static toRecord(m: Map<string, number>): Record<string, number> {
    return Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));
  }
}

/** Every socket an attack opens; destroyed together when it ends. */
export class SocketJar {
  readonly #open = new Set<{ destroy: () => void }>();

  add<T extends { destroy: () => void; once?: Duplex['once'] }>(s: T): T {
    this.#open.add(s);
    s.once?.('close', () => this.#open.delete(s));
    return s;
  }

  forget(s: { destroy: () => void }): void {
    this.#open.delete(s);
  }

  get size(): number {
    return this.#open.size;
  }

  destroyAll(): void {
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }
}

export class AttackEnv {
  readonly http: HostPort;
  readonly tcp: HostPort;
  readonly wsUrl: string;
  readonly tally = new Tally();
  readonly sockets = new SocketJar();
  /** What the attacker did: sends, requests, connections, guesses, bytes. */
  readonly figures = new Map<string, number>();
  readonly notes: string[] = [];
  /** performance.now() after which the attack stops; set when it starts. */
  deadline = Infinity;
  #stopped = false;

  /** Spread into every connect of this side: its source address, if it has one of its own. */
  readonly source: { localAddress?: string };

  constructor(
    readonly target: Target,
    /** Account names of this attack start with it (unique per run and attack). */
    readonly prefix: string,
    readonly password: string,
    readonly log: (line: string) => void,
    /** The address this side connects from (attackers: another loopback address than the honest clients'). */
    localAddress?: string,
  ) {
    this.http = parseServerUrl(target.server);
    this.tcp = parseHostPort(target.tcp);
    this.wsUrl = `ws://${this.http.host}:${this.http.port}/longlink`;
    this.source = localAddress ? { localAddress } : {};
  }

  /** The same target seen from the honest clients' address (no source address of its own). */
  honestSide(): AttackEnv {
    return new AttackEnv(this.target, this.prefix, this.password, this.log);
  }

  /** The attack goes on: before its deadline and not stopped. */
  get open(): boolean {
    return !this.#stopped && performance.now() < this.deadline;
  }

  stop(): void {
    this.#stopped = true;
  }

  count(what: string, n = 1): void {
    this.figures.set(what, (this.figures.get(what) ?? 0) + n);
  }

  note(line: string): void {
    this.notes.push(line);
  }

  /** Sleeps `ms`, or less if the attack ends first. */
  pause(ms: number): Promise<void> {
    const left = Math.max(0, Math.min(ms, this.deadline - performance.now()));
    return new Promise((r) => setTimeout(r, left));
  }
}

/**
 * Where attackers connect from: a loopback address of their own (127.0.0.2,
 * or 127.0.0.3 if the server is on that one), so that per-address bounds of
 * the server meet the attacker and not the honest clients on 127.0.0.1. None
 * for a server on localhost or ::1.
 */
export function attackerAddress(serverHost: string): string | undefined {
  if (!/^127\.\d+\.\d+\.\d+$/.test(serverHost)) return undefined;
  return serverHost === '127.0.0.2' ? '127.0.0.3' : '127.0.0.2';
}

export interface HttpAnswer {
  /** 0: no answer (connection error, reset, timeout). */
  status: number;
  json: { BaseResponse?: { Ret?: number; ErrMsg?: string }; [k: string]: unknown } | undefined;
  error?: string;
}

/** One request; never throws. `body` goes as it is (a string is JSON already). */
export function httpCall(env: AttackEnv, agent: http.Agent | false, method: string, path: string, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const headers: http.OutgoingHttpHeaders = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: env.http.host, port: env.http.port, ...env.source, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: HttpAnswer['json'];
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, json: undefined, error: e.code ?? e.message }));
    });
    req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, json: undefined, error: e.code ?? e.message }));
    req.end(body);
  });
}

/** The session a login gives: what a BaseRequest carries. */
export interface Session {
  Uin: number;
  Sid: string;
  Skey: string;
  DeviceID: string;
}

/** manualauth; the session, or undefined with the answer tallied as a refusal. */
export async function login(env: AttackEnv, agent: http.Agent, userName: string, deviceId: string, password = env.password): Promise<Session | undefined> {
  const a = await httpCall(env, agent, 'POST', '/cgi-bin/micromsg-bin/manualauth', JSON.stringify({ UserName: userName, Password: password, DeviceID: deviceId }));
  const j = a.json as { BaseResponse?: { Ret?: number }; Uin?: number; Sid?: string; Skey?: string } | undefined;
  if (a.status !== 200 || j?.BaseResponse?.Ret !== 0) return undefined;
  return { Uin: j.Uin!, Sid: j.Sid!, Skey: j.Skey!, DeviceID: deviceId };
}

/** Tries of one registration answered Busy (Ret 2) before it counts as failed. */
const REGISTER_BUSY_TRIES = 50;

/** Registers `names` (`concurrency` at a time); a name already taken counts as done. Throws if one fails. */
export async function registerAll(env: AttackEnv, names: readonly string[], concurrency = 16): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const name = names[next++]!;
        let a = await httpCall(env, agent, 'POST', '/cgi-bin/micromsg-bin/register', JSON.stringify({ UserName: name, Password: env.password }));
        // Ret 2: every password-hash slot is taken (maxHashJobs); try again after the server's hint.
        for (let tries = 1; a.json?.BaseResponse?.Ret === 2 && tries < REGISTER_BUSY_TRIES; tries++) {
          const hintMs = Number(/retry after (\d+) ms$/.exec(String(a.json.BaseResponse.ErrMsg))?.[1] ?? 100);
          await new Promise((r) => setTimeout(r, hintMs));
          a = await httpCall(env, agent, 'POST', '/cgi-bin/micromsg-bin/register', JSON.stringify({ UserName: name, Password: env.password }));
        }
        const ret = a.json?.BaseResponse?.Ret;
        // 1104: taken, by an earlier run against the same server.
        if (ret !== 0 && ret !== 1104) throw new Error(`register ${name}: HTTP ${a.status} Ret ${ret} ${a.error ?? ''}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
}

// The link holders of one capacity run: as many processes as the links need
// (each under its own open-files limit, each from its own loopback source
// address, 127.0.0.2, 127.0.0.3, ...), the devices dealt to them account by
// account, and their counters summed.
import { assertLoopback } from '../loopback.ts';
import { HOST } from '../run-context.ts';
import { type LinkCounters } from './held-link.ts';
import { LinkHolder, type HolderStats, type OpenResult } from './link-holder.ts';

/** Descriptors a holder needs besides its links: stdio, IPC, the HTTP agent of registration. */
export const HOLDER_FD_MARGIN = 64;
/**
 * Links one holder keeps at most: well under one source address's ephemeral
 * ports (~28,000) and small enough that several holders share the cores.
 */
export const MAX_LINKS_PER_HOLDER = 12_500;
/** Raw connects in flight at once over all holders: under a listen backlog of 511 (Node's), so that no SYN waits a second for its retry. */
const RAW_CONCURRENCY = 256;
const REGISTER_CONCURRENCY = 32;
const PROGRESS_LOG_MS = 5000;

export interface FleetTotals {
  ready: number;
  raw: number;
  counters: LinkCounters;
}

/** How many holders `links` need when each may hold `perHolder`. */
export function holdersFor(links: number, perHolder: number): number {
  return Math.max(1, Math.ceil(links / Math.max(1, perHolder)));
}

export class HolderFleet {
  private constructor(readonly holders: LinkHolder[]) {}

  /** Starts `n` holders connecting to `host:port`, each asking for `fdLimit` descriptors. */
  static async start(n: number, host: string, port: number, fdLimit: number): Promise<HolderFleet> {
    assertLoopback(host);
    const holders: LinkHolder[] = [];
    try {
      for (let i = 0; i < n; i++) holders.push(await LinkHolder.start({ host, port, localAddress: sourceAddress(i), fdLimit }));
    } catch (e) {
      for (const h of holders) h.kill();
      throw e;
    }
    return new HolderFleet(holders);
  }

  /** The lowest open-files limit the holders got. */
  get fdLimit(): number | undefined {
    const l = this.holders.map((h) => h.fdLimit).filter((x): x is number => x !== undefined);
    return l.length ? Math.min(...l) : undefined;
  }

  /** Registers `names`, split over the holders; throws on any failure but "name taken". */
  async register(server: string, names: string[], password: string): Promise<void> {
    const parts = split(names, this.holders.length);
    const per = Math.max(1, Math.floor(REGISTER_CONCURRENCY / this.holders.length));
    const rs = await Promise.all(this.holders.map((h, i) => h.register(server, parts[i]!, password, per)));
    const failed = rs.filter((r) => r.failed > 0);
    if (failed.length) throw new Error(`${failed.reduce((n, r) => n + r.failed, 0)} registrations failed, e.g. ${failed[0]!.firstError}`);
  }

  /**
   * Logs every device of `accounts` in (device ids `h<k>`, `devicesPerAccount`
   * each), an account's devices all in one holder, `concurrency` logins in
   * flight over all holders (keep it under the server's maxUnauthLinks); logs progress.
   */
  async openLinks(accounts: string[], devicesPerAccount: number, password: string, concurrency: number, log: (l: string) => void): Promise<OpenResult> {
    const parts = split(accounts, this.holders.length);
    const per = Math.max(1, Math.floor(concurrency / this.holders.length));
    return this.#open(
      (h, i) => h.open({ links: parts[i]!.flatMap((userName) => Array.from({ length: devicesPerAccount }, (_, k) => ({ userName, password, deviceId: `h${k}` }))) }, per),
      accounts.length * devicesPerAccount,
      log,
    );
  }

  /** `n` bare connections that send nothing, split over the holders. */
  openRaw(n: number, log: (l: string) => void): Promise<OpenResult> {
    const per = Math.max(1, Math.floor(RAW_CONCURRENCY / this.holders.length));
    const counts = split(Array.from({ length: n }), this.holders.length).map((p) => p.length);
    return this.#open((h, i) => h.open({ raw: counts[i]! }, per), n, log);
  }

  async #open(each: (h: LinkHolder, i: number) => Promise<OpenResult>, total: number, log: (l: string) => void): Promise<OpenResult> {
    const progress = setInterval(() => {
      const ready = this.holders.reduce((n, h) => n + h.progress.ready, 0);
      const failed = this.holders.reduce((n, h) => n + h.progress.failed, 0);
      log(`  ${ready} of ${total} open${failed ? `, ${failed} failed` : ''}`);
    }, PROGRESS_LOG_MS);
    try {
      const rs = await Promise.all(this.holders.map(each));
      return { ready: rs.reduce((n, r) => n + r.ready, 0), failed: rs.reduce((n, r) => n + r.failed, 0), errors: rs.flatMap((r) => r.errors) };
    } finally {
      clearInterval(progress);
    }
  }

  async stats(): Promise<FleetTotals> {
    const all: HolderStats[] = await Promise.all(this.holders.map((h) => h.stats()));
    const counters: LinkCounters = { heartbeatsSent: 0, heartbeatReplies: 0, syncs: 0, notifies: 0, drops: 0, disconnects: {} };
    for (const s of all) {
      const c = s.counters;
      counters.heartbeatsSent += c.heartbeatsSent;
      counters.heartbeatReplies += c.heartbeatReplies;
      counters.syncs += c.syncs;
      counters.notifies += c.notifies;
      counters.drops += c.drops;
      for (const [ret, n] of Object.entries(c.disconnects)) counters.disconnects[ret] = (counters.disconnects[ret] ?? 0) + n;
    }
    return { ready: all.reduce((n, s) => n + s.ready, 0), raw: all.reduce((n, s) => n + s.raw, 0), counters };
  }

  async close(): Promise<void> {
    await Promise.all(this.holders.map((h) => h.close()));
  }

  kill(): void {
    for (const h of this.holders) h.kill();
  }
}

/** Holder i's source address: 127.0.0.2 onwards (the server listens on HOST, 127.0.0.1), within 127.0.0.0/8. */
export function sourceAddress(i: number): string {
  if (!HOST.startsWith('127.')) throw new RangeError(`the capacity holders bind loopback source addresses; the server is on ${HOST}`);
  if (!Number.isInteger(i) || i < 0 || i > 252) throw new RangeError(`holder index must be 0..252, got ${i}`);
  return `127.0.0.${2 + i}`;
}

/** `xs` in `n` contiguous parts whose sizes differ by at most one. */
function split<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const len = Math.floor(xs.length / n) + (i < xs.length % n ? 1 : 0);
    out.push(xs.slice(at, at + len));
    at += len;
  }
  return out;
}

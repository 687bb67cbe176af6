// The real server the transport fuzzers aim at: in this process (so that its
// store can be watched), on real sockets, with small limits so that inputs
// reach them, behind a store wrapper that counts every write. Its accounts:
// `fuzz` (the session the fuzzed requests carry), `fuzzlogin` (what fuzzed
// logins may log into, so they never replace the `fuzz` session), `peer`,
// a group of the two, and `honest`, whose password the inputs never see and
// whose own TCP link must still answer a heartbeat after every input.
import crypto from 'node:crypto';
import type { Write } from '../../server/store/store-ops.ts';
import { ForwardingStore } from '../../server/store/forwarding-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import { CONNECTION_LIMITS_LIFTED } from '../../server/transport/transport-limits.ts';
import { ADMISSION_LIFTED } from '../../server/node/node-config.ts';
import { startTestServer, tempDb, type TestServer } from '../e2e/fixture.ts';
import { httpCall, manualAuth, register, WEB, type HttpResult } from '../e2e/raw-client/http.ts';
import { TcpLink } from '../e2e/raw-client/tcp-link.ts';
import { keyQuery, type SyncKey } from '../e2e/raw-client/sync-key.ts';

export const PASSWORD = 'pw';
/** Small bounds, so that random lengths cross them. */
export const LIMITS = { maxPacketBody: 8192, maxHttpBody: 16_384, maxSyncReplyBytes: 4096, holdMs: 50 } as const;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How long the honest link may take to answer its heartbeat. */
const HONEST_TIMEOUT_MS = 3000;
const SETTLE_TIMEOUT_MS = 3000;
const CLOSE_TIMEOUT_MS = 5000;

/** A Store that counts the writes applied to it: a refused input must add none. */
export class CountingStore extends ForwardingStore {
  writes = 0;

  override apply(writes: readonly Write[]): void {
    this.inner.apply(writes);
    this.writes += writes.length;
  }
}

/** The logged-in `fuzz` device whose BaseRequest the templates carry. */
export interface FuzzSession {
  userName: string;
  uin: number;
  sid: string;
  skey: string;
  deviceId: string;
  key: SyncKey;
}

export class FuzzTarget {
  session!: FuzzSession;
  /** The group of `fuzz` and `peer`. */
  group = '';
  /** Set when the process saw an uncaught exception: the server crashed. */
  crash: Error | undefined;
  honest!: TcpLink;
  readonly #onCrash = (e: Error): void => {
    this.crash ??= e;
  };

  private constructor(
    readonly t: TestServer,
    readonly store: CountingStore,
    private readonly cleanup: () => void,
  ) {}

  static async start(): Promise<FuzzTarget> {
    const tmp = tempDb('fuzz-transports');
    const store = new CountingStore(SqliteStore.open(tmp.db, { synchronous: 'NORMAL' }));
    const t = await startTestServer(tmp.db, {
      store,
      // Thousands of inputs, each on connections of its own from one address, many of them refused
      // bodies: the per-address rates (tested in test/e2e/hostile) would shed the fuzzer itself.
      limits: CONNECTION_LIMITS_LIFTED,
      node: {
        holdMs: LIMITS.holdMs,
        authTimeoutMs: 2000,
        maxPacketBody: LIMITS.maxPacketBody,
        maxHttpBody: LIMITS.maxHttpBody,
        // Neither the sweep nor heartbeats write during a run: every write comes from an input.
        sweepIntervalMs: HOUR_MS,
        // Fuzzed logins fail by the thousand from this one address: the throttles (tested in
        // test/core/password-jobs.test.ts) would lock the fuzzer's own re-login out.
        ...ADMISSION_LIFTED,
        loginFreeFailuresPerAddress: 1_000_000_000,
        loginFreeFailuresPerAccount: 1_000_000_000,
      },
      core: { maxSyncReplyBytes: LIMITS.maxSyncReplyBytes, lastSeenGranularityMs: DAY_MS },
    });
    const target = new FuzzTarget(t, store, tmp.cleanup);
    process.on('uncaughtException', target.#onCrash);
    try {
      await target.#setUp();
    } catch (e) {
      // The set-up's error is the one to report, not whatever closing a half-started server says.
      await target.close().catch(() => {});
      throw e;
    }
    return target;
  }

  async #setUp(): Promise<void> {
    const base = this.t.base;
    for (const u of ['fuzz', 'fuzzlogin', 'peer']) await register(base, u, PASSWORD);
    const honestPassword = crypto.randomBytes(12).toString('hex');
    await register(base, 'honest', honestPassword);
    await this.relogin();
    const g = await this.post('webwxcreatechatroom', { MemberCount: 1, MemberList: [{ UserName: 'peer' }], Topic: 'fuzz room' });
    this.group = g.json.ChatRoomName;
    for (let i = 0; i < 3; i++) {
      const to = i === 0 ? this.group : 'peer';
      const r = await this.post('webwxsendmsg', { Msg: { ClientMsgId: `seed-${i}`, LocalID: `seed-${i}`, FromUserName: 'fuzz', ToUserName: to, Type: 1, Content: `seed ${i}` }, Scene: 0 });
      if (r.json?.BaseResponse?.Ret !== 0) throw new Error(`seed message: ${r.text}`);
    }
    this.honest = await TcpLink.connect(this.t.tcpPort);
    const a = await this.honest.auth({ UserName: 'honest', Password: honestPassword, DeviceID: 'honest-phone' });
    if (a.BaseResponse.Ret !== 0) throw new Error(`honest auth: Ret ${a.BaseResponse.Ret}`);
  }

  get baseRequest(): { Uin: number; Sid: string; Skey: string; DeviceID: string } {
    const s = this.session;
    return { Uin: s.uin, Sid: s.sid, Skey: s.skey, DeviceID: s.deviceId };
  }

  /** The synccheck query of the `fuzz` session, valid as it stands. */
  syncCheckParams(): Record<string, string> {
    const s = this.session;
    return { sid: s.sid, uin: String(s.uin), skey: s.skey, deviceid: s.deviceId, synckey: keyQuery(s.key), r: '1', _: '2' };
  }

  post(endpoint: string, body: Record<string, unknown>): Promise<HttpResult> {
    return httpCall(this.t.base, 'POST', `${WEB}${endpoint}`, { BaseRequest: this.baseRequest, ...body });
  }

  /** A fresh session for the `fuzz` device (after a fuzzed logout, say). */
  async relogin(): Promise<void> {
    const l = await manualAuth(this.t.base, 'fuzz', PASSWORD, 'fz-harness');
    this.session = { userName: 'fuzz', uin: l.Uin, sid: l.Sid, skey: l.Skey, deviceId: 'fz-harness', key: l.SyncKey };
  }

  /** Whether the `fuzz` session still works. */
  async sessionAlive(): Promise<boolean> {
    const r = await this.post('webwxinit', {});
    if (r.json?.BaseResponse?.Ret !== 0) return false;
    this.session.skey = r.json.SKey;
    return true;
  }

  /** Waits until nothing is left to commit, so the write count is final. */
  async settle(): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (!this.t.srv.node.needsFlush) return;
      if (Date.now() - t0 > SETTLE_TIMEOUT_MS) throw new Error(`the server still had work to commit after ${SETTLE_TIMEOUT_MS} ms`);
    }
  }

  /** Long links the node holds now. */
  get links(): number {
    return this.t.srv.stats().node.links;
  }

  /** Waits (bounded) until the node holds no more than `n` links: it has read and dropped a link the fuzzer closed. */
  async linksBackTo(n: number): Promise<void> {
    const t0 = Date.now();
    while (this.links > n && Date.now() - t0 < SETTLE_TIMEOUT_MS) await new Promise((r) => setTimeout(r, 1));
  }

  /**
   * Throws if the server crashed since the last call. The crash is taken, not
   * kept: while fast-check shrinks, each input must crash the server again to count.
   */
  throwIfCrashed(): void {
    const crash = this.crash;
    this.crash = undefined;
    if (crash) throw new Error(`the server crashed: ${crash.stack ?? String(crash)}`);
  }

  /** Throws unless the server is up and the honest link answers a heartbeat. */
  async checkHonest(): Promise<void> {
    this.throwIfCrashed();
    if (this.honest.closed) throw new Error(`the honest link was closed (${this.honest.closeInfo})`);
    await Promise.race([
      this.honest.heartbeat(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`the honest link got no heartbeat answer within ${HONEST_TIMEOUT_MS} ms`)), HONEST_TIMEOUT_MS)),
    ]);
  }

  /** Stops the server; a server left broken by a crash may never finish draining, so this gives up after a while. */
  async close(): Promise<void> {
    process.off('uncaughtException', this.#onCrash);
    this.honest?.destroy();
    let timer: NodeJS.Timeout | undefined;
    const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    await Promise.race([this.t.srv.close(), givenUp]);
    clearTimeout(timer);
    this.cleanup();
  }
}

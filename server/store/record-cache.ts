// A write-through cache of the hot records (accounts, sessions, devices,
// counters) in front of a store whose reads cost a query each. The store
// puts every record it writes in a transaction and clears everything on a
// rollback, so the cache never holds what the database does not. It assumes
// one writer (this process), as the server is.
import type { Account, Device, MetaName, Session } from '../core/model.ts';
import { LogTailCache } from './log-tail-cache.ts';

/** Entries per kind before that kind is emptied: a crude bound, but a bound. */
const DEFAULT_MAX_ENTRIES = 100_000;

export class RecordCache {
  private readonly accounts = new Map<number, Account>();
  private readonly uinByName = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();
  private readonly devices = new Map<string, Device>();
  private readonly meta = new Map<MetaName, number>();
  /** Whether a sent b a direct message, by "a>b": only ever becomes true. */
  private readonly peerLinks = new Map<string, boolean>();
  /** The newest items of each log (log-tail-cache.ts). */
  readonly tails = new LogTailCache();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  account(uin: number): Account | undefined {
    return this.count(this.accounts.get(uin));
  }

  accountByName(userName: string): Account | undefined {
    const uin = this.uinByName.get(userName);
    return this.count(uin === undefined ? undefined : this.accounts.get(uin));
  }

  putAccount(a: Account): void {
    const prev = this.accounts.get(a.uin);
    if (prev && prev.userName !== a.userName) this.uinByName.delete(prev.userName);
    this.bound(this.accounts);
    this.bound(this.uinByName);
    this.accounts.set(a.uin, a);
    this.uinByName.set(a.userName, a.uin);
  }

  session(sid: string): Session | undefined {
    return this.count(this.sessions.get(sid));
  }

  putSession(s: Session): void {
    this.bound(this.sessions);
    this.sessions.set(s.sid, s);
  }

  deleteSession(sid: string): void {
    this.sessions.delete(sid);
  }

  device(uin: number, deviceId: string): Device | undefined {
    return this.count(this.devices.get(deviceKey(uin, deviceId)));
  }

  putDevice(d: Device): void {
    this.bound(this.devices);
    this.devices.set(deviceKey(d.uin, d.deviceId), d);
  }

  deleteDevice(uin: number, deviceId: string): void {
    this.devices.delete(deviceKey(uin, deviceId));
  }

  metaValue(name: MetaName): number | undefined {
    return this.count(this.meta.get(name));
  }

  putMeta(name: MetaName, value: number): void {
    this.meta.set(name, value);
  }

  peer(a: number, b: number): boolean | undefined {
    return this.peerLinks.get(`${a}>${b}`);
  }

  /** A direction read from the database; never overrides what a write said. */
  learnPeer(a: number, b: number, linked: boolean): void {
    const k = `${a}>${b}`;
    if (this.peerLinks.has(k)) return;
    this.bound(this.peerLinks);
    this.peerLinks.set(k, linked);
  }

  putPeer(a: number, b: number): void {
    this.bound(this.peerLinks);
    this.peerLinks.set(`${a}>${b}`, true);
  }

  /** After a rollback nothing cached can be trusted. */
  clear(): void {
    this.peerLinks.clear();
    this.tails.clear();
    this.accounts.clear();
    this.uinByName.clear();
    this.sessions.clear();
    this.devices.clear();
    this.meta.clear();
  }

  private count<T>(v: T | undefined): T | undefined {
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  private bound(m: Map<unknown, unknown>): void {
    if (m.size >= this.maxEntries) m.clear();
  }
}

function deviceKey(uin: number, deviceId: string): string {
  return `${uin}\u0000${deviceId}`;
}

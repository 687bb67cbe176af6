// Waiting login long polls (GET /cgi-bin/mmwebwx-bin/login), bounded like
// synccheck's: one per uuid (its newest), maxLoginPollsPerAddress per
// address (a new one completes the address's oldest) and maxLoginPolls in
// all (one more is refused). The node answers what this hands back.
import type { NodeConfig } from './node-config.ts';
import { addressKey } from './remote-address.ts';

export interface LoginPoll {
  req: number;
  uuid: string;
  address: string;
  deadline: number;
}

export type LoginPollAdd = { kind: 'wait'; evicted: LoginPoll[] } | { kind: 'full' };

type PollLimits = Pick<NodeConfig, 'maxLoginPolls' | 'maxLoginPollsPerAddress'>;

export class LoginPolls {
  private readonly byReq = new Map<number, LoginPoll>();
  private readonly byUuid = new Map<string, LoginPoll>();
  /** Each address's polls, oldest first. */
  private readonly byAddress = new Map<string, Set<LoginPoll>>();
  private nextDeadline = Infinity;

  constructor(private readonly limits: PollLimits) {}

  get size(): number {
    return this.byReq.size;
  }

  /** Hold request `req` for `uuid` until `deadline`; `evicted` polls are to be answered at once (408). */
  add(req: number, uuid: string, remote: string, deadline: number): LoginPollAdd {
    const address = addressKey(remote);
    const evicted: LoginPoll[] = [];
    const same = this.byUuid.get(uuid);
    if (same) evicted.push(this.remove(same.req)!);
    const mine = this.byAddress.get(address);
    if (mine && mine.size >= this.limits.maxLoginPollsPerAddress) evicted.push(this.remove(mine.values().next().value!.req)!);
    // An eviction made room (the table never holds more than the bound).
    if (evicted.length === 0 && this.byReq.size >= this.limits.maxLoginPolls) return { kind: 'full' };
    const p: LoginPoll = { req, uuid, address, deadline };
    this.byReq.set(req, p);
    this.byUuid.set(uuid, p);
    let set = this.byAddress.get(address);
    if (!set) this.byAddress.set(address, (set = new Set()));
    set.add(p);
    this.nextDeadline = Math.min(this.nextDeadline, deadline);
    return { kind: 'wait', evicted };
  }

  /** The poll waiting for `uuid`, removed. */
  take(uuid: string): LoginPoll | undefined {
    const p = this.byUuid.get(uuid);
    return p ? this.remove(p.req) : undefined;
  }

  remove(req: number): LoginPoll | undefined {
    const p = this.byReq.get(req);
    if (!p) return undefined;
    this.byReq.delete(req);
    if (this.byUuid.get(p.uuid) === p) this.byUuid.delete(p.uuid);
    const set = this.byAddress.get(p.address);
    set?.delete(p);
    if (set && set.size === 0) this.byAddress.delete(p.address);
    return p;
  }

  /** Polls whose hold is over, removed. */
  expire(now: number): LoginPoll[] {
    if (now < this.nextDeadline) return [];
    const out: LoginPoll[] = [];
    let next = Infinity;
    for (const p of this.byReq.values()) {
      if (p.deadline <= now) out.push(p);
      else next = Math.min(next, p.deadline);
    }
    for (const p of out) this.remove(p.req);
    this.nextDeadline = next;
    return out;
  }

  nextWakeAt(): number {
    return this.nextDeadline;
  }
}

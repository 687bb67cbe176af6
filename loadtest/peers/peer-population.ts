// The population of a peer phase: the accounts, devices and groups of the
// server's population in the same shape (devices dealt to accounts round
// robin, groups drawn with the same seeded generator), on a peer system's
// links instead of the reference client. Deliveries feed the same delivery
// ledger as the server's phases, so lost, duplicated and mismatched are
// counted the same way.
import seedrandom from 'seedrandom';
import type { MessageItem } from '../../client/core/client-state.ts';
import { DeliveryLedger } from '../delivery-ledger.ts';
import type { Account, Dev, Group } from '../members.ts';
import type { PeerDelivery, PeerSystem } from './peer-system.ts';

/** A device on a peer link: what the delivery ledger reads of a device, and its sends. */
export interface PeerDevice {
  idx: number;
  account: number;
  transport: 'tcp';
  /** localId → message id of its sends not yet answered (the ledger's key). */
  pending: Map<string, number>;
  /** Sends made, for the next localId. */
  sends: number;
}

export interface PeerPopulationSpec {
  /** Account name prefix: [A-Za-z0-9_-]. */
  prefix: string;
  devices: number;
  devicesPerAccount: number;
  groups: number;
  groupSize: number;
  seed?: string;
}

/** Message types of MessageItem: 1 is text. */
const TEXT = 1;
/** MessageItem status of a message on the server. */
const STATUS_SENT = 3;

export class PeerPopulation {
  readonly devs: PeerDevice[] = [];
  readonly accounts: Account[] = [];
  readonly groups: Group[] = [];
  readonly ledger = new DeliveryLedger(this.groups);
  readonly rand: () => number;
  readonly system: PeerSystem;
  readonly log: (line: string) => void;
  closed = false;

  private constructor(system: PeerSystem, spec: PeerPopulationSpec, log: (line: string) => void) {
    this.system = system;
    this.rand = seedrandom(spec.seed ?? `${spec.prefix}-seed`);
    this.log = log;
  }

  /** Lays out the accounts, devices and groups, and opens every device's link and consumer. */
  static async create(system: PeerSystem, spec: PeerPopulationSpec, log: (line: string) => void = () => {}): Promise<PeerPopulation> {
    if (spec.devices < 1) throw new RangeError('a population needs at least one device');
    if (!/^[A-Za-z0-9_-]{1,20}$/.test(spec.prefix)) throw new RangeError(`population prefix must be 1-20 of [A-Za-z0-9_-], got '${spec.prefix}'`);
    const p = new PeerPopulation(system, spec, log);
    const nAccounts = Math.max(1, Math.ceil(spec.devices / spec.devicesPerAccount));
    for (let i = 0; i < nAccounts; i++) p.accounts.push({ idx: i, name: `${spec.prefix}${i}`, devices: [], groups: [] });
    for (let idx = 0; idx < spec.devices; idx++) {
      const account = idx % nAccounts;
      p.accounts[account]!.devices.push(idx);
      p.devs.push({ idx, account, transport: 'tcp', pending: new Map(), sends: 0 });
    }
    for (let g = 0; g < spec.groups && nAccounts >= 2; g++) {
      const members = p.#pick(Math.min(spec.groupSize, nAccounts), nAccounts);
      p.groups.push({ name: `${spec.prefix}g${g}`, members, memberSet: new Set(members) });
      for (const m of members) p.accounts[m]!.groups.push(g);
    }
    await system.open(
      p.devs.map((d) => ({ idx: d.idx, account: p.accounts[d.account]!.name })),
      (d) => p.#delivered(d),
    );
    return p;
  }

  /** `k` distinct indexes in [0, n), as the server's population draws its groups. */
  #pick(k: number, n: number): number[] {
    const out = new Set<number>();
    while (out.size < k) out.add(Math.floor(this.rand() * n));
    return [...out];
  }

  /**
   * The delivery ledger reads a device's idx, account and pending sends, and
   * nothing of its client: a peer device has those and a peer link instead
   * of a NetClient, so it is handed over under the ledger's device type.
   */
  ledgerDevice(d: PeerDevice): Dev {
    return d as unknown as Dev;
  }

  #delivered(x: PeerDelivery): void {
    const d = this.devs[x.device];
    if (!d || this.closed) return;
    const item: MessageItem = {
      MsgId: x.msgId,
      NewMsgId: x.msgId,
      FromUserName: x.from,
      ToUserName: x.to,
      MsgType: TEXT,
      Content: x.content,
      CreateTime: 0,
      ClientMsgId: x.clientMsgId,
      Status: STATUS_SENT,
      GroupSeq: 0,
    };
    this.ledger.applied(this.ledgerDevice(d), item);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.system.close();
  }
}

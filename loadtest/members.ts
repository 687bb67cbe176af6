// The members of a load population: devices (each the reference client on a
// real socket), the accounts they are dealt to, and the groups; and who a
// message is meant for: every device of the recipient accounts and of the
// sender's account, but the sending one.
import type { ClientTransport } from '../client/core/client-core.ts';
import type { NetClient } from '../client/net/net-client.ts';

export interface Dev {
  idx: number;
  account: number;
  transport: ClientTransport;
  client: NetClient;
  ready: boolean;
  /** localId → message id of its sends not yet answered. */
  pending: Map<string, number>;
}

export interface Account {
  idx: number;
  name: string;
  devices: number[];
  groups: number[];
}

export interface Group {
  name: string;
  members: number[];
  memberSet: Set<number>;
}

/** Where a message goes: to one account, or to a group (then `toAccount` is -1). */
export interface Addressing {
  senderAccount: number;
  /** Recipient account, or -1 for a group. */
  toAccount: number;
  /** Group index, or -1 for one account. */
  group: number;
}

/** Whether device `d` is meant to receive a message sent as `to` says (the sending device itself is the caller's to leave out). */
export function isMeantFor(groups: readonly Group[], to: Addressing, d: Dev): boolean {
  if (d.account === to.senderAccount) return true;
  if (to.group >= 0) return groups[to.group]!.memberSet.has(d.account);
  return d.account === to.toAccount;
}

/** How many devices are meant to receive a message sent as `to` says: the sender's other devices and every recipient device. */
/**
 * Where a send of `sender` goes: one of its groups (with probability
 * `groupShare`, if it has any), else another account at random (itself if it
 * is alone). The draws come from `rand`, in this order, so a seeded
 * population sends the same way every run.
 */
export function chooseRecipient(accounts: readonly Account[], sender: number, rand: () => number, groupShare: number): Addressing {
  const a = accounts[sender]!;
  if (a.groups.length > 0 && rand() < groupShare) return { senderAccount: sender, toAccount: -1, group: a.groups[Math.floor(rand() * a.groups.length)]! };
  if (accounts.length === 1) return { senderAccount: sender, toAccount: sender, group: -1 };
  let toAccount = Math.floor(rand() * (accounts.length - 1));
  if (toAccount >= sender) toAccount++;
  return { senderAccount: sender, toAccount, group: -1 };
}

export function expectedDeliveries(accounts: readonly Account[], groups: readonly Group[], to: Addressing): number {
  let n = accounts[to.senderAccount]!.devices.length - 1;
  if (to.group >= 0) {
    for (const m of groups[to.group]!.members) if (m !== to.senderAccount) n += accounts[m]!.devices.length;
  } else if (to.toAccount !== to.senderAccount) n += accounts[to.toAccount]!.devices.length;
  return n;
}

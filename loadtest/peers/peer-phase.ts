// One phase of sends over a peer population, as phase-runner.ts runs one over
// the server's: the same choice of sender, recipient and size from the same
// seeded generator, the same content (id and send time), the same closed loop
// (a window of unanswered sends per device) or open model (Poisson arrivals),
// the same delivery ledger and recorder, and the same bounded wait for
// quiescence at the end.
import { encodeContent } from '../content-codec.ts';
import { PhaseTally, type SentMessage } from '../delivery-ledger.ts';
import { chooseRecipient, expectedDeliveries } from '../members.ts';
import { DEFAULT_SAMPLE_EVERY_MS, type PhaseResult, type PhaseSpec } from '../phase.ts';
import { phaseFigures } from '../phase-figures.ts';
import { sampler } from '../sampler.ts';
import { quiesce, runSendWindow } from '../send-window.ts';
import type { PeerDevice, PeerPopulation } from './peer-population.ts';
import type { PeerKind } from './peer-system.ts';

/** A send the peer refused (connection trouble) is retried with the same id this often at most, as the reference client retries. */
const MAX_SEND_ATTEMPTS = 30;
const RETRY_DELAY_MS = 200;

export type PeerPhaseResult = Omit<PhaseResult, 'kind' | 'serverCommits' | 'httpFailures' | 'linkDrops' | 'linkReconnects'> & {
  kind: PeerKind;
  /** Sends the peer refused at first and took on a retry with the same id. */
  retries: number;
};

interface Run {
  pop: PeerPopulation;
  ph: PhaseTally;
  retries: number;
  unansweredNow: number;
}

/** One send from device `d` to a random other account (or one of its groups), retried with the same id until answered. */
function sendFrom(r: Run, d: PeerDevice): void {
  const { pop, ph } = r;
  const a = pop.accounts[d.account]!;
  const to = chooseRecipient(pop.accounts, d.account, pop.rand, ph.groupSendFraction);
  const { toAccount, group } = to;
  const id = pop.ledger.nextId();
  const at = performance.now();
  const [lo, hi] = ph.contentBytes;
  const bytes = lo + Math.floor(pop.rand() * (hi - lo + 1));
  const expected = expectedDeliveries(pop.accounts, pop.groups, to);
  const m: SentMessage = { id, sender: d.idx, ...to, sentAt: at, expected, got: 0, seen: new Map(), state: 'unanswered', msgId: 0 };
  pop.ledger.add(m, ph);
  // The logs it goes to: the recipient accounts', and the sender's when another of its devices is owed a copy.
  const targetAccounts = group >= 0 ? pop.groups[group]!.members.filter((x) => x !== d.account) : toAccount === d.account ? [] : [toAccount];
  if (a.devices.length > 1 || toAccount === d.account) targetAccounts.push(d.account);
  const localId = `${d.idx}-${++d.sends}`;
  d.pending.set(localId, id);
  const msg = {
    from: a.name,
    to: group >= 0 ? pop.groups[group]!.name : pop.accounts[toAccount]!.name,
    clientMsgId: localId,
    targets: targetAccounts.map((x) => pop.accounts[x]!.name),
    content: encodeContent(id, at, bytes),
  };
  r.unansweredNow++;
  const attempt = (n: number): void => {
    pop.system.send(d.idx, msg).then(
      (msgId) => {
        r.unansweredNow--;
        pop.ledger.answered(pop.ledgerDevice(d), localId, msgId);
      },
      () => {
        if (n < MAX_SEND_ATTEMPTS && !pop.closed) {
          r.retries++;
          setTimeout(() => attempt(n + 1), RETRY_DELAY_MS);
        } else {
          r.unansweredNow--;
          pop.ledger.answered(pop.ledgerDevice(d), localId, undefined);
        }
      },
    );
  };
  attempt(1);
}

/** Runs one phase of sends over a peer population, then waits for quiescence and checks delivery. */
export async function runPeerPhase(pop: PeerPopulation, spec: PhaseSpec): Promise<PeerPhaseResult> {
  if (pop.closed) throw new Error('population is closed');
  const ph = new PhaseTally(spec);
  const r: Run = { pop, ph, retries: 0, unansweredNow: 0 };
  pop.ledger.phase = ph;
  const cpu0 = process.cpuUsage();
  const samples = sampler(pop.system, ph.rec.t0, spec.sampleEveryMs ?? DEFAULT_SAMPLE_EVERY_MS);
  const endAt = ph.rec.t0 + spec.durationMs;
  const open = (): boolean => performance.now() < endAt && ph.sent < spec.maxMessages && !pop.closed;
  const senders = pop.devs;

  const sendWindowMs = await runSendWindow({
    spec,
    ph,
    senders,
    rand: pop.rand,
    open,
    send: (d) => sendFrom(r, d),
    again: (d) => pop.devs[d.idx],
  });
  const quiesced = await quiesce(
    spec,
    () => r.unansweredNow === 0 && ph.incomplete() === 0,
    () => `${r.unansweredNow} sends unanswered, ${ph.incomplete()} acknowledged messages not yet everywhere`,
    pop.log,
  );
  const elapsedMs = performance.now() - ph.rec.t0;
  const memory = await samples.stop();
  pop.ledger.phase = undefined;
  const cpu = process.cpuUsage(cpu0);
  const serverCpuPct = samples.cpu();
  const result: PeerPhaseResult = {
    ...phaseFigures(ph, spec, { senders: senders.length, sendWindowMs, elapsedMs, quiesced, cpu }),
    kind: pop.system.kind,
    memory,
    ...(serverCpuPct !== undefined ? { serverCpuPct } : {}),
    retries: r.retries,
  };
  ph.rec.destroy();
  pop.ledger.forget(ph);
  for (const d of pop.devs) d.pending.clear();
  return result;
}

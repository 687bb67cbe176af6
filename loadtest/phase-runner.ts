// Runs one phase of sends over a population. Every message's content carries
// its id and send time, so each recipient device measures send-to-delivery
// latency; the sender measures send-to-ack. At the end of the phase the
// runner waits (bounded) for quiescence and checks that every acknowledged
// message reached every recipient device and the sender's other devices
// exactly once.
import { encodeContent } from './content-codec.ts';
import { PhaseTally, type SentMessage } from './delivery-ledger.ts';
import { chooseRecipient, expectedDeliveries, type Dev } from './members.ts';
import { DEFAULT_SAMPLE_EVERY_MS, type PhaseResult, type PhaseSpec } from './phase.ts';
import type { Population } from './population.ts';
import { phaseFigures } from './phase-figures.ts';
import { round1 } from './recorder.ts';
import { sampler, type WithStalls } from './sampler.ts';
import { quiesce, runSendWindow } from './send-window.ts';

/** One send from device `d` to a random peer (or one of its groups). */
function sendFrom(pop: Population, d: Dev, ph: PhaseTally): void {
  const to = chooseRecipient(pop.accounts, d.account, pop.rand, ph.groupSendFraction);
  const { toAccount, group } = to;
  const id = pop.ledger.nextId();
  const at = performance.now();
  const [lo, hi] = ph.contentBytes;
  const bytes = lo + Math.floor(pop.rand() * (hi - lo + 1));
  const m: SentMessage = {
    id,
    sender: d.idx,
    ...to,
    sentAt: at,
    expected: expectedDeliveries(pop.accounts, pop.groups, to),
    got: 0,
    seen: new Map(),
    state: 'unanswered',
    msgId: 0,
  };
  pop.ledger.add(m, ph);
  const name = group >= 0 ? pop.groups[group]!.name : pop.accounts[toAccount]!.name;
  const localId = d.client.send(name, encodeContent(id, at, bytes));
  d.pending.set(localId, id);
}

/** Runs one phase of sends, then waits for quiescence and checks delivery. */
export async function runPhase(pop: Population, spec: PhaseSpec): Promise<PhaseResult & WithStalls> {
  if (pop.closed) throw new Error('population is closed');
  const senders = pop.devs.filter((d) => !spec.senders || spec.senders.includes(d.transport));
  if (senders.length === 0) throw new RangeError(`phase ${spec.name}: no devices of ${spec.senders?.join('/')} to send from`);
  const ph = new PhaseTally(spec);
  pop.ledger.phase = ph;
  const cpu0 = process.cpuUsage();
  const stats0 = pop.clientStats();
  const samples = sampler(pop.target, ph.rec.t0, spec.sampleEveryMs ?? DEFAULT_SAMPLE_EVERY_MS);
  const endAt = ph.rec.t0 + spec.durationMs;
  const open = (): boolean => performance.now() < endAt && ph.sent < spec.maxMessages && !pop.closed;

  const sending = new Set(senders);
  const sendWindowMs = await runSendWindow({
    spec,
    ph,
    senders,
    rand: pop.rand,
    open,
    send: (d) => sendFrom(pop, d, ph),
    again: (d) => (sending.has(d) ? d : undefined),
  });

  // Quiescence: nothing left to send, every acknowledged message delivered everywhere.
  const busy = (): boolean => pop.devs.some((d) => d.client.core.outbox().some((e) => e.state !== 'failed'));
  const quiesced = await quiesce(spec, () => !busy() && ph.incomplete() === 0, () => `${ph.incomplete()} acknowledged messages not yet everywhere`, pop.log);
  const elapsedMs = performance.now() - ph.rec.t0;
  const memory = await samples.stop();
  pop.ledger.phase = undefined;
  const cpu = process.cpuUsage(cpu0);
  const stats1 = pop.clientStats();

  const commits = samples.commits();
  const serverCpuPct = samples.cpu();
  const serverStalls = samples.stalls();
  const result: PhaseResult & WithStalls = {
    ...phaseFigures(ph, spec, { senders: senders.length, sendWindowMs, elapsedMs, quiesced, cpu }),
    kind: 'synckey',
    memory,
    ...(serverCpuPct !== undefined ? { serverCpuPct } : {}),
    ...(commits ? { serverCommits: { commits, msgsPerCommit: round1(ph.acked / commits) } } : {}),
    ...(serverStalls ? { serverStalls } : {}),
    httpFailures: stats1.httpFailures - stats0.httpFailures,
    linkDrops: stats1.linkDrops - stats0.linkDrops,
    linkReconnects: stats1.linkConnects - stats0.linkConnects,
  };
  ph.rec.destroy();
  pop.ledger.forget(ph);
  for (const d of pop.devs) d.pending.clear();
  return result;
}

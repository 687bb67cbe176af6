// The two halves every send phase shares, whatever it drives (the SyncKey
// server or a peer): the send window (a closed loop of `window` unanswered
// sends per sender, or Poisson arrivals at a rate), then the wait for
// quiescence (every acknowledged message delivered everywhere), bounded.
import { openArrivals } from './arrivals.ts';
import type { PhaseTally } from './delivery-ledger.ts';
import type { Dev } from './members.ts';
import { DEFAULT_QUIESCE_TIMEOUT_MS, DEFAULT_WINDOW, type PhaseSpec } from './phase.ts';
import { until } from './wait-until.ts';

/** Slack past the send window for a saturate phase's senders to notice it closed. */
const SEND_WINDOW_SLACK_MS = 1000;
/** How often quiescence is checked. */
const QUIESCE_POLL_MS = 50;

export interface SendWindow<D> {
  spec: PhaseSpec;
  ph: PhaseTally;
  senders: D[];
  rand: () => number;
  /** The window is open: before its end and under its message bound. */
  open: () => boolean;
  send: (d: D) => void;
  /** Saturate: the sender that sends again when device `answered` got its answer (undefined: none). */
  again: (answered: Dev) => D | undefined;
}

/** Sends until the window closes; returns how long it was open, in ms since the phase began. */
export async function runSendWindow<D>(w: SendWindow<D>): Promise<number> {
  const { spec, ph, senders, open } = w;
  if (spec.mode === 'saturate') {
    const window = spec.window ?? DEFAULT_WINDOW;
    ph.onAnswer = (answered) => {
      const d = open() ? w.again(answered) : undefined;
      if (d !== undefined) w.send(d);
    };
    for (let k = 0; k < window; k++) for (const d of senders) if (open()) w.send(d);
    await until(() => !open(), spec.durationMs + SEND_WINDOW_SLACK_MS, () => 'the send window to close');
  } else {
    await openArrivals({
      phase: spec.name,
      rate: spec.rate,
      from: ph.rec.t0,
      rand: w.rand,
      open,
      fire: () => w.send(senders[Math.floor(w.rand() * senders.length)]!),
    });
  }
  const ms = performance.now() - ph.rec.t0;
  ph.onAnswer = () => {};
  return ms;
}

/** Waits (bounded by the spec) until `done`; false, with the reason logged, if it never came. */
export async function quiesce(spec: PhaseSpec, done: () => boolean, pending: () => string, log: (line: string) => void): Promise<boolean> {
  try {
    await until(done, spec.quiesceTimeoutMs ?? DEFAULT_QUIESCE_TIMEOUT_MS, () => `quiescence: ${pending()}`, QUIESCE_POLL_MS);
    return true;
  } catch (e) {
    log(`  ${spec.name}: ${(e as Error).message}`);
    return false;
  }
}

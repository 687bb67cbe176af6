// An attack in a process of its own. Generating an attack is work: a
// chunked-body attacker writing one-byte chunks as fast as its sockets drain
// kept the driver's event loop busy (profiled: most of its time in socket
// writes), and the honest clients that share that loop measured the
// driver's delay as the server's. So the attacker runs where a real one
// does, apart from the honest users: this file is the child's side (when it
// is the process's entry) and the parent's handle.
//
//   parent → child  {type: 'start', attack, stage, target, prefix, password, source}
//   child → parent  {type: 'prepared'} | {type: 'failed', message, ...tally}
//   parent → child  {type: 'run', durationMs}
//   child → parent  {type: 'done', ...tally} | {type: 'failed', message, ...tally}
//   child → parent  {type: 'log', line} at any time
//
// The child exits when its parent goes away (the IPC channel closes).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABUSE_ATTACK_LIMIT_MS, type AbuseStage, type AttackName } from '../../profiles.ts';
import { closeChild, killChild, runAsEntry } from '../../child-process.ts';
import { AttackEnv, Tally } from './attack-kit.ts';
import { ATTACKS, REFERENCE } from './attacks/index.ts';
import type { Attack } from './attacks/attack.ts';

/** The reference run too: an idle child, so that every run has the same processes. */
const PLANS: Readonly<Record<AttackName | 'reference', Attack>> = { reference: REFERENCE, ...ATTACKS };

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '../../..');
/** How long the child may take to prepare (accounts, logins, a prefilled log) and, past the attack's limit, to report. */
const PREPARE_TIMEOUT_MS = 60_000;
const REPORT_GRACE_MS = 10_000;

export interface AttackTally {
  figures: Record<string, number>;
  refused: Record<string, number>;
  accepted: Record<string, number>;
  notes: string[];
}

interface StartMessage {
  type: 'start';
  attack: AttackName | 'reference';
  stage: AbuseStage;
  target: { server: string; tcp: string };
  prefix: string;
  password: string;
  source: string | undefined;
}

type FromChild =
  | { type: 'log'; line: string }
  | { type: 'prepared' }
  | ({ type: 'done' } & AttackTally)
  | ({ type: 'failed'; message: string } & AttackTally);

function tallyOf(env: AttackEnv): AttackTally {
  return { figures: Object.fromEntries(env.figures), refused: Tally.toRecord(env.tally.refused), accepted: Tally.toRecord(env.tally.accepted), notes: env.notes };
}

// ------------------------------------------------------------ the child's side

async function childMain(): Promise<void> {
  if (!process.send) throw new Error('attack-process.ts is started by the abuse stage, with an IPC channel');
  const say = (m: FromChild): void => void process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  let env: AttackEnv | undefined;
  let plan: ReturnType<Attack['plan']> | undefined;
  process.on('message', (m: StartMessage | { type: 'run'; durationMs: number } | { type: 'close' }) => {
    if (m.type === 'close') process.exit(0);
    if (m.type === 'start') {
      env = new AttackEnv(m.target, m.prefix, m.password, (line) => say({ type: 'log', line }), m.source);
      const e = env;
      plan = PLANS[m.attack].plan(e, m.stage);
      plan.prepare().then(
        () => say({ type: 'prepared' }),
        (err: Error) => say({ type: 'failed', message: err.message, ...tallyOf(e) }),
      );
    } else if (m.type === 'run' && env && plan) {
      const e = env;
      e.deadline = performance.now() + m.durationMs;
      runBounded(e, plan.run).then(
        () => say({ type: 'done', ...tallyOf(e) }),
        (err: Error) => say({ type: 'failed', message: err.message, ...tallyOf(e) }),
      );
    }
  });
}

/** Runs the attack's plan until its deadline; past the hard limit everything it opened is destroyed and it is left behind. */
async function runBounded(env: AttackEnv, run: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      env.note(`cut off at the ${ABUSE_ATTACK_LIMIT_MS / 1000} s limit`);
      resolve();
    }, ABUSE_ATTACK_LIMIT_MS);
  });
  try {
    await Promise.race([run(), limit]);
  } finally {
    clearTimeout(timer);
    env.stop();
    env.sockets.destroyAll();
  }
}

runAsEntry(SELF, 'attack-process', childMain);

// ------------------------------------------------------------ the parent's side

/** An attack's process: prepared once started; run() attacks for a while and tells what it did. */
export class AttackProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #next: ((m: Exclude<FromChild, { type: 'log' }>) => void) | undefined;

  private constructor(log: (line: string) => void) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', SELF], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#exited = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)));
    this.#child.on('message', (m: FromChild) => {
      if (m.type === 'log') log(m.line);
      else this.#next?.(m);
    });
  }

  /** Starts the child and prepares the attack (its accounts, logins, prefill); rejects with the child's reason. */
  static async start(o: Omit<StartMessage, 'type'>, log: (line: string) => void): Promise<AttackProcess> {
    const p = new AttackProcess(log);
    try {
      const m = await p.#reply({ type: 'start', ...o }, PREPARE_TIMEOUT_MS);
      if (m.type !== 'prepared') throw new Error(m.type === 'failed' ? m.message : `the attack process said ${m.type}`);
      return p;
    } catch (e) {
      killChild(p.#child);
      throw e;
    }
  }

  /** Attacks for `durationMs` (the child's own clock); what the attacker did, or a failure with what it did until then. */
  async run(durationMs: number): Promise<{ tally: AttackTally; error?: string }> {
    const m = await this.#reply({ type: 'run', durationMs }, ABUSE_ATTACK_LIMIT_MS + REPORT_GRACE_MS);
    if (m.type === 'done') return { tally: m };
    if (m.type === 'failed') return { tally: m, error: m.message };
    throw new Error(`the attack process said ${m.type}`);
  }

  async close(): Promise<void> {
    await closeChild(this.#child, this.#exited);
  }

  #reply(msg: unknown, timeoutMs: number): Promise<Exclude<FromChild, { type: 'log' }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the attack process did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
      const gone = (code: number | null): void => reject(new Error(`the attack process exited (${code})`));
      void this.#exited.then(gone);
      this.#next = (m) => {
        clearTimeout(timer);
        this.#next = undefined;
        resolve(m);
      };
      this.#child.send(msg as object);
    });
  }
}

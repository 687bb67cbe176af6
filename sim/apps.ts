// App life on the devices: starting the real client core, killing it (with
// a torn last write, perhaps), replacing its session by a new login of the
// same device, and the ghosts such a replacement leaves behind, which run
// their real client logic until they hear 1101. What the users do with a
// running app comes in here too.
import { ClientCore, type ClientAction, type ClientEvent } from '../client/core/client-core.ts';
import { forgetSession } from '../client/core/client-state.ts';
import type { BugSet } from '../server/core/planted-bugs.ts';
import { PATHS } from '../server/node/http-api.ts';
import { HEADER_LEN, Op } from '../server/wire/packet.ts';
import { AppInstance } from './app-instance.ts';
import type { Device } from './device.ts';
import type { EventQueue } from './event-queue.ts';
import type { Observer, WorldCounters } from './observer.ts';
import type { Registry } from './registry.ts';
import type { Streams } from './rng.ts';
import type { Router } from './router.ts';
import { Violation } from './violation.ts';

/** Where a packet header holds its op (u32, big-endian): after packLen u32, headerLen u16, version u16. */
const OP_OFFSET = 8;

/** How long a user waits before resending what failed, once the world is healed. */
const USER_RESEND_DELAY_MS = 1000;

/** Departures from the simulator's defaults, for worlds that test the client itself. */
export interface AppsOptions {
  /** A killed app's waiting HTTP requests are aborted at the server (its connections close); default: they run on, their answers dropped. */
  killAbortsRequests?: boolean;
  /** A current session ended with no newer login is a violation (default); off where a test provokes it (1101, 1103). */
  sessionEndIsViolation?: boolean;
}

export class Apps {
  /** True in the liveness phase: the user resends failed messages (only then: in the safety phase they stay failed). */
  healed = false;
  /** Whoever else hears every core's events (a test's view of its devices), after the observer. */
  readonly listeners: Array<(inst: AppInstance, e: ClientEvent) => void> = [];
  /** Whoever hears every action a core emits, before it is routed. */
  readonly actionListeners: Array<(inst: AppInstance, a: ClientAction) => void> = [];
  /** Device → the last ghost instance of it that tried a password login. */
  private readonly ghostLogins = new Map<string, number>();

  constructor(
    private readonly q: EventQueue,
    private readonly streams: Streams,
    private readonly registry: Registry,
    private readonly router: Router,
    private readonly observer: Observer,
    private readonly counters: WorldCounters,
    private readonly bugs: BugSet,
    private readonly options: AppsOptions = {},
  ) {}

  start(d: Device): AppInstance {
    let inst: AppInstance | undefined;
    const core = new ClientCore({
      userName: d.account,
      password: d.password,
      deviceId: d.deviceId,
      transport: d.transport,
      random: d.app.random ?? this.seededRandom(d),
      out: (a) => this.out(inst!, a),
      emit: (e) => this.event(inst!, e),
      bugs: d.app.bugs ?? this.bugs,
      ...(d.app.config ? { config: d.app.config } : {}),
      ...(d.persisted ? { persisted: d.persisted } : {}),
    });
    inst = new AppInstance(this.registry.newInstanceId(), d.name, core, this.q);
    this.registry.addInstance(inst);
    d.current = inst;
    this.observer.appStarted(inst, d.account);
    core.start(this.q.now);
    inst.settle();
    return inst;
  }

  private seededRandom(d: Device): () => number {
    const random = this.streams.get(`client:${d.name}`);
    return () => random.next();
  }

  /** The app is killed: its persisted state stays on the device; its links drop. */
  kill(d: Device, tornWrite = false): void {
    const inst = d.current;
    if (!inst) return;
    this.counters.kills++;
    d.persisted = inst.core.persisted();
    if (tornWrite && d.previousKey) {
      // The last reply's messages were stored, its key was not.
      this.counters.tornWrites++;
      d.persisted = { ...d.persisted, syncKey: d.previousKey.map(([k, v]) => [k, v]) };
    }
    d.current = undefined;
    this.bury(inst);
    if (this.options.killAbortsRequests) this.router.abortRequests(inst, false);
    this.observer.note('app-kill', d.name, `instance ${inst.id}${tornWrite ? ' torn' : ''}`);
  }

  /** A new login of the same device (same DeviceID) takes over; the old instance runs on as a ghost. */
  replaceSession(d: Device): void {
    const old = d.current;
    if (!old) return;
    this.counters.replaces++;
    d.persisted = forgetSession(old.core.persisted());
    old.ghost = true;
    d.ghosts.push(old);
    this.observer.note('session-replace', d.name, `ghost ${old.id}`);
    this.start(d);
  }

  private bury(inst: AppInstance): void {
    inst.alive = false;
    this.router.dropLinks(inst);
  }

  /**
   * What the core emits goes to the router, a ghost's too: a replaced install
   * runs its real client logic (it should hear 1101 and stop). If it logs in
   * by password instead, it would take the device back from its replacer:
   * that is noted, and judged when the current instance loses its session.
   */
  private out(inst: AppInstance, a: ClientAction): void {
    for (const listen of this.actionListeners) listen(inst, a);
    if (inst.ghost && isPasswordLogin(inst, a)) {
      this.ghostLogins.set(inst.device, inst.id);
      this.observer.note('ghost-login', inst.device, `#${inst.id} logs in by password`);
    }
    this.router.fromClient(inst, a);
  }

  /** A core's event: the observer records it and feeds the checkers; the app's life reacts to it. */
  private event(inst: AppInstance, e: ClientEvent): void {
    this.observer.clientEvent(inst, e);
    for (const listen of this.listeners) listen(inst, e);
    switch (e.kind) {
      case 'syncKey':
        if (inst.alive && !inst.ghost) {
          const d = this.registry.deviceByName(inst.device);
          d.previousKey = d.currentKey;
          d.currentKey = e.key.map(([k, v]) => [k, v]);
        }
        return;
      case 'sendAcked':
        inst.failed.delete(e.localId);
        return;
      case 'sendFailed':
        inst.failed.add(e.localId);
        if (this.healed) this.q.schedule(this.q.now + USER_RESEND_DELAY_MS, 'user-resend', inst.device, () => this.resendFailed(inst));
        return;
      case 'sessionLost': {
        const d = this.registry.deviceByName(inst.device);
        if (inst.ghost) {
          const i = d.ghosts.indexOf(inst);
          if (i >= 0) d.ghosts.splice(i, 1);
          this.bury(inst);
        } else if (inst.alive && this.options.sessionEndIsViolation !== false) {
          const ghost = this.ghostLogins.get(d.name);
          if (ghost !== undefined) {
            throw new Violation('liveness', d.name, `a replaced install (#${ghost}) logged in again by password and took the device back: the current session was ended (Ret ${e.ret})`);
          }
          throw new Violation('liveness', d.name, `the device's current session was ended (Ret ${e.ret}) though no newer login replaced it`);
        }
        return;
      }
      default:
        return;
    }
  }

  /** The user resends every message that failed on this instance. */
  resendFailed(inst: AppInstance): void {
    if (!inst.alive || inst.ghost) return;
    for (const localId of [...inst.failed]) {
      inst.failed.delete(localId);
      this.observer.note('user-resend', inst.device, localId);
      inst.input((c) => c.resend(localId, this.q.now));
    }
  }

  // ---- user actions ----

  userSend(inst: AppInstance, to: string, content: string): void {
    const now = this.q.now;
    const localId = inst.core.send(to, content, now);
    const entry = inst.core.outbox().find((e) => e.localId === localId);
    if (!entry) throw new Error(`client lost the message it was just given (${localId})`);
    this.observer.userSent(inst, { to, content, clientMsgId: entry.clientMsgId, localId, sentAt: now });
    inst.settle();
  }

  userRemark(inst: AppInstance, target: string, remark: string): void {
    inst.core.setRemark(target, remark, this.q.now);
    this.observer.note('user-remark', inst.device, target);
    inst.settle();
  }
}

/** A manualauth, or a long-link auth by password: either makes a new session of the device. */
function isPasswordLogin(inst: AppInstance, a: ClientAction): boolean {
  if (a.kind === 'http') return a.url.split('?')[0] === PATHS.manualauth;
  return a.kind === 'linkWrite' && inst.links.has(a.link) && isPasswordAuth(a.bytes);
}

/** A long-link auth (op 7) by password, which makes a new session (a resume names a Sid instead). */
function isPasswordAuth(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_LEN) return false;
  const at = OP_OFFSET;
  const op = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  if (op !== Op.Auth) return false;
  try {
    const body: unknown = JSON.parse(Buffer.from(bytes.subarray(HEADER_LEN)).toString('utf8'));
    return typeof body === 'object' && body !== null && 'Password' in body;
  } catch {
    return false;
  }
}

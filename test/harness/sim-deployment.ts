// The end-to-end deployment in the simulator: one seeded world with a calm
// network (latency, chunked streams, no losses), the real server node on a
// memory store, reference client cores in apps, and virtual time. The world's
// checkers watch every step, so a violation fails the suite where it happens.
import type { ClientEvent } from '../../client/core/client-core.ts';
import { NO_BUGS } from '../../server/core/planted-bugs.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from '../../scenarios/scenario.ts';
import { Device } from '../../sim/device.ts';
import { simStore } from '../../sim/sim-store.ts';
import { World } from '../../sim/world.ts';
import type { Deployment, DeviceSpec, E2eDevice } from './deployment.ts';

/** Simulated time `until` may spend on one wait. */
const PATIENCE_MS = 10 * 60_000;
/** How long the server stays down in a restart. */
const DOWNTIME_MS = 2_000;

const SCENARIO: Scenario = {
  name: 'e2e-conversation',
  description: 'the end-to-end conversation on a calm network',
  workload: { ...BASE_WORKLOAD, accounts: 0, groups: 0, sendsPerSecond: 0 },
  faults: CALM_FAULTS,
  livenessBoundMs: PATIENCE_MS,
};

export class SimDeployment implements Deployment {
  readonly world: World;
  private readonly events = new Map<string, ClientEvent[]>();

  constructor(seed = 'e2e-conversation') {
    this.world = new World({ scenario: SCENARIO, seed, store: simStore('memory'), bugs: NO_BUGS, keepTrace: false });
    this.world.apps.listeners.push((inst, e) => this.events.get(inst.device)?.push(e));
  }

  async start(): Promise<void> {}

  async register(user: string, password: string): Promise<number> {
    return this.world.router.direct('POST', PATHS.register, { UserName: user, Password: password }).BaseResponse.Ret as number;
  }

  addDevice(spec: DeviceSpec): E2eDevice {
    const w = this.world;
    const d = new Device(spec.name, spec.user, spec.password, spec.deviceId, spec.transport);
    w.registry.addDevice(d);
    const events: ClientEvent[] = [];
    this.events.set(spec.name, events);
    w.apps.start(d);
    const app = () => d.current!;
    return {
      ...spec,
      get core() {
        return app().core;
      },
      events,
      send: (to, content) => {
        // The user's send, as the world's workload makes it (the checkers learn of it); its LocalID is the one new in the outbox.
        const before = new Set(app().core.outbox().map((e) => e.localId));
        w.apps.userSend(app(), to, content);
        const entry = app().core.outbox().find((e) => !before.has(e.localId));
        if (!entry) throw new Error(`${spec.name}: the send is not in the outbox`);
        return entry.localId;
      },
      createChatRoom: (members, topic) => app().input((c) => c.createChatRoom(members, topic, w.now)),
    };
  }

  async until(done: () => boolean, what: () => string): Promise<void> {
    const w = this.world;
    const deadline = w.elapsed + PATIENCE_MS;
    while (!done()) {
      if (w.elapsed > deadline || !w.step()) throw new Error(`after ${PATIENCE_MS} simulated ms, still waiting for ${what()}`);
    }
  }

  async restartServer(): Promise<void> {
    const w = this.world;
    w.crashServer();
    w.runUntil(w.elapsed + DOWNTIME_MS);
    w.restartServer();
  }

  async stop(): Promise<void> {
    this.world.o.store.dispose();
  }
}

// The end-to-end deployment on real sockets: the real server on loopback
// ports with a SQLite file (startTestServer), and the reference client core
// driven by NetClient over TCP, WebSocket or HTTP, in real time.
import type { ClientEvent } from '../../client/core/client-core.ts';
import { NetClient } from '../../client/net/net-client.ts';
import { registerAccount } from '../../client/net/register-account.ts';
import { startTestServer, tempDb, type TestServer } from '../e2e/fixture.ts';
import type { Deployment, DeviceSpec, E2eDevice } from './deployment.ts';

/** Short client timers: the loopback network answers in milliseconds. */
const FAST = {
  httpTimeoutMs: 5_000,
  replyTimeoutMs: 3_000,
  retryBaseMs: 50,
  retryMaxMs: 400,
  reconnectBaseMs: 50,
  reconnectMaxMs: 400,
  maxSendAttempts: 100,
};
const HOLD_MS = 800;
const PATIENCE_MS = 30_000;
const POLL_MS = 10;
/** How long the server stays down in a restart. */
const DOWNTIME_MS = 300;

export class RealDeployment implements Deployment {
  private readonly tmp = tempDb('e2e-suite');
  private t: TestServer | undefined;
  private readonly clients: NetClient[] = [];

  /** `storageThread` true: the server commits on its storage thread (`--storage-thread on`). */
  constructor(private readonly storageThread = false) {}

  private get server(): TestServer {
    if (!this.t) throw new Error('the server is not running');
    return this.t;
  }

  async start(): Promise<void> {
    this.t = await startTestServer(this.tmp.db, { node: { holdMs: HOLD_MS }, storageThread: this.storageThread });
  }

  async register(user: string, password: string): Promise<number> {
    return (await registerAccount(this.server.base, user, password)).ret;
  }

  addDevice(spec: DeviceSpec): E2eDevice {
    const events: ClientEvent[] = [];
    const client = new NetClient({
      userName: spec.user,
      password: spec.password,
      deviceId: spec.deviceId,
      transport: spec.transport,
      server: this.server.base,
      tcp: `127.0.0.1:${this.server.tcpPort}`,
      config: FAST,
      onEvent: (e) => events.push(e),
    });
    this.clients.push(client);
    client.start();
    return {
      ...spec,
      core: client.core,
      events,
      send: (to, content) => client.send(to, content),
      createChatRoom: (members, topic) => client.createChatRoom(members, topic),
    };
  }

  until(done: () => boolean, what: () => string): Promise<void> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      const poll = (): void => {
        if (done()) return resolve();
        if (Date.now() - t0 > PATIENCE_MS) return reject(new Error(`after ${PATIENCE_MS} ms, still waiting for ${what()}`));
        setTimeout(poll, POLL_MS);
      };
      poll();
    });
  }

  /** The same ports and database: the clients find the server where it was. */
  async restartServer(): Promise<void> {
    const { httpPort, tcpPort } = this.server.srv;
    await this.server.srv.close();
    this.t = undefined;
    await new Promise((r) => setTimeout(r, DOWNTIME_MS));
    this.t = await startTestServer(this.tmp.db, { httpPort, tcpPort, node: { holdMs: HOLD_MS }, storageThread: this.storageThread });
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.t?.srv.close();
    this.tmp.cleanup();
  }
}

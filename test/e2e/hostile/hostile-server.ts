// The server every hostile-input file starts: small limits and a short auth
// timeout, so the cases reach them quickly. Each case gets the answer
// docs/protocol.md documents (an op-6 disconnect with its Ret and ErrMsg, an
// HTTP status with its Ret, a synccheck retcode), and after each one a normal
// client still works: useHostileServer checks that after every test.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { StartOptions } from '../../../server/transport/server-app.ts';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { register } from '../raw-client/http.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import type { LinkClient } from '../raw-client/link-client.ts';
import { OP, frameJson } from '../raw-client/packets.ts';
import { TcpLink } from '../raw-client/tcp-link.ts';
import { until } from '../raw-client/wait.ts';
import { WsLink } from '../raw-client/ws-link.ts';

export const AUTH_TIMEOUT_MS = 400;
export const MAX_HTTP_BODY = 64 * 1024;
export const MAX_PACKET_BODY = 64 * 1024;
const WRITE_LIMIT = 256 * 1024;
// The retention sweep is a node command too (every second by default): here it
// runs once, at the first tick, and not again during a file, so a case can
// check that its input fed the node no command at all.
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
export const PASSWORD = 'pw';

/** The last frame is an op-6 disconnect with this Ret and an ErrMsg starting so; then the link closes. */
export async function expectDisconnect(l: LinkClient, ret: number, errMsgPrefix: string): Promise<void> {
  const f = await l.waitOp(OP.Disconnect, 3000);
  expect(f.seq).toBe(0);
  const body = frameJson<{ Ret: number; ErrMsg: string }>(f);
  expect(body.Ret, body.ErrMsg).toBe(ret);
  expect(body.ErrMsg.startsWith(errMsgPrefix), `ErrMsg '${body.ErrMsg}' should start with '${errMsgPrefix}'`).toBe(true);
  await l.waitClosed(3000);
  expect(l.frames[l.frames.length - 1]).toBe(f);
}

export interface HostileServer {
  /** The running server; set once the describe's beforeAll ran. */
  readonly t: TestServer;
  /** alice's web device, logged in and initialised: the normal client checked after every case. */
  readonly web: HttpDevice;
  /** A TCP link, destroyed after the case. */
  tcp(): Promise<TcpLink>;
  /** A WebSocket link, destroyed after the case. */
  ws(): Promise<WsLink>;
  /** A TCP link authenticated with the user's password. */
  authed(userName: string, deviceId: string): Promise<TcpLink>;
}

/** What a file changes of the hostile server: the limits its cases reach. */
export type HostileOverrides = Pick<StartOptions, 'node' | 'core' | 'limits' | 'linkWriteLimit' | 'closeGraceMs'>;

/**
 * Starts the server for the calling describe (users alice, bob, carol and
 * flood), and after every case closes the links it opened and checks that a
 * normal web device and a normal TCP device still work.
 */
export function useHostileServer(prefix: string, over: HostileOverrides = {}): HostileServer {
  const tmp = tempDb(prefix);
  let t: TestServer;
  let web: HttpDevice;
  const opened: LinkClient[] = [];

  const tcp = async (): Promise<TcpLink> => {
    const l = await TcpLink.connect(t.tcpPort);
    opened.push(l);
    return l;
  };
  const ws = async (): Promise<WsLink> => {
    const l = await WsLink.connect(t.wsUrl);
    opened.push(l);
    return l;
  };
  const authed = async (userName: string, deviceId: string): Promise<TcpLink> => {
    const l = await tcp();
    const r = await l.auth({ UserName: userName, Password: PASSWORD, DeviceID: deviceId });
    expect(r.BaseResponse.Ret).toBe(0);
    return l;
  };

  beforeAll(async () => {
    t = await startTestServer(tmp.db, {
      node: {
        holdMs: 600,
        authTimeoutMs: AUTH_TIMEOUT_MS,
        maxHttpBody: MAX_HTTP_BODY,
        maxPacketBody: MAX_PACKET_BODY,
        sweepIntervalMs: SWEEP_INTERVAL_MS,
        ...over.node,
      },
      linkWriteLimit: WRITE_LIMIT,
      ...(over.core ? { core: over.core } : {}),
      ...(over.limits ? { limits: over.limits } : {}),
      ...(over.linkWriteLimit ? { linkWriteLimit: over.linkWriteLimit } : {}),
      ...(over.closeGraceMs ? { closeGraceMs: over.closeGraceMs } : {}),
    });
    // Before any client command, the only command the node can run is that first sweep.
    await until(() => t.srv.stats().node.commands === 1, 2000, 'the first retention sweep');
    for (const u of ['alice', 'bob', 'carol', 'flood']) await register(t.base, u, PASSWORD);
    web = new HttpDevice(t.base, 'alice', PASSWORD, 'e100000000000001');
    await web.login();
    expect((await web.init()).BaseResponse.Ret).toBe(0);
  });

  // After every case: a normal web device and a normal TCP device still work.
  afterEach(async () => {
    for (const l of opened.splice(0)) l.destroy();
    const r = await web.syncOnce();
    expect(r.BaseResponse.Ret).toBe(0);
    const l = await TcpLink.connect(t.tcpPort);
    try {
      expect((await l.auth({ Uin: web.uin, Sid: web.sid, DeviceID: web.deviceId })).BaseResponse.Ret).toBe(0);
      await l.heartbeat();
      expect((await l.syncOnce()).BaseResponse.Ret).toBe(0);
    } finally {
      l.destroy();
    }
  });

  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  return {
    get t() {
      return t;
    },
    get web() {
      return web;
    },
    tcp,
    ws,
    authed,
  };
}

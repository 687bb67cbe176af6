// The reference client's web mode on real sockets: a NetClient logs in by QR
// code (no password), a phone client of the same account (on its TCP long
// link) confirms it with confirmWebLogin, and the web session then talks to
// another account both ways. The web client sends a DeviceID of its own, as
// the real web client does: the session it got is named by its Sid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../../client/core/client-core.ts';
import { NetClient, type NetClientOptions } from '../../../client/net/net-client.ts';
import { registerAccount } from '../../../client/net/register-account.ts';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { WEB, httpCall, manualAuth } from '../raw-client/http.ts';
import { until } from '../raw-client/wait.ts';

const PASSWORD = 'pw-web-mode';
const FAST = { httpTimeoutMs: 5_000, replyTimeoutMs: 3_000, retryBaseMs: 50, retryMaxMs: 400, reconnectBaseMs: 50, reconnectMaxMs: 400 };

interface Client {
  client: NetClient;
  events: ClientEvent[];
}

describe('the reference client in web mode', () => {
  const tmp = tempDb('e2e-web-mode');
  let t: TestServer;
  const clients: NetClient[] = [];

  function start(o: Omit<NetClientOptions, 'server' | 'tcp' | 'onEvent' | 'config'>): Client {
    const events: ClientEvent[] = [];
    const client = new NetClient({ ...o, server: t.base, tcp: `127.0.0.1:${t.tcpPort}`, config: FAST, onEvent: (e) => events.push(e) });
    clients.push(client);
    client.start();
    return { client, events };
  }
  const of = <K extends ClientEvent['kind']>(c: Client, kind: K) => c.events.filter((e): e is Extract<ClientEvent, { kind: K }> => e.kind === kind);

  beforeAll(async () => {
    t = await startTestServer(tmp.db, { node: { loginHoldMs: 1_000 } });
    for (const u of ['alice', 'bob']) expect((await registerAccount(t.base, u, PASSWORD)).ret).toBe(0);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.srv.close();
    tmp.cleanup();
  });

  it('shows a code, hears the scan, logs in once the phone confirms, then sends and receives', async () => {
    const phone = start({ userName: 'alice', password: PASSWORD, deviceId: 'alice-phone', transport: 'tcp' });
    const bob = start({ userName: 'bob', password: PASSWORD, deviceId: 'bob-1', transport: 'tcp' });
    const webDevice = 'e123456789012345';
    const web = start({ userName: 'alice', password: '', deviceId: webDevice, transport: 'http', login: 'qr' });
    await until(() => of(web, 'qrCode').length > 0 && phone.client.core.state === 'ready', 10_000, 'a QR code and a ready phone');
    expect(web.client.core.state).toBe('loggingIn');
    const uuid = of(web, 'qrCode')[0]!.uuid;
    expect(uuid).toMatch(/^[A-Za-z0-9_-]{22}$/);

    phone.client.input((now) => phone.client.core.confirmWebLogin(`${t.base}/l/${uuid}`, now));
    await until(() => web.client.core.state === 'ready', 10_000, 'the web client logged in');
    expect(of(phone, 'webLogin')).toEqual([{ kind: 'webLogin', loginUrl: `${t.base}/l/${uuid}`, confirmed: true, ret: 0, errMsg: '' }]);
    expect(of(web, 'qrScanned')).toHaveLength(1);
    expect(of(web, 'loggedIn')).toHaveLength(1);

    web.client.send('bob', 'from the browser');
    await until(() => bob.client.core.inbox().some((m) => m.Content === 'from the browser'), 10_000, 'bob has the web message');
    bob.client.send('alice', 'to the browser');
    await until(() => web.client.core.inbox().some((m) => m.Content === 'to the browser'), 10_000, 'the web client has the reply');
    // The phone, another device of the account, sees both.
    await until(() => phone.client.core.inbox().some((m) => m.Content === 'to the browser'), 10_000, 'the phone has the reply');
    expect(phone.client.core.inbox().some((m) => m.Content === 'from the browser')).toBe(true);
    expect(of(web, 'sessionLost')).toEqual([]);
  });

  it('a code is confirmed once: the phone that confirms it again hears the refusal (Ret 1204)', async () => {
    const phone = start({ userName: 'alice', password: PASSWORD, deviceId: 'alice-phone-2', transport: 'http' });
    const web = start({ userName: 'alice', password: '', deviceId: 'e000000000000002', transport: 'http', login: 'qr' });
    await until(() => of(web, 'qrCode').length > 0 && phone.client.core.state === 'ready', 10_000, 'a code and a ready phone');
    const url = `${t.base}/l/${of(web, 'qrCode')[0]!.uuid}`;
    phone.client.input((now) => phone.client.core.confirmWebLogin(url, now));
    await until(() => web.client.core.state === 'ready', 10_000, 'the web client logged in');
    phone.client.input((now) => phone.client.core.confirmWebLogin(url, now));
    await until(() => of(phone, 'webLogin').length === 2, 10_000, 'the second confirm answered');
    const [first, second] = of(phone, 'webLogin');
    expect(first!.confirmed).toBe(true);
    expect(second!.confirmed).toBe(false);
    expect(second!.ret).toBe(1204);
  });

  it("only a web session's DeviceID goes unchecked: a password login's BaseRequest must name its own device, and a web Sid another account's Uin", async () => {
    const login = await manualAuth(t.base, 'bob', PASSWORD, 'bob-strict');
    const init = (base: Record<string, unknown>) => httpCall(t.base, 'POST', `${WEB}webwxinit`, { BaseRequest: base });
    const base = { Uin: login.Uin, Sid: login.Sid, Skey: login.Skey };
    expect((await init({ ...base, DeviceID: 'bob-strict' })).json.BaseResponse.Ret).toBe(0);
    expect((await init({ ...base, DeviceID: 'e123456789012345' })).json.BaseResponse.Ret).toBe(1100);

    const phone = start({ userName: 'alice', password: PASSWORD, deviceId: 'alice-phone-3', transport: 'http' });
    const web = start({ userName: 'alice', password: '', deviceId: 'e000000000000003', transport: 'http', login: 'qr' });
    await until(() => of(web, 'qrCode').length > 0 && phone.client.core.state === 'ready', 10_000, 'a code and a ready phone');
    phone.client.input((now) => phone.client.core.confirmWebLogin(`${t.base}/l/${of(web, 'qrCode')[0]!.uuid}`, now));
    await until(() => web.client.core.state === 'ready', 10_000, 'the web client logged in');
    const s = web.client.core.session()!;
    const webBase = { Uin: s.uin, Sid: s.sid, Skey: s.skey };
    expect((await init({ ...webBase, DeviceID: 'e999999999999999' })).json.BaseResponse.Ret).toBe(0);
    expect((await init({ ...webBase, Uin: login.Uin, DeviceID: 'e999999999999999' })).json.BaseResponse.Ret).toBe(1100);
  });
});

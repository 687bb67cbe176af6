// The reference client sends files: NetClient.sendFile uploads (one request
// per 512 KiB chunk), then queues a picture or an attachment naming the
// MediaId; the recipient syncs it like any message and fetches the bytes.
// Over the long link too: media go over HTTP whatever the transport.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent, ClientTransport } from '../../../client/core/client-core.ts';
import { NetClient } from '../../../client/net/net-client.ts';
import { registerAccount } from '../../../client/net/register-account.ts';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { WEB } from '../raw-client/http.ts';
import { until } from '../raw-client/wait.ts';

const PASSWORD = 'pw-send-file';
const FAST = { httpTimeoutMs: 5_000, replyTimeoutMs: 3_000, retryBaseMs: 50, retryMaxMs: 400, reconnectBaseMs: 50, reconnectMaxMs: 400 };

describe('the reference client sends files', () => {
  const tmp = tempDb('e2e-send-file');
  let t: TestServer;
  const clients: NetClient[] = [];

  function start(user: string, deviceId: string, transport: ClientTransport): { client: NetClient; events: ClientEvent[] } {
    const events: ClientEvent[] = [];
    const client = new NetClient({ userName: user, password: PASSWORD, deviceId, transport, server: t.base, tcp: `127.0.0.1:${t.tcpPort}`, config: FAST, onEvent: (e) => events.push(e) });
    clients.push(client);
    client.start();
    return { client, events };
  }

  beforeAll(async () => {
    t = await startTestServer(tmp.db);
    for (const u of ['ann', 'ben']) expect((await registerAccount(t.base, u, PASSWORD)).ret).toBe(0);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.srv.close();
    tmp.cleanup();
  });

  /** The bytes of media `mediaId` as `reader` fetches them (webwxgetmedia, by its session's parameters). */
  async function fetchMedia(reader: NetClient, mediaId: string, sender: string): Promise<Buffer> {
    const s = reader.core.session()!;
    const q = `sender=${sender}&mediaid=${encodeURIComponent(mediaId)}&filename=x&fromuser=${s.uin}&uin=${s.uin}&sid=${encodeURIComponent(s.sid)}&skey=${encodeURIComponent(s.skey)}`;
    const r = await fetch(`${t.base}${WEB}webwxgetmedia?${q}`);
    expect(r.status).toBe(200);
    return Buffer.from(await r.arrayBuffer());
  }

  it.each(['tcp', 'http'] as const)('over %s: a picture in one piece and an attachment in three chunks arrive, and their bytes come back whole', async (transport) => {
    const ann = start('ann', `ann-${transport}`, transport);
    const ben = start('ben', `ben-${transport}`, 'http');
    await until(() => ann.client.core.state === 'ready' && ben.client.core.state === 'ready', 10_000, 'both ready');
    const picture = Buffer.from(crypto.randomBytes(3_000));
    const doc = Buffer.from(crypto.randomBytes(512 * 1024 * 2 + 1_000));
    const picFile = path.join(tmp.dir, `pic-${transport}.png`);
    const docFile = path.join(tmp.dir, `notes-${transport}.bin`);
    fs.writeFileSync(picFile, picture);
    fs.writeFileSync(docFile, doc);

    await ann.client.sendFile('ben', picFile);
    await ann.client.sendFile('ben', docFile);
    await until(() => ann.events.filter((e) => e.kind === 'sendAcked').length === 2, 10_000, 'both sends acknowledged');
    // Ben's inbox may also hold what the other transport's case sent: only ann's device of this case counts.
    const mine = () => ben.client.core.inbox().filter((m) => m.ClientMsgId.startsWith(`ann-${transport}-`));
    await until(() => mine().length === 2, 10_000, 'ben has both');
    const [pic, file] = mine();
    expect(pic!.MsgType).toBe(3);
    expect(file!.MsgType).toBe(49);
    expect(file!.Content).toContain(`<title>notes-${transport}.bin</title>`);
    expect(file!.Content).toContain(`<attachid>${file!.MediaId}</attachid>`);
    expect((await fetchMedia(ben.client, pic!.MediaId!, 'ann')).equals(picture)).toBe(true);
    expect((await fetchMedia(ben.client, file!.MediaId!, 'ann')).equals(doc)).toBe(true);
  });

  it('says why when the server refuses the file, and queues nothing', async () => {
    const ann = start('ann', 'ann-refused', 'http');
    await until(() => ann.client.core.state === 'ready', 10_000, 'ready');
    const empty = path.join(tmp.dir, 'empty.bin');
    fs.writeFileSync(empty, '');
    await expect(ann.client.sendFile('ben', empty)).rejects.toThrow(/refused: Ret \d+/);
    await expect(ann.client.sendFile('ben', path.join(tmp.dir, 'missing.bin'))).rejects.toThrow(/ENOENT/);
    expect(ann.client.core.outbox()).toEqual([]);
  });
});

// NATS JetStream as a peer: nats-server -js on a temporary store folder, one
// stream with file storage over the subjects lt.<account>, and per device a
// durable pull consumer filtered to its account's subject, with explicit
// acks. A send publishes to each target account's subject with a
// Nats-Msg-Id of (sender, ClientMsgId, account), so the stream drops a
// retry within its duplicate window; the publish's answer (PubAck) comes
// once the stream has stored it. JetStream's file store does not fsync each
// message (it syncs on an interval): what it calls stored is written to the
// file, not yet forced to the disk.
//
// A message meant for several accounts is several publishes; the first one's
// stream sequence is its id, and the other copies carry it in a header.
import { execFileSync } from 'node:child_process';
import { AckPolicy, DeliverPolicy, StorageType, connect, headers, nanos, type JetStreamClient, type NatsConnection } from 'nats';
import { startPeerProcess, type PeerProcess } from './peer-process.ts';
import type { PeerDelivery, PeerDeviceSpec, PeerMessage, PeerSystem } from './peer-system.ts';

const STREAM = 'LT';
/** How long the stream remembers a Nats-Msg-Id (ms): far past any run. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** Messages a consumer asks for at once. */
const PULL_BATCH = 512;
/** Unacknowledged messages a consumer may hold before the server waits. */
const MAX_ACK_PENDING = 20_000;
const ORIGIN_HEADER = 'Lt-Msg-Id';

const subject = (account: string): string => `lt.${account}`;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** `nats-server --version`'s version, e.g. "2.9.10". */
function natsVersion(bin: string): string {
  try {
    return /v(\d+\.\d+\.\d+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** Body: from, to, ClientMsgId, content, one per line (names and content have no newline). */
function body(m: PeerMessage): Uint8Array {
  return enc.encode(`${m.from}\n${m.to}\n${m.clientMsgId}\n${m.content}`);
}

function parse(data: Uint8Array): { from: string; to: string; clientMsgId: string; content: string } {
  const [from = '', to = '', clientMsgId = '', content = ''] = dec.decode(data).split('\n', 4);
  return { from, to, clientMsgId, content };
}

export async function startJetStream(bin: string, host: string, under: string, log: (line: string) => void): Promise<PeerSystem> {
  const proc: PeerProcess = await startPeerProcess({
    bin,
    name: 'nats',
    host,
    under,
    args: (port, dir) => ['-js', '-sd', dir, '-a', host, '-p', String(port)],
  });
  const version = natsVersion(bin);
  const conns: NatsConnection[] = [];
  const clients = new Map<number, JetStreamClient>();
  const stops: Array<() => void> = [];
  let closed = false;
  const open = async (): Promise<NatsConnection> => {
    const nc = await connect({ servers: `${host}:${proc.port}`, maxReconnectAttempts: 3 });
    conns.push(nc);
    return nc;
  };

  const consume = async (nc: NatsConnection, d: PeerDeviceSpec, onDelivery: (x: PeerDelivery) => void): Promise<void> => {
    const name = `dev${d.idx}`;
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(STREAM, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: subject(d.account),
      max_ack_pending: MAX_ACK_PENDING,
    });
    const consumer = await nc.jetstream().consumers.get(STREAM, name);
    const messages = await consumer.consume({
      max_messages: PULL_BATCH,
      callback: (m) => {
        const x = parse(m.data);
        const origin = m.headers?.get(ORIGIN_HEADER);
        onDelivery({ device: d.idx, msgId: origin ? Number(origin) : m.seq, ...x });
        m.ack();
      },
    });
    stops.push(() => messages.stop());
    void messages.closed().then((e) => {
      if (e && !closed) log(`  nats consumer of device ${d.idx}: ${e.message}`);
    });
  };

  return {
    kind: 'nats-jetstream',
    title: `NATS ${version} JetStream`,
    durability: 'file storage (no fsync per message); dedup by Nats-Msg-Id; pull consumers with explicit ack',
    open: async (devices, onDelivery) => {
      const admin = await open();
      const jsm = await admin.jetstreamManager();
      await jsm.streams.add({ name: STREAM, subjects: ['lt.>'], storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS) });
      for (const d of devices) {
        const nc = await open();
        clients.set(d.idx, nc.jetstream());
        // The consumer exists before any send and starts at new messages, so it sees every later one.
        await consume(nc, d, onDelivery);
      }
    },
    send: async (device, m) => {
      const js = clients.get(device);
      if (!js) throw new Error(`nats: no link for device ${device}`);
      const data = body(m);
      const msgID = (account: string): string => `${m.from}:${m.clientMsgId}:${account}`;
      const [first, ...rest] = m.targets;
      if (first === undefined) throw new Error('nats: a message with no target account');
      const id = (await js.publish(subject(first), data, { msgID: msgID(first) })).seq;
      if (rest.length > 0) {
        const h = headers();
        h.set(ORIGIN_HEADER, String(id));
        await Promise.all(rest.map((a) => js.publish(subject(a), data, { msgID: msgID(a), headers: h })));
      }
      return id;
    },
    sample: proc.sample,
    close: async () => {
      closed = true;
      for (const s of stops) s();
      await Promise.allSettled(conns.map((c) => c.close()));
      await proc.stop();
    },
    kill: () => {
      closed = true;
      for (const c of conns) void c.close().catch(() => {});
      proc.kill();
    },
  };
}

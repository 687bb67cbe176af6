// Redis Streams as a peer: redis-server on a temporary folder with the
// append-only file fsynced before every reply (appendonly yes, appendfsync
// always), one stream per account, one consumer group per device on its
// account's stream (each device reads every entry once: XREADGROUP, then
// XACK). A send is one Lua script, atomic: if the sender's (account,
// ClientMsgId) was seen it returns the id it got then; otherwise it takes the
// next message id, XADDs the message to every target account's stream and
// remembers the id. Its reply leaves after the AOF fsync, so an answered
// message is durable.
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { startPeerProcess, type PeerProcess } from './peer-process.ts';
import type { PeerDelivery, PeerDeviceSpec, PeerMessage, PeerSystem } from './peer-system.ts';

/** How long a dedup record is kept (s): far past any run. */
const DEDUP_TTL_SEC = 86_400;
/** Entries a consumer takes per read, and how long a read blocks (ms) before it checks for close. */
const READ_COUNT = 512;
const READ_BLOCK_MS = 500;

const APPEND = `
local id = redis.call('GET', KEYS[1])
if id then return tonumber(id) end
id = redis.call('INCR', KEYS[2])
for i = 3, #KEYS do
  redis.call('XADD', KEYS[i], '*', 'm', id, 'f', ARGV[1], 't', ARGV[2], 'k', ARGV[3], 'c', ARGV[4])
end
redis.call('SET', KEYS[1], id, 'EX', ARGV[5])
return id
`;

const streamKey = (account: string): string => `lt:s:${account}`;
const dedupKey = (from: string, clientMsgId: string): string => `lt:d:${from}:${clientMsgId}`;
const ID_KEY = 'lt:msgid';

/** `redis-server --version`'s version, e.g. "7.0.15". */
function redisVersion(bin: string): string {
  try {
    return /v=(\S+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[] | null]>]> | null;

function field(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  return '';
}

export async function startRedisStreams(bin: string, host: string, under: string, log: (line: string) => void): Promise<PeerSystem> {
  const proc: PeerProcess = await startPeerProcess({
    bin,
    name: 'redis',
    host,
    under,
    args: (port, dir) => [
      '--port', String(port),
      '--bind', host,
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', 'always',
      // No RDB snapshots: the AOF is the durability under test.
      '--save', '',
      '--daemonize', 'no',
      '--protected-mode', 'yes',
    ],
  });
  const version = redisVersion(bin);
  const links: Redis[] = [];
  const senders = new Map<number, Redis>();
  let sha = '';
  let closed = false;
  const readers: Promise<void>[] = [];
  const connect = (): Redis => {
    // RESP2: replies in the shapes of Redis's documentation (XREADGROUP: [[stream, [[id, fields]]]]).
    const r = new Redis({ host, port: proc.port, protocol: 2, maxRetriesPerRequest: 3, enableAutoPipelining: false });
    r.on('error', () => {}); // a refused command rejects its own promise; the event would only repeat it
    links.push(r);
    return r;
  };

  /** Creates the device's group at the end of its account's stream, then reads until closed. */
  const consume = async (d: PeerDeviceSpec, onDelivery: (x: PeerDelivery) => void): Promise<{ loop: Promise<void> }> => {
    const r = connect();
    const key = streamKey(d.account);
    const group = `dev${d.idx}`;
    await r.call('XGROUP', ['CREATE', key, group, '$', 'MKSTREAM']);
    const loop = (async (): Promise<void> => {
      while (!closed) {
        let reply: StreamReply;
        try {
          reply = (await r.call('XREADGROUP', ['GROUP', group, 'c', 'COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', key, '>'])) as StreamReply;
        } catch (e) {
          if (!closed) log(`  redis consumer of device ${d.idx}: ${(e as Error).message}`);
          return;
        }
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        for (const [, f] of entries) {
          // An entry whose fields were trimmed away (XDEL) reads as null: nothing to deliver, and the ledger would count it missing.
          if (!f) continue;
          onDelivery({ device: d.idx, msgId: Number(field(f, 'm')), from: field(f, 'f'), to: field(f, 't'), clientMsgId: field(f, 'k'), content: field(f, 'c') });
        }
        // Pipelined ahead of the next read on the same connection.
        r.call('XACK', [key, group, ...entries.map(([id]) => id)]).catch(() => {});
      }
    })().catch((e: unknown) => log(`  redis consumer of device ${d.idx} stopped: ${(e as Error).stack ?? String(e)}`));
    return { loop };
  };

  return {
    kind: 'redis-streams',
    title: `Redis ${version} Streams`,
    durability: 'AOF, appendfsync always; Lua dedup by (sender, ClientMsgId); XREADGROUP + XACK',
    open: async (devices, onDelivery) => {
      const admin = connect();
      sha = String(await admin.call('SCRIPT', ['LOAD', APPEND]));
      for (const d of devices) {
        senders.set(d.idx, connect());
        // The group exists before any send, so the consumer sees every later entry.
        readers.push((await consume(d, onDelivery)).loop);
      }
    },
    send: async (device, m: PeerMessage) => {
      const r = senders.get(device);
      if (!r) throw new Error(`redis: no link for device ${device}`);
      const keys = [dedupKey(m.from, m.clientMsgId), ID_KEY, ...m.targets.map(streamKey)];
      return Number(await r.call('EVALSHA', [sha, keys.length, ...keys, m.from, m.to, m.clientMsgId, m.content, DEDUP_TTL_SEC]));
    },
    sample: proc.sample,
    close: async () => {
      closed = true;
      await Promise.allSettled(readers);
      for (const r of links) r.disconnect();
      await proc.stop();
    },
    kill: () => {
      closed = true;
      for (const r of links) r.disconnect();
      proc.kill();
    },
  };
}

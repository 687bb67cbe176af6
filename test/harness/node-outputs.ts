// What a ServerNode driven by hand put out, sorted for a test to read: the
// hash jobs it asked for, its HTTP answers (parsed JSON), the packets it wrote
// on each link (decoded), and the links it closed.
import type { HashAction } from '../../server/node/hash-jobs.ts';
import type { ServerAction } from '../../server/node/server-node.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import type { Packet } from '../../server/wire/packet.ts';

export class NodeOutputs {
  readonly hashes: HashAction[] = [];
  readonly answers = new Map<number, any>();
  readonly packets = new Map<number, Packet[]>();
  readonly closed = new Set<number>();
  private readonly decoders = new Map<number, PacketDecoder>();

  /** The node's `out`. */
  readonly on = (a: ServerAction): void => {
    if (a.kind === 'hash') this.hashes.push(a);
    else if (a.kind === 'respond') this.answers.set(a.req, JSON.parse(a.answer.body));
    else if (a.kind === 'write') {
      const d = this.decoders.get(a.link) ?? new PacketDecoder({ maxBody: 1 << 20 });
      this.decoders.set(a.link, d);
      d.append(a.bytes);
      for (let s = d.next(); s.kind === 'packet'; s = d.next()) this.packets.set(a.link, [...(this.packets.get(a.link) ?? []), s.packet]);
    } else if (a.kind === 'close') this.closed.add(a.link);
  };
}

// A raw client for the hostile accounts: a script that speaks the protocol
// by hand over the simulated network, from a hostile account's device,
// without the real client core's manners (it pipelines where the core waits,
// ignores refusals and never backs off). It is an app instance of its own on
// that device, so the router and the network treat its traffic as any
// other: latency, loss, partitions and server crashes reach it too. A lost
// request or answer is simply forgotten: the script's own bounds (the
// scenario's counts) are what limit it.
import type { ClientCore } from '../client/core/client-core.ts';
import { PacketDecoder } from '../server/wire/packet-decoder.ts';
import { decodeJsonBody, encodeJsonPacket, encodePackets, Op, type Packet, type PacketInput } from '../server/wire/packet.ts';
import { AppInstance } from './app-instance.ts';
import type { Device } from './device.ts';
import type { World } from './world.ts';

/** A JSON answer's object, or undefined when there was none worth reading (not 200, not JSON, lost link). */
export type RawAnswer = Record<string, any> | undefined;

/** One raw long link: connecting, then open (the script authenticates and writes), then closed. */
interface RawLink {
  state: 'connecting' | 'open' | 'closed';
  decoder: PacketDecoder;
  onOpen: () => void;
  onPacket: (p: Packet) => void;
  onClose: () => void;
}

export class RawClient {
  readonly inst: AppInstance;
  private nextReq = 1;
  private nextLink = 1;
  private readonly calls = new Map<number, (o: RawAnswer) => void>();
  private readonly links = new Map<number, RawLink>();

  constructor(
    private readonly world: World,
    readonly device: Device,
  ) {
    // The router hands what arrives to an instance's core: this script is that core.
    const core = {
      httpResponse: (req: number, status: number, body: string) => this.answered(req, status === 200 ? parse(body) : undefined),
      httpFailed: (req: number) => this.answered(req, undefined),
      linkOpened: (link: number) => this.linkOpened(link),
      linkData: (link: number, bytes: Uint8Array) => this.linkData(link, bytes),
      linkClosed: (link: number) => this.linkClosed(link),
      nextWakeAt: () => undefined,
      tick: () => undefined,
    };
    this.inst = new AppInstance(world.registry.newInstanceId(), device.name, core as unknown as ClientCore, world.q);
    world.registry.addInstance(this.inst);
    world.note('hostile-script', device.name, `instance ${this.inst.id}`);
  }

  /** An HTTP POST; `then` hears the parsed answer, or undefined (lost answers are never heard). */
  post(path: string, body: unknown, then: (o: RawAnswer) => void): void {
    const req = this.nextReq++;
    this.calls.set(req, then);
    this.world.router.fromClient(this.inst, { kind: 'http', req, method: 'POST', url: path, body: JSON.stringify(body) });
  }

  /** Opens a long link: `onOpen` once it is up (write with `write`), every packet to `onPacket`, then `onClose`. */
  openLink(handlers: Pick<RawLink, 'onOpen' | 'onPacket' | 'onClose'>): number {
    const link = this.nextLink++;
    this.links.set(link, { state: 'connecting', decoder: new PacketDecoder(), ...handlers });
    this.world.router.fromClient(this.inst, { kind: 'linkOpen', link });
    return link;
  }

  /** Packets written at once, in one write. */
  write(link: number, packets: readonly PacketInput[]): void {
    if (this.links.get(link)?.state !== 'open') return;
    this.world.router.fromClient(this.inst, { kind: 'linkWrite', link, bytes: encodePackets(packets) });
  }

  writeJson(link: number, op: number, seq: number, body: unknown): void {
    if (this.links.get(link)?.state !== 'open') return;
    this.world.router.fromClient(this.inst, { kind: 'linkWrite', link, bytes: encodeJsonPacket(op, seq, body) });
  }

  close(link: number): void {
    const l = this.links.get(link);
    if (!l || l.state === 'closed') return;
    this.world.router.fromClient(this.inst, { kind: 'linkClose', link });
    this.linkClosed(link);
  }

  private answered(req: number, o: RawAnswer): void {
    const then = this.calls.get(req);
    // A duplicated request gets two answers: the script hears the first.
    if (!then) return;
    this.calls.delete(req);
    then(o);
  }

  private linkOpened(link: number): void {
    const l = this.links.get(link);
    if (!l || l.state !== 'connecting') return;
    l.state = 'open';
    l.onOpen();
  }

  private linkData(link: number, bytes: Uint8Array): void {
    const l = this.links.get(link);
    if (!l || l.state !== 'open') return;
    const { packets, error } = l.decoder.push(bytes);
    for (const p of packets) if (l.state === 'open') l.onPacket(p);
    if (error) this.close(link);
  }

  private linkClosed(link: number): void {
    const l = this.links.get(link);
    if (!l || l.state === 'closed') return;
    l.state = 'closed';
    this.links.delete(link);
    l.onClose();
  }
}

/** A packet's JSON body, or undefined. */
export function packetJson(p: Packet): RawAnswer {
  try {
    const o = decodeJsonBody(p);
    return typeof o === 'object' && o !== null ? (o as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

function parse(body: string): RawAnswer {
  try {
    const o: unknown = JSON.parse(body);
    return typeof o === 'object' && o !== null ? (o as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

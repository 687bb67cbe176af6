// Routing between the devices' app instances and the server host, through
// the simulated network: what a client core emits goes out as envelopes,
// what the server emits comes back as envelopes, and an arriving envelope is
// handed to its end. The router keeps the server's side of every exchange:
// which server request answers which client request, which server link is
// which client link. Tests of the client add faults per request here (see
// RouterFaults); none is set in a simulation run.
import type { ClientAction } from '../client/core/client-core.ts';
import type { HttpAnswer } from '../server/node/http-api.ts';
import type { ServerAction } from '../server/node/server-node.ts';
import type { AppInstance } from './app-instance.ts';
import type { ConnectEnvelope, Envelope, HttpRequestEnvelope } from './envelope.ts';
import type { EventQueue } from './event-queue.ts';
import type { SimNetwork } from './network.ts';
import type { Registry } from './registry.ts';
import type { NodePlacement } from './node-placement.ts';
import type { ServerHost } from './server-host.ts';

/** A server request from a device: the instance and its request number. */
interface PendingRequest {
  instance: AppInstance;
  req: number;
  /** The request as it arrived, for an answer hook. */
  sent: HttpRequestEnvelope;
  /** The server carries the request out; its answer is lost on the way back. */
  answerLost?: boolean;
  /** The node it reached. */
  host: ServerHost;
}

export type HttpRequestAction = Extract<ClientAction, { kind: 'http' }>;

/** What happens to one HTTP request when it reaches the server: served, refused at once, served with its answer lost, or served twice (both answers go back). */
export type HttpFate = 'pass' | 'fail' | 'dropResponse' | 'duplicate';

/**
 * Faults a test chooses request by request, on top of the network's drawn
 * ones. Each hook is consulted only when set, and draws nothing itself.
 */
export interface RouterFaults {
  /** Decides each request's fate as it reaches the server (default: pass). */
  httpFate?: (inst: AppInstance, a: HttpRequestAction) => HttpFate;
  /** May rewrite an answer before it travels back, or lose it (null). */
  httpAnswer?: (inst: AppInstance, a: HttpRequestAction, answer: HttpAnswer) => HttpAnswer | null;
  /** May rewrite (or drop: null) what the server writes on a link, before the network splits it. */
  serverWrite?: (inst: AppInstance, bytes: Uint8Array) => Uint8Array | null;
}

/** A setup call, answered at once (no network). */
type DirectAnswer = (status: number, body: string) => void;

interface ServerLinkEnd {
  instance: AppInstance;
  link: number;
  host: ServerHost;
}

export class Router {
  /** Every server request → where its answer goes. */
  private readonly requests = new Map<number, PendingRequest | DirectAnswer>();
  private readonly serverLinks = new Map<number, ServerLinkEnd>();
  /** Server request and link numbers share one counter. */
  private nextServerId = 1;
  /** Faults a test sets request by request; none in a simulation run. */
  faults: RouterFaults = {};
  /** With several nodes: the node of each server link, until both ends heard it close. */
  private readonly linkHosts = new Map<number, ServerHost>();

  constructor(
    private readonly q: EventQueue,
    private readonly net: SimNetwork,
    private readonly server: ServerHost,
    private readonly registry: Registry,
    /** Several nodes (sim/node-placement.ts): where each device goes; unset: everything goes to `server`. */
    private readonly placement?: NodePlacement,
  ) {}

  /** The node a device's new request or link reaches. */
  private hostFor(device: string): ServerHost {
    return this.placement ? this.placement.hostFor(device) : this.server;
  }

  /** The node a server link lives on. */
  private hostOfLink(sid: number): ServerHost {
    return this.placement ? (this.serverLinks.get(sid)?.host ?? this.linkHosts.get(sid) ?? this.server) : this.server;
  }

  /** After input to some nodes: each settles (the one server, once, when there is one). */
  private settleAll(): void {
    if (!this.placement) return this.server.settle();
    for (const h of this.placement.hosts) h.settle();
  }

  /** Call the server directly, bypassing the network (setup only). */
  direct(method: 'GET' | 'POST', path: string, body: unknown): any {
    const node = this.server.node!;
    const now = this.q.now;
    let answer: { status: number; body: string } | undefined;
    const id = this.nextServerId++;
    this.requests.set(id, (status, b) => (answer = { status, body: b }));
    // A setup call's password hash is answered at once, and it comes from an
    // address of its own: the per-address limits are not what setup is about.
    this.server.inline(() => node.httpRequest(id, method, path, JSON.stringify(body), `setup-${id}`, now));
    node.flush(now);
    if (!answer) throw new Error(`setup call ${path} got no answer`);
    return JSON.parse(answer.body);
  }

  /** What a client core emitted, sent on its way. */
  fromClient(inst: AppInstance, a: ClientAction): void {
    const device = inst.device;
    switch (a.kind) {
      case 'http':
        return this.net.datagram({ kind: 'http-req', device, instance: inst.id, req: a.req, method: a.method, url: a.url, body: a.body });
      case 'linkOpen':
        return this.net.connect({ kind: 'connect', device, instance: inst.id, link: a.link });
      case 'linkWrite': {
        const l = inst.links.get(a.link);
        if (!l) return;
        // Encoders hand out fresh buffers, never reused: no copy is needed.
        return this.net.write({ kind: 'link-up', device, stream: l.stream, serverLink: l.serverLink, bytes: a.bytes });
      }
      case 'linkClose': {
        const l = inst.links.get(a.link);
        if (!l) return;
        inst.links.delete(a.link);
        return this.net.finish({ kind: 'close-server', device, stream: l.stream, serverLink: l.serverLink });
      }
    }
  }

  /** What the server node emitted, sent on its way. */
  fromServer(a: ServerAction): void {
    switch (a.kind) {
      case 'respond': {
        const p = this.requests.get(a.req);
        this.requests.delete(a.req);
        if (!p) return;
        if (typeof p === 'function') return p(a.answer.status, a.answer.body);
        if (p.answerLost) return;
        const { instance } = p;
        const answer = this.faults.httpAnswer ? this.faults.httpAnswer(instance, requestAction(p.sent), a.answer) : a.answer;
        if (!answer) return;
        return this.net.datagram({ kind: 'http-resp', device: instance.device, instance: instance.id, req: p.req, status: answer.status, body: answer.body });
      }
      case 'write': {
        const end = this.serverLinks.get(a.link);
        if (!end) return;
        const l = end.instance.links.get(end.link);
        if (!l) return;
        const bytes = this.faults.serverWrite ? this.faults.serverWrite(end.instance, a.bytes) : a.bytes;
        if (!bytes) return;
        // Encoders hand out fresh buffers, never reused: no copy is needed.
        return this.net.write({ kind: 'link-down', device: end.instance.device, stream: l.stream, instance: end.instance.id, link: end.link, bytes });
      }
      case 'close': {
        const end = this.serverLinks.get(a.link);
        if (!end) return;
        this.serverLinks.delete(a.link);
        const l = end.instance.links.get(end.link);
        if (!l) return;
        end.instance.links.delete(end.link);
        return this.net.finish({ kind: 'close-client', device: end.instance.device, stream: l.stream, instance: end.instance.id, link: end.link });
      }
    }
  }

  /** An envelope got through: hand it to its end. */
  deliver(e: Envelope): void {
    const now = this.q.now;
    switch (e.kind) {
      case 'http-req': {
        const host = this.hostFor(e.device);
        const node = host.node;
        if (!node) {
          // Connection refused: the client hears it after a round trip.
          return this.q.post(now + this.net.latency(e.device), { kind: 'http-refused', device: e.device, instance: e.instance, req: e.req });
        }
        const instance = this.registry.instance(e.instance);
        const fateOf = this.faults.httpFate;
        const fate = this.registry.deviceByName(e.device).offline ? 'fail' : fateOf ? fateOf(instance, requestAction(e)) : 'pass';
        if (fate === 'fail') return this.q.post(now, { kind: 'http-refused', device: e.device, instance: e.instance, req: e.req });
        for (let copies = fate === 'duplicate' ? 2 : 1; copies > 0; copies--) {
          const id = this.nextServerId++;
          // A dead instance's request still reaches the server; the answer is dropped when it arrives.
          this.requests.set(id, { instance, req: e.req, sent: e, host, ...(fate === 'dropResponse' ? { answerLost: true } : {}) });
          node.httpRequest(id, e.method, e.url, e.body, deviceAddress(e.device), now);
        }
        return host.settle();
      }
      case 'http-resp': {
        // As AppInstance.input does, without a closure per arrival: with link-down, about half of a run's events.
        const inst = this.registry.instance(e.instance);
        if (!inst.alive) return;
        inst.core.httpResponse(e.req, e.status, e.body, now);
        return inst.settle();
      }
      case 'http-refused':
      case 'http-reset':
        return this.registry.instance(e.instance).input((c) => c.httpFailed(e.req, now));
      case 'connect':
        return this.connected(e);
      case 'link-up': {
        const host = this.serverLinks.get(e.serverLink)?.host;
        const node = host?.node;
        if (!node) return;
        node.linkData(e.serverLink, e.bytes, now);
        return host.settle();
      }
      case 'link-down': {
        const inst = this.registry.instance(e.instance);
        if (!inst.alive) return;
        inst.core.linkData(e.link, e.bytes, now);
        return inst.settle();
      }
      case 'close-server':
        return this.serverLinkClosed(e.serverLink);
      case 'close-client':
      case 'cut-client':
        return this.registry.instance(e.instance).input((c) => c.linkClosed(e.link, now));
      case 'cut-server': {
        if (e.onlyIfLinked) return this.serverLinkClosed(e.serverLink);
        const host = this.hostOfLink(e.serverLink);
        this.linkHosts.delete(e.serverLink);
        host.node?.linkClosed(e.serverLink);
        return host.settle();
      }
    }
  }

  /** A handshake arrived: both ends learn of the link, or the client hears it failed. */
  private connected(e: ConnectEnvelope): void {
    const inst = this.registry.instance(e.instance);
    if (!inst.alive) return;
    const host = this.hostFor(e.device);
    const node = host.node;
    const offline = this.registry.deviceByName(e.device).offline;
    const stream = node && !offline ? this.net.accept(e) : undefined;
    const now = this.q.now;
    if (!stream || !node) return inst.input((c) => c.linkClosed(e.link, now));
    const sid = this.nextServerId++;
    this.serverLinks.set(sid, { instance: inst, link: e.link, host });
    inst.links.set(e.link, { stream: stream.id, serverLink: sid });
    node.linkOpened(sid, this.registry.deviceByName(e.device).transport === 'ws' ? 'ws' : 'tcp', deviceAddress(e.device), now);
    host.settle();
    inst.input((c) => c.linkOpened(e.link, now));
  }

  private serverLinkClosed(sid: number): void {
    const host = this.hostOfLink(sid);
    this.linkHosts.delete(sid);
    if (!this.serverLinks.delete(sid)) return;
    host.node?.linkClosed(sid);
    host.settle();
  }

  /** A dead instance's links drop: the server hears it, unless it closed them itself meanwhile. */
  dropLinks(inst: AppInstance): void {
    for (const [clink, l] of inst.links) this.cutStream(inst, clink, l.stream, l.serverLink, true);
    inst.links.clear();
  }

  /** A link breaks: what is in flight is lost, and each end hears of it after a latency. */
  cutLink(inst: AppInstance, clink: number): void {
    const l = inst.links.get(clink);
    if (!l) return;
    inst.links.delete(clink);
    this.forgetLink(l.serverLink);
    this.cutStream(inst, clink, l.stream, l.serverLink, false);
  }

  /**
   * The instance's waiting requests break (its app died, its device went
   * offline): the server hears each connection go at once, and the client
   * hears its requests fail, when `tellClient`.
   */
  abortRequests(inst: AppInstance, tellClient: boolean): void {
    for (const [id, p] of this.requests) {
      if (typeof p === 'function' || p.instance !== inst) continue;
      this.requests.delete(id);
      p.host.node?.httpAborted(id);
      if (tellClient) this.q.post(this.q.now, { kind: 'http-reset', device: inst.device, instance: inst.id, req: p.req });
    }
    this.settleAll();
  }

  /** The server link leaves the live ones; with several nodes its node is kept until its close reaches the server. */
  private forgetLink(sid: number): void {
    const end = this.serverLinks.get(sid);
    if (!end) return;
    this.serverLinks.delete(sid);
    if (this.placement) this.linkHosts.set(sid, end.host);
  }

  /** The server (of several, node `host`) crashed: every connection to it breaks, long links are cut, waiting requests reset. */
  serverCrashed(host: ServerHost = this.server): void {
    for (const [sid, end] of this.serverLinks) {
      if (end.host !== host) continue;
      const l = end.instance.links.get(end.link);
      this.serverLinks.delete(sid);
      if (!l) continue;
      end.instance.links.delete(end.link);
      // The crashed server forgot the link already: onlyIfLinked makes its side a no-op.
      this.cutStream(end.instance, end.link, l.stream, sid, true);
    }
    for (const [id, p] of this.requests) {
      if (typeof p !== 'function' && p.host !== host) continue;
      this.requests.delete(id);
      if (typeof p === 'function') continue;
      const { instance } = p;
      this.q.post(this.q.now + this.net.latency(instance.device), { kind: 'http-reset', device: instance.device, instance: instance.id, req: p.req });
    }
  }

  private cutStream(inst: AppInstance, clink: number, stream: number, serverLink: number, onlyIfLinked: boolean): void {
    const device = inst.device;
    this.net.cut(stream, { kind: 'cut-client', device, instance: inst.id, link: clink }, { kind: 'cut-server', device, serverLink, onlyIfLinked });
  }
}

/** The client's request, as a fault hook sees it. */
function requestAction(e: HttpRequestEnvelope): HttpRequestAction {
  return { kind: 'http', req: e.req, method: e.method, url: e.url, body: e.body };
}

/** The address the server sees a device's requests and links come from: one per device. */
function deviceAddress(device: string): string {
  return `device-${device}`;
}

// The QR web logins under way (docs/protocol.md 5.11), by uuid: waiting for
// a phone, scanned by one account, confirmed by that same account with a
// one-time ticket; a used ticket, or a login past its time, is gone. They
// live in the node's memory only, in a bounded table: a crash loses them and
// the user scans a new code, which costs less than a durable write for every
// page load of the login screen. Uuids and tickets are 128 random bits from
// the node's random source, so they cannot be guessed.
import type { RandomSource } from '../core/deps.ts';
import type { NodeConfig } from './node-config.ts';
import { addressKey } from './remote-address.ts';
import type { QrMatrix } from '../web/qr-png.ts';

export type QrState = 'waiting' | 'scanned' | 'confirmed';

export interface QrLogin {
  readonly uuid: string;
  /** Who asked for it (an address key): the per-address bound counts by it. */
  readonly address: string;
  state: QrState;
  /** The account that scanned it (0 while waiting): only it may confirm. */
  uin: number;
  /** When it was scanned, in ms. */
  scannedAt: number;
  /** The one-time ticket, once confirmed. */
  ticket: string;
  /** Gone at this time: the uuid's lifetime, then (once confirmed) its ticket's. */
  expiresAt: number;
  /** A login poll was answered 201 for the scan. */
  scanTold: boolean;
  /** The QR code's modules, computed on the first GET /qrcode (a millisecond of CPU), kept for the next. */
  matrix: QrMatrix | undefined;
}

type QrLimits = Pick<NodeConfig, 'qrLoginTtlMs' | 'qrTicketTtlMs' | 'maxQrLogins' | 'maxQrLoginsPerAddress'>;

const TOKEN_BYTES = 16;

export class QrLogins {
  private readonly byUuid = new Map<string, QrLogin>();
  private readonly byTicket = new Map<string, QrLogin>();
  /** Each address's logins, oldest first. */
  private readonly byAddress = new Map<string, Set<QrLogin>>();
  private nextExpiry = Infinity;

  constructor(
    private readonly limits: QrLimits,
    private readonly random: RandomSource,
  ) {}

  get size(): number {
    return this.byUuid.size;
  }

  /**
   * A new login for `remote`: undefined when maxQrLogins are under way. An
   * address at maxQrLoginsPerAddress gives up its oldest (`evicted`).
   */
  create(remote: string, now: number): { login: QrLogin; evicted?: QrLogin } | undefined {
    const address = addressKey(remote);
    const mine = this.byAddress.get(address);
    let evicted: QrLogin | undefined;
    if (mine && mine.size >= this.limits.maxQrLoginsPerAddress) {
      evicted = mine.values().next().value!;
      this.remove(evicted);
    }
    if (this.byUuid.size >= this.limits.maxQrLogins) return undefined;
    const uuid = this.fresh(this.byUuid);
    const login: QrLogin = { uuid, address, state: 'waiting', uin: 0, scannedAt: 0, ticket: '', expiresAt: now + this.limits.qrLoginTtlMs, scanTold: false, matrix: undefined };
    this.byUuid.set(uuid, login);
    let set = this.byAddress.get(address);
    if (!set) this.byAddress.set(address, (set = new Set()));
    set.add(login);
    this.nextExpiry = Math.min(this.nextExpiry, login.expiresAt);
    return evicted ? { login, evicted } : { login };
  }

  /** The login of `uuid`, unless unknown, used or past its time. */
  get(uuid: string, now: number): QrLogin | undefined {
    const l = this.byUuid.get(uuid);
    return l && l.expiresAt > now ? l : undefined;
  }

  /** The phone of account `uin` scanned it; a refusal says why not. A repeated scan by the same account is fine. */
  scan(uuid: string, uin: number, now: number): QrLogin | string {
    const l = this.get(uuid, now);
    if (!l) return 'QR login unknown or expired: refresh the QR code';
    if (l.state === 'confirmed') return 'QR login already confirmed';
    if (l.state === 'scanned') return l.uin === uin ? l : 'QR login already scanned by another account';
    l.state = 'scanned';
    l.uin = uin;
    l.scannedAt = now;
    return l;
  }

  /** Account `uin`, which scanned it, confirms it: it gets its ticket. A uuid is confirmed once. */
  confirm(uuid: string, uin: number, now: number): QrLogin | string {
    const l = this.get(uuid, now);
    if (!l) return 'QR login unknown or expired: refresh the QR code';
    if (l.state === 'confirmed') return 'QR login already confirmed';
    if (l.state === 'waiting') return 'scan the QR code first (extdeviceloginconfirmget)';
    if (l.uin !== uin) return 'QR login already scanned by another account';
    l.state = 'confirmed';
    l.ticket = this.fresh(this.byTicket);
    l.expiresAt = now + this.limits.qrTicketTtlMs;
    this.byTicket.set(l.ticket, l);
    this.nextExpiry = Math.min(this.nextExpiry, l.expiresAt);
    return l;
  }

  /** The ticket of `uuid`, used: the login is gone whatever comes of it. */
  useTicket(ticket: string, uuid: string, now: number): QrLogin | string {
    const l = this.byTicket.get(ticket);
    if (!l || l.uuid !== uuid || l.expiresAt <= now) return 'login ticket unknown, used or expired: scan the QR code again';
    this.remove(l);
    return l;
  }

  /** Logins past their time, removed. */
  expire(now: number): QrLogin[] {
    if (now < this.nextExpiry) return [];
    const out: QrLogin[] = [];
    let next = Infinity;
    for (const l of this.byUuid.values()) {
      if (l.expiresAt <= now) out.push(l);
      else next = Math.min(next, l.expiresAt);
    }
    for (const l of out) this.remove(l);
    this.nextExpiry = next;
    return out;
  }

  nextWakeAt(): number {
    return this.nextExpiry;
  }

  private remove(l: QrLogin): void {
    this.byUuid.delete(l.uuid);
    if (l.ticket !== '') this.byTicket.delete(l.ticket);
    const set = this.byAddress.get(l.address);
    set?.delete(l);
    if (set && set.size === 0) this.byAddress.delete(l.address);
  }

  /** A token not yet a key of `taken` (128 random bits: a repeat is only a guard). */
  private fresh(taken: Map<string, QrLogin>): string {
    for (;;) {
      const t = Buffer.from(this.random.bytes(TOKEN_BYTES)).toString('base64url');
      if (!taken.has(t)) return t;
    }
  }
}

// Every event of a run, hashed as it happens; written as JSON lines with
// --trace; the last lines per host kept for violation reports.
//
// The hash is SHA-256 of the text lines `${n} ${t} ${kind} ${who}[ ${detail}]\n`
// (t in ms, see formatMs). What a seed means is that hash, so the bytes must
// stay exactly these. They are written straight into a buffer that goes to the
// hash when full, rather than built as a string per line: building, joining
// and converting the strings cost more than the hashing, and a line is only
// ever read as text when a run fails (recentFor) or is traced (--trace).
import { createHash, type Hash } from 'node:crypto';

export interface TraceLine {
  n: number;
  t: number;
  kind: string;
  who: string;
  detail?: string;
}

const RECENT_PER_HOST = 16;

/** Bytes of trace text that go to the hash in one update. */
const HASH_BUFFER_BYTES = 64 * 1024;
/** Room for a line's two numbers, its separators and its newline. */
const LINE_FRAME_BYTES = 64;
/** UTF-8 takes at most this many bytes per UTF-16 code unit. */
const MAX_BYTES_PER_CHAR = 3;

const SPACE = 0x20;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const POINT = 0x2e;
/** Whole numbers up to this are written with int32 arithmetic. */
const MAX_UINT31 = 0x7fffffff;

/** ".001" … ".999" with trailing zeros dropped, and "" for 0: the fraction of a time in whole microseconds. */
const FRACTION: readonly string[] = Array.from({ length: 1000 }, (_, us) => (us === 0 ? '' : `.${String(us).padStart(3, '0').replace(/0+$/, '')}`));

/** Whole microseconds of a time in ms, when they are a safe integer (else undefined). */
function wholeMicros(tExact: number): number | undefined {
  const us = Math.round(tExact * 1000);
  return us >= 0 && us <= Number.MAX_SAFE_INTEGER ? us : undefined;
}

/**
 * A time in ms at microsecond resolution (it reads better than a double's
 * full digits, and hashes the same every run), exactly as
 * String(Math.round(t * 1000) / 1000) writes it: that quotient is the double
 * nearest to a decimal of at most three places, whose shortest spelling is
 * that decimal. Built from two integers, since printing a fractional double
 * costs more than the rest of a trace line.
 */
export function formatMs(tExact: number): string {
  const us = wholeMicros(tExact);
  if (us === undefined) return String(Math.round(tExact * 1000) / 1000);
  const frac = us % 1000;
  return `${(us - frac) / 1000}${FRACTION[frac]!}`;
}

function lineText(n: number, tExact: number, kind: string, who: string, detail: string | undefined): string {
  const t = formatMs(tExact);
  return detail === undefined ? `${n} ${t} ${kind} ${who}` : `${n} ${t} ${kind} ${who} ${detail}`;
}

/** The last lines of one host, in a ring of their parts (text is made only when asked for). */
class RecentLines {
  private readonly n: number[] = [];
  private readonly t: number[] = [];
  private readonly kind: string[] = [];
  private readonly detail: Array<string | undefined> = [];
  private next = 0;

  constructor(readonly who: string) {}

  push(n: number, t: number, kind: string, detail: string | undefined): void {
    let i = this.next;
    if (this.n.length < RECENT_PER_HOST) i = this.n.length;
    else this.next = (this.next + 1) % RECENT_PER_HOST;
    this.n[i] = n;
    this.t[i] = t;
    this.kind[i] = kind;
    this.detail[i] = detail;
  }

  /** Oldest first. */
  list(): string[] {
    const out: string[] = [];
    const size = this.n.length;
    for (let k = 0; k < size; k++) {
      const i = (this.next + k) % size;
      out.push(lineText(this.n[i]!, this.t[i]!, this.kind[i]!, this.who, this.detail[i]));
    }
    return out;
  }
}

export class Trace {
  private readonly hash: Hash = createHash('sha256');
  /** Trace text not yet given to the hash: buf[0..at]. */
  private readonly buf = Buffer.allocUnsafe(HASH_BUFFER_BYTES);
  private at = 0;
  private readonly recent = new Map<string, RecentLines>();
  private lastRecent: RecentLines | undefined;
  private readonly lines: string[] | undefined;
  count = 0;

  constructor(keepLines: boolean) {
    this.lines = keepLines ? [] : undefined;
  }

  /** One event: numbered, timed (ms since the run began), and who it touched. */
  event(n: number, tExact: number, kind: string, who: string, detail?: string): void {
    this.count++;
    this.hashLine(n, tExact, kind, who, detail);
    // An event's notes name its host again: one look-up serves them all.
    let r = this.lastRecent;
    if (r === undefined || r.who !== who) {
      r = this.recent.get(who);
      if (!r) this.recent.set(who, (r = new RecentLines(who)));
      this.lastRecent = r;
    }
    r.push(n, tExact, kind, detail);
    if (this.lines) {
      const t = Math.round(tExact * 1000) / 1000;
      const line: TraceLine = detail === undefined ? { n, t, kind, who } : { n, t, kind, who, detail };
      this.lines.push(JSON.stringify(line));
    }
  }

  /** The last events that touched each of these hosts, oldest first. */
  recentFor(...who: string[]): string[] {
    const out: string[] = [];
    for (const w of who) out.push(...(this.recent.get(w)?.list() ?? []));
    return out.sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0]));
  }

  jsonLines(): string {
    return this.lines ? this.lines.join('\n') + '\n' : '';
  }

  digest(): string {
    this.flush();
    return this.hash.copy().digest('hex').slice(0, 16);
  }

  /** The line's UTF-8 bytes, then a newline, into the buffer (the same bytes as the text line). */
  private hashLine(n: number, tExact: number, kind: string, who: string, detail: string | undefined): void {
    const worst = LINE_FRAME_BYTES + MAX_BYTES_PER_CHAR * (kind.length + who.length + (detail === undefined ? 0 : detail.length));
    if (this.at + worst > HASH_BUFFER_BYTES) {
      this.flush();
      if (worst > HASH_BUFFER_BYTES) {
        this.hash.update(`${lineText(n, tExact, kind, who, detail)}\n`);
        return;
      }
    }
    const buf = this.buf;
    let at = writeUint(buf, this.at, n);
    buf[at++] = SPACE;
    const us = wholeMicros(tExact);
    if (us === undefined) at = writeText(buf, at, formatMs(tExact));
    else {
      const frac = us % 1000;
      at = writeUint(buf, at, (us - frac) / 1000);
      if (frac !== 0) at = writeFraction(buf, at, frac);
    }
    buf[at++] = SPACE;
    at = writeText(buf, at, kind);
    buf[at++] = SPACE;
    at = writeText(buf, at, who);
    if (detail !== undefined) {
      buf[at++] = SPACE;
      at = writeText(buf, at, detail);
    }
    buf[at++] = NEWLINE;
    this.at = at;
  }

  private flush(): void {
    if (this.at === 0) return;
    this.hash.update(this.buf.subarray(0, this.at));
    this.at = 0;
  }
}

/** A non-negative integer's decimal digits, as String(v) writes them. */
function writeUint(buf: Buffer, at: number, v: number): number {
  if (v < 10 && v >= 0 && v === Math.floor(v)) {
    buf[at] = DIGIT_0 + v;
    return at + 1;
  }
  if (!(v >= 0 && v <= MAX_UINT31 && v === Math.floor(v))) return writeText(buf, at, String(v));
  // Below 2^31 the digits come from int32 arithmetic, which the compiler keeps in registers.
  const end = at + digitsOf(v);
  let i = end;
  let x = v | 0;
  while (x >= 10) {
    const q = (x / 10) | 0;
    buf[--i] = DIGIT_0 + (x - q * 10);
    x = q;
  }
  buf[--i] = DIGIT_0 + x;
  return end;
}

/** How many decimal digits a whole number below 2^31 has. */
function digitsOf(v: number): number {
  if (v < 100) return v < 10 ? 1 : 2;
  if (v < 10_000) return v < 1000 ? 3 : 4;
  if (v < 1_000_000) return v < 100_000 ? 5 : 6;
  if (v < 100_000_000) return v < 10_000_000 ? 7 : 8;
  return v < 1_000_000_000 ? 9 : 10;
}

/** FRACTION[frac] for 1 <= frac <= 999: a point, then the three digits without their trailing zeros. */
function writeFraction(buf: Buffer, at: number, frac: number): number {
  const d1 = (frac / 100) | 0;
  const r = frac - d1 * 100;
  const d2 = (r / 10) | 0;
  const d3 = r - d2 * 10;
  buf[at++] = POINT;
  buf[at++] = DIGIT_0 + d1;
  if (d2 === 0 && d3 === 0) return at;
  buf[at++] = DIGIT_0 + d2;
  if (d3 === 0) return at;
  buf[at++] = DIGIT_0 + d3;
  return at;
}

/** A string as UTF-8: ASCII byte by byte; anything else by Buffer's own encoder (lone surrogates included). */
function writeText(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return at + buf.write(s, at, 'utf8');
    buf[at + i] = c;
  }
  return at + n;
}

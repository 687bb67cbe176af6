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

  constructor(private readonly who: string) {}

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
  private readonly lines: string[] | undefined;
  count = 0;

  constructor(keepLines: boolean) {
    this.lines = keepLines ? [] : undefined;
  }

  /** One event: numbered, timed (ms since the run began), and who it touched. */
  event(n: number, tExact: number, kind: string, who: string, detail?: string): void {
    this.count++;
    this.hashLine(n, tExact, kind, who, detail);
    let r = this.recent.get(who);
    if (!r) this.recent.set(who, (r = new RecentLines(who)));
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
    const worst = LINE_FRAME_BYTES + MAX_BYTES_PER_CHAR * (kind.length + who.length + (detail?.length ?? 0));
    if (this.at + worst > this.buf.length) {
      this.flush();
      if (worst > this.buf.length) {
        this.hash.update(`${lineText(n, tExact, kind, who, detail)}\n`);
        return;
      }
    }
    const buf = this.buf;
    let at = this.writeInt(n, this.at);
    buf[at++] = SPACE;
    const us = wholeMicros(tExact);
    if (us === undefined) at = this.writeText(formatMs(tExact), at);
    else {
      const frac = us % 1000;
      at = this.writeInt((us - frac) / 1000, at);
      at = this.writeText(FRACTION[frac]!, at);
    }
    buf[at++] = SPACE;
    at = this.writeText(kind, at);
    buf[at++] = SPACE;
    at = this.writeText(who, at);
    if (detail !== undefined) {
      buf[at++] = SPACE;
      at = this.writeText(detail, at);
    }
    buf[at++] = NEWLINE;
    this.at = at;
  }

  /** A non-negative integer's decimal digits, as String(v) writes them. */
  private writeInt(v: number, at: number): number {
    if (!Number.isSafeInteger(v) || v < 0) return this.writeText(String(v), at);
    let digits = 1;
    for (let x = v; x >= 10; x = (x - (x % 10)) / 10) digits++;
    const end = at + digits;
    for (let i = end - 1, x = v; i >= at; i--, x = (x - (x % 10)) / 10) this.buf[i] = DIGIT_0 + (x % 10);
    return end;
  }

  /** A string as UTF-8: ASCII byte by byte; anything else by Buffer's own encoder (lone surrogates included). */
  private writeText(s: string, at: number): number {
    const buf = this.buf;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return at + buf.write(s, at, 'utf8');
      buf[at + i] = c;
    }
    return at + s.length;
  }

  private flush(): void {
    if (this.at === 0) return;
    this.hash.update(this.buf.subarray(0, this.at));
    this.at = 0;
  }
}

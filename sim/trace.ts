// Every event of a run, hashed as it happens; written as JSON lines with
// --trace; the last lines per host kept for violation reports.
import { createHash, type Hash } from 'node:crypto';

export interface TraceLine {
  n: number;
  t: number;
  kind: string;
  who: string;
  detail?: string;
}

const RECENT_PER_HOST = 16;

export class Trace {
  private readonly hash: Hash = createHash('sha256');
  private readonly recent = new Map<string, string[]>();
  private readonly lines: string[] | undefined;
  count = 0;

  constructor(keepLines: boolean) {
    this.lines = keepLines ? [] : undefined;
  }

  /** One event: numbered, timed (ms since the run began), and who it touched. */
  event(n: number, tExact: number, kind: string, who: string, detail?: string): void {
    this.count++;
    // Microsecond resolution reads better than a double's full digits, and hashes the same every run.
    const t = Math.round(tExact * 1000) / 1000;
    const text = detail === undefined ? `${n} ${t} ${kind} ${who}` : `${n} ${t} ${kind} ${who} ${detail}`;
    this.hash.update(`${text}\n`);
    let r = this.recent.get(who);
    if (!r) this.recent.set(who, (r = []));
    r.push(text);
    if (r.length > RECENT_PER_HOST) r.shift();
    if (this.lines) {
      const line: TraceLine = detail === undefined ? { n, t, kind, who } : { n, t, kind, who, detail };
      this.lines.push(JSON.stringify(line));
    }
  }

  /** The last events that touched each of these hosts, oldest first. */
  recentFor(...who: string[]): string[] {
    const out: string[] = [];
    for (const w of who) out.push(...(this.recent.get(w) ?? []));
    return out.sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0]));
  }

  jsonLines(): string {
    return this.lines ? this.lines.join('\n') + '\n' : '';
  }

  digest(): string {
    return this.hash.copy().digest('hex').slice(0, 16);
  }
}

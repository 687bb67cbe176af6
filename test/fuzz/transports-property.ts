// The fuzz property over both transports, shared by the small run of
// `npm test` and the long one of `npm run fuzz`: an input is an HTTP request
// or a long-link stream; each outcome's kind is counted for the summary.
import fc from 'fast-check';
import type { FuzzTarget } from './fuzz-target.ts';
import { httpInput, runHttpInput, type HttpInput } from './http-fuzz.ts';
import { linkInput, runLinkInput, type LinkInput } from './link-fuzz.ts';

export type TransportInput = { http: HttpInput } | { link: LinkInput };

export const transportInput: fc.Arbitrary<TransportInput> = fc.oneof(
  httpInput.map((http) => ({ http })),
  linkInput.map((link) => ({ link })),
);

/** Outcome kinds ("HTTP 400 Ret 1102", "op 6 Ret 1102 WIRE_BAD_VERSION", "probe answered", ...) and how often each came. */
export class OutcomeTally {
  readonly counts = new Map<string, number>();
  inputs = 0;

  add(kind: string): void {
    this.inputs++;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** Most frequent first. */
  lines(): string[] {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(8)}  ${k}`);
  }
}

export function transportProperty(x: FuzzTarget, tally: OutcomeTally, onRun: () => void = () => {}): fc.IAsyncPropertyWithHooks<[TransportInput]> {
  return fc.asyncProperty(transportInput, async (inp) => {
    let kind: string;
    try {
      kind = 'http' in inp ? `http: ${await runHttpInput(x, inp.http)}` : `${inp.link.transport}: ${await runLinkInput(x, inp.link)}`;
    } catch (e) {
      // A crash explains whatever else went wrong with the input (no answer, a dropped link): it is the failure to report.
      x.throwIfCrashed();
      throw e;
    }
    tally.add(kind);
    onRun();
  });
}

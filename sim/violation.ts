// A broken guarantee, with what a person needs to act on it.
export type Guarantee =
  | 'synckey-monotonic'
  | 'no-loss'
  | 'exactly-once'
  | 'order'
  | 'integrity'
  | 'convergence'
  | 'isolation'
  | 'retention'
  | 'prompt-delivery'
  | 'liveness';

export class Violation extends Error {
  constructor(
    readonly guarantee: Guarantee,
    /** The device (or account) concerned, e.g. `u2.d1` or `u2`. */
    readonly who: string,
    readonly detail: string,
  ) {
    super(`${guarantee} violated at ${who}: ${detail}`);
  }
}

// Numbers behind the ids a fresh install of a device id must not repeat: the
// first LocalID (hence ClientMsgIds) and each ClientLoginId. A reinstall
// knows nothing of what the old install used, so the number comes from the
// time, plus a random spread for two installs in the same millisecond.

/** Numbers per millisecond of the time: the room the random spread takes. */
const SPREAD = 1000;

/** The random source; called as a method, as the options object the core was given. */
export interface RandomSource {
  /** Uniform in [0, 1); anything else counts as 0. */
  random: () => number;
}

/** `now` in whole milliseconds times SPREAD, plus a random share of SPREAD. */
export function freshIdNumber(now: number, source: RandomSource): number {
  const r = source.random();
  const share = r >= 0 && r < 1 ? r : 0;
  return Math.max(0, Math.floor(now)) * SPREAD + Math.floor(share * SPREAD);
}

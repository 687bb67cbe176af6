// Flag parsing shared by the simulator's command lines.

/** A flag that takes a whole number, with a plain message naming the flag when it does not. */
export function wholeNumber(name: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!/^[0-9]+$/.test(v) || Number(v) < min) throw new Error(`--${name} takes a whole number >= ${min}, got '${v}'`);
  return Number(v);
}

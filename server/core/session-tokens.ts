// Session credentials: a Sid is 128 random bits (base64url), a Skey 192 bits
// (hex). webwxinit and webwxsync issue a new Skey once the old one is
// skeyRotateMs old; the one before it is still accepted.
import type { Write } from '../store/store-ops.ts';
import type { Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import type { RandomSource } from './deps.ts';
import type { Session } from './model.ts';

const SID_BYTES = 16;
const SKEY_BYTES = 24;

export function newSid(random: RandomSource): string {
  return Buffer.from(random.bytes(SID_BYTES)).toString('base64url');
}

export function newSkey(random: RandomSource): string {
  return Buffer.from(random.bytes(SKEY_BYTES)).toString('hex').toUpperCase();
}

/** The Skey to answer: a new one (written to the session) for HTTP callers once the current one is due. */
export function rotateSkey(ctx: CoreContext, session: Session, now: number, writes: Write[], caller: Caller): string {
  if (caller.kind !== 'http' || now - session.skeyAt < ctx.config.skeyRotateMs) return session.skey;
  const skey = newSkey(ctx.random);
  writes.push({ kind: 'putSession', session: { ...session, skey, prevSkey: session.skey, skeyAt: now } });
  return skey;
}

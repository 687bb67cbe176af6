// What a command returns: the writes to commit, the reply to send once they
// are committed, and the effects (accounts whose logs grew, sessions that
// ended) that the node applies after the commit.
import type { Step, Write } from '../store/store-ops.ts';
import { errorReply, type ErrorReply, type RetCode } from './ret.ts';
import { InputError } from './validate.ts';

export type CoreEffect =
  /** The logs of `uin` grew: notify its long links, complete its synccheck polls. */
  | { kind: 'appended'; uin: number; selector: number; seq: number }
  /** A session ended (replaced, logged out): close its long links with `ret`. */
  | { kind: 'sessionEnded'; sid: string; uin: number; ret: RetCode };

export interface Plan<R = unknown> {
  writes: Write[];
  reply: R;
  effects: CoreEffect[];
}

export function plan<R>(writes: Write[], reply: R): Plan<R> {
  return { writes, reply, effects: [] };
}

export function fail(ret: RetCode, msg: string): Plan<ErrorReply> {
  return refuse(errorReply(ret, msg));
}

/** A refusal already answered (by authentication): nothing is written. */
export function refuse(reply: ErrorReply): Plan<ErrorReply> {
  return { writes: [], effects: [], reply };
}

/** Bad input becomes its Ret code with nothing written. */
export function* guard<R>(step: Step<Plan<R>>): Step<Plan<R | ErrorReply>> {
  try {
    return yield* step;
  } catch (e) {
    if (e instanceof InputError) return fail(e.ret, e.message);
    throw e;
  }
}

// Which commands fast-check draws, and how often: the order of COMMANDS is
// part of the seeded runs, so a change here changes every replayed case.
import fc from 'fast-check';
import { Login, Register } from './commands/accounts.ts';
import { Batch, Flush, Restart } from './commands/batch-and-crash.ts';
import { CreateRoom } from './commands/create-room.ts';
import { Send } from './commands/send.ts';
import { Sync } from './commands/sync.ts';
import { NAMES, SLOTS } from './reference-model.ts';

const name = fc.constantFrom(...NAMES);
const slot = fc.nat({ max: SLOTS - 1 });
const who = fc.nat({ max: 11 });
const send = fc
  .tuple(who, fc.oneof(name.map((user) => ({ user })), fc.nat({ max: 3 }).map((room) => ({ room }))), fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 20 }) }))
  .map(([w, to, retry]) => new Send(w, to, retry));
const sync = fc
  .tuple(
    who,
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({ current: true as const }) },
      { weight: 1, arbitrary: fc.nat({ max: 5 }).map((older) => ({ older })) },
      { weight: 1, arbitrary: fc.nat({ max: 3 }).map((staleSession) => ({ staleSession })) },
    ),
  )
  .map(([w, present]) => new Sync(w, present));
// Sends and syncs are listed more than once: fc.commands picks each entry alike.
export const COMMANDS = [
  send,
  send,
  send,
  sync,
  sync,
  name.map((n) => new Register(n)),
  fc.tuple(name, slot, fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 3 }) })).map(([n, s, r]) => new Login(n, s, r)),
  fc.tuple(who, fc.subarray([...NAMES])).map(([w, members]) => new CreateRoom(w, members)),
  fc.boolean().map((on) => new Batch(on)),
  fc.constant(new Flush()),
  fc.constant(new Restart()),
];

export const commands = fc.commands(COMMANDS, { maxCommands: 80, size: 'max' });

// Every attack of the abuse profile by name, and the reference run (the
// honest load alone) that the summary reads the attacks against.
import type { AttackName } from '../../../profiles.ts';
import type { Attack } from './attack.ts';
import { chunkedBody } from './chunked-body.ts';
import { flood } from './flood.ts';
import { groupSpam } from './group-spam.ts';
import { idleConnections } from './idle-connections.ts';
import { guessInARow, loginGuessing } from './login-guessing.ts';
import { pipelinedSync } from './pipelined-sync.ts';
import { slowPacket } from './slow-packet.ts';

export const REFERENCE: Attack = {
  name: 'reference',
  title: 'no attack (reference)',
  what: () => 'nothing: the honest load alone, for the figures every attack is read against',
  plan: (env) => ({ prepare: async () => {}, run: () => env.pause(Infinity) }),
};

export const ATTACKS: Readonly<Record<AttackName, Attack>> = {
  flood,
  'chunked-body': chunkedBody,
  'slow-packet': slowPacket,
  'idle-connections': idleConnections,
  'pipelined-sync': pipelinedSync,
  'login-guessing': loginGuessing,
  'guess-in-a-row': guessInARow,
  'group-spam': groupSpam,
};

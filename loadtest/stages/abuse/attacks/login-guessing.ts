// (f) Password guessing. `login-guessing`: many guessers at once, each
// trying wrong passwords at one victim account in a loop, over HTTP
// (manualauth) and over the long link (op 7 on a fresh link per guess),
// against a server with its default password-hash cost: every guess costs
// it one hash. `guess-in-a-row`: wrong passwords one after the other at one
// account, then the owner logs in with the right one: is the owner locked
// out, is the guesser slowed down?
import http from 'node:http';
import { Op } from '../../../../server/wire/packet.ts';
import { httpCall, login, registerAll, type AttackEnv } from '../attack-kit.ts';
import { AttackLink } from '../attack-link.ts';
import { workers, type Attack } from './attack.ts';

/** The attacker's guesses: never the password. */
const guess = (n: number): string => `guess-${n}`;

function manualAuth(env: AttackEnv, agent: http.Agent, userName: string, password: string): Promise<void> {
  return httpCall(env, agent, 'POST', '/cgi-bin/micromsg-bin/manualauth', JSON.stringify({ UserName: userName, Password: password, DeviceID: 'guesser' })).then((a) => env.tally.http(a));
}

/** One guess over the long link: op 7 on a fresh link, its reply and how the link ended. */
async function linkGuess(env: AttackEnv, userName: string, password: string): Promise<void> {
  let l: AttackLink;
  try {
    l = await AttackLink.connect(env, 'tcp');
  } catch {
    env.tally.refuse('TCP connect failed');
    return;
  }
  const ret = await l.auth(userName, password, 'guesser');
  env.tally.reply(Op.AuthReply, ret);
  if (ret !== 0) {
    await Promise.race([l.closed, env.pause(1000)]);
    if (l.isClosed) l.tallyEnd(env.tally);
  }
  l.destroy();
}

export const loginGuessing: Attack = {
  name: 'login-guessing',
  title: 'concurrent password guessing',
  what: (s) =>
    `${s.loginGuessing.guessers} guessers at once try wrong passwords at one account in a loop (${Math.round(s.loginGuessing.linkShare * 100)}% over the long link, a fresh link per guess, the rest over HTTP), ` +
    `against a server hashing with scrypt N=${s.loginGuessing.scryptN} (its default); at most ${s.loginGuessing.maxGuesses.toLocaleString('en-US')} guesses`,
  scryptN: (s) => s.loginGuessing.scryptN,
  plan: (env, s) => {
    const c = s.loginGuessing;
    const victim = `${env.prefix}v`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: c.guessers });
    let n = 0;
    const viaLink = Math.round(c.guessers * c.linkShare);
    return {
      prepare: () => registerAll(env, [victim], 1),
      run: async () => {
        try {
          await workers(c.guessers, async (i) => {
            while (env.open && n < c.maxGuesses) {
              env.count('guesses');
              if (i < viaLink) await linkGuess(env, victim, guess(n++));
              else await manualAuth(env, agent, victim, guess(n++));
            }
          });
        } finally {
          agent.destroy();
        }
      },
    };
  },
};

export const guessInARow: Attack = {
  name: 'guess-in-a-row',
  title: 'wrong passwords in a row at one account',
  what: (s) => `${s.guessInARow.guesses.toLocaleString('en-US')} wrong passwords one after the other at one account over HTTP, then its owner logs in with the right one (the profile's cheap hash)`,
  plan: (env, s) => {
    const victim = `${env.prefix}v`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    return {
      prepare: () => registerAll(env, [victim], 1),
      run: async () => {
        try {
          for (let i = 0; i < s.guessInARow.guesses && env.open; i++) {
            env.count('guesses');
            await manualAuth(env, agent, victim, guess(i));
          }
          const t0 = performance.now();
          // The owner logs in from the honest clients' address, not the guesser's: the
          // question is whether guesses from elsewhere lock the owner out.
          const ownerAgent = new http.Agent({ keepAlive: false });
          const owner = await login(env.honestSide(), ownerAgent, victim, 'owner-phone');
          ownerAgent.destroy();
          env.count('owner logged in after the guesses (1 = yes)', owner ? 1 : 0);
          env.note(`after ${env.figures.get('guesses') ?? 0} wrong guesses the owner's own login ${owner ? 'succeeded' : 'was refused'} in ${Math.round(performance.now() - t0)} ms`);
        } finally {
          agent.destroy();
        }
      },
    };
  },
};

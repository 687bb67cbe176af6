// `npm run client -- --user NAME --password P ...`: a terminal client on the
// reference ClientCore and the real-network adapter. It prints incoming
// messages, reads commands from stdin, shows what became of each send, and
// keeps its state (session, SyncKey, inbox, outbox) in a JSON file so a
// restart carries on where it stopped.
import fs from 'node:fs';
import readline from 'node:readline';
import { Ret } from '../../server/core/ret.ts';
import type { PersistedState } from '../core/client-state.ts';
import { HELP, parseCli, type CliOptions } from './cli-options.ts';
import { registerAccount } from './register-account.ts';
import { Terminal } from './terminal.ts';

/** How often a client still connecting says so. */
const CONNECTING_HINT_MS = 5000;

function loadState(file: string): PersistedState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as PersistedState;
}

async function main(): Promise<void> {
  let o: CliOptions | 'help';
  try {
    o = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (o === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (o.register) {
    try {
      const r = await registerAccount(o.server, o.user, o.password);
      if (r.ret === Ret.Ok) process.stdout.write(`registered ${o.user} (uin ${r.uin})\n`);
      else if (r.ret === Ret.UserNameTaken) process.stdout.write(`${o.user} is already registered; logging in\n`);
      else throw new Error(`Ret ${r.ret}: ${r.errMsg}`);
    } catch (e) {
      process.stderr.write(`error: cannot register at ${o.server}: ${(e as Error).message} (is the server running? npm start)\n`);
      process.exit(1);
    }
  }
  let persisted: PersistedState | undefined;
  try {
    persisted = loadState(o.state);
  } catch (e) {
    process.stderr.write(`error: cannot read ${o.state}: ${(e as Error).message} (move it away to start afresh)\n`);
    process.exit(1);
  }
  let t: Terminal;
  try {
    t = new Terminal(o, persisted);
  } catch (e) {
    process.stderr.write(`error: ${o.state} does not fit: ${(e as Error).message} (pass another --state, or move it away)\n`);
    process.exit(1);
  }
  const inbox = t.client.core.inbox().length;
  const where = o.transport === 'tcp' ? o.tcp : o.server;
  t.say(`connecting to ${where} over ${o.transport} as ${o.user}${inbox ? ` (${inbox} messages kept in ${o.state})` : ''}…`);
  t.client.start();
  // A server that is down or unreachable: the client keeps retrying; say so, with what to check.
  const hint = setInterval(() => {
    if (t.client.core.state === 'ready' || t.client.core.state === 'stopped') return clearInterval(hint);
    const s = t.client.stats;
    t.say(
      `* still connecting to ${where} (${o.transport === 'http' ? `${s.httpFailures} failed requests` : `${s.linkConnects} connection attempts`}); ` +
        `is the server running (npm start) and are --server/--tcp right? Retrying; /quit to stop`,
    );
  }, CONNECTING_HINT_MS);
  hint.unref();
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => t.command(line));
  rl.on('close', () => t.finish());
  process.on('SIGINT', () => t.quit(0));
  process.on('SIGTERM', () => t.quit(0));
}

void main();

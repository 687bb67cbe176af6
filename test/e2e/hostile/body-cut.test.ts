// A body of one-byte chunks, written at once: node:http parses a whole socket
// read in one go, and the server has the parser skip the rest of the body in
// C++ once it counts as fragmented (server/transport/body-piece-guard.ts).
// The parser is pooled and shared by a keep-alive connection's requests: the
// cases check that nothing of the cut outlives it, for a later connection or
// for a request pipelined behind the cut body.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { MICRO, WEB } from '../raw-client/http.ts';
import { until } from '../raw-client/wait.ts';
import { PASSWORD, useHostileServer } from './hostile-server.ts';

/** Writes `raw` on a new connection and gives back all it is answered, once the server closes it. */
async function exchange(port: number, raw: string): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  let answer = '';
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
  s.on('data', (c) => (answer += c));
  s.on('error', () => {});
  s.write(raw);
  await closed;
  return answer;
}

/** `text` as a chunked body of `pieceBytes`-byte chunks. */
function chunked(text: string, pieceBytes: number): string {
  let out = '';
  for (let i = 0; i < text.length; i += pieceBytes) {
    const piece = text.slice(i, i + pieceBytes);
    out += `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

const TRICKLE = `POST ${WEB}webwxsync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${'1\r\n \r\n'.repeat(20_000)}`;

describe('a fragmented body cut in the parser', () => {
  const env = useHostileServer('e2e-hostile-body-cut');

  it('skips the rest of the body without calling JavaScript: 20,000 one-byte chunks in one write, a few dozen reach it', async () => {
    const http = () => env.t.srv.stats().http;
    const { fragmented, bodiesCut, guardedBodyPieces } = http();
    const answer = await exchange(env.t.srv.httpPort, TRICKLE);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(http().fragmented).toBe(fragmented + 1);
    expect(http().bodiesCut).toBe(bodiesCut + 1);
    // The first socket read alone holds thousands of chunks; past the cut the parser passes none on.
    expect(http().guardedBodyPieces - guardedBodyPieces).toBeGreaterThan(0);
    expect(http().guardedBodyPieces - guardedBodyPieces).toBeLessThan(1_000);
    expect(http().bufferedBytes).toBe(0);
  });

  it('gives the pooled parser its body callback back: later connections with chunked bodies are read whole', async () => {
    const open = env.t.srv.stats().http.openConnections;
    for (let i = 0; i < 3; i++) await exchange(env.t.srv.httpPort, TRICKLE);
    // The server's side has closed too: the cut parsers are back in the pool.
    await until(() => env.t.srv.stats().http.openConnections <= open, 5_000);
    // Sized chunks (not fragmented) on fresh connections, which take parsers from the pool the cut ones went back to.
    for (let i = 0; i < 6; i++) {
      const body = JSON.stringify({ UserName: 'alice', Password: PASSWORD, DeviceID: `cut-after-${i}` });
      const answer = await exchange(
        env.t.srv.httpPort,
        `POST ${MICRO}manualauth HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(body, 16)}`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(json.BaseResponse.Ret).toBe(0);
    }
  });

  it('serves no request pipelined behind a cut body: its body may have been skipped with the rest', async () => {
    const before = env.t.srv.stats().node.commands;
    const body = JSON.stringify({ UserName: 'alice', Password: PASSWORD, DeviceID: 'pipelined-behind-cut' });
    const answer = await exchange(
      env.t.srv.httpPort,
      `${TRICKLE}0\r\n\r\nPOST ${MICRO}manualauth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(body, 16)}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(env.t.srv.stats().node.commands).toBe(before);
  });
});

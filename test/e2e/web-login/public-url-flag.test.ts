// `npm start -- --public-url URL`: the URL the QR code holds, and a clear
// usage error (exit 2) for one that is no http(s) base.
import { spawn } from 'node:child_process';
import path from 'node:path';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { decodePng, sampleModules } from './png.ts';
import { jslogin, web } from './web-client.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = path.join(ROOT, 'server/main.ts');

function run(args: string[]): { out: () => string; err: () => string; kill: () => void; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--http-port', '0', '--tcp-port', '0', '--db', ':memory:', '--scrypt-n', '2', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out: () => out, err: () => err, kill: () => child.kill('SIGTERM'), exit };
}

describe('--public-url', () => {
  it('refuses a URL that is not http(s)://host[:port][/path] with exit 2', async () => {
    const p = run(['--public-url', 'ftp://example.test']);
    expect(await p.exit).toBe(2);
    expect(p.err()).toMatch(/^error: --public-url must be http\(s\):\/\/host\[:port\]\[\/path\]/);
  });

  it('is what the QR code holds (a trailing slash dropped)', async () => {
    const p = run(['--public-url', 'https://wx.example.test/']);
    try {
      const t0 = Date.now();
      let base: string | undefined;
      while (!(base = /^ready http=(\S+) /.exec(p.out())?.[1])) {
        if (Date.now() - t0 > 15_000) throw new Error(`no ready line: ${p.out()} ${p.err()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const uuid = await jslogin(base);
      const qr = await web(`${base}/qrcode/${uuid}`);
      const expected = QRCode.create(`https://wx.example.test/l/${uuid}`, { errorCorrectionLevel: 'M' }).modules;
      expect(sampleModules(decodePng(qr.bytes), expected.size)).toEqual(Uint8Array.from(expected.data));
    } finally {
      p.kill();
      expect(await p.exit).toBe(0);
    }
  });
});

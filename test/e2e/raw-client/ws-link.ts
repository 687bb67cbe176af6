// The long link over WebSocket: the same packets, one or more per binary
// message. Part of the protocol-only client: see packets.ts.
import WebSocket from 'ws';
import { LinkClient } from './link-client.ts';
import { FrameReader } from './packets.ts';

export class WsLink extends LinkClient {
  readonly ws: WebSocket;
  closeCode = 0;
  closeReason = '';
  private readonly reader = new FrameReader();

  private constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) throw new Error('server sent a text message');
      this.onFrames(this.reader.push(Buffer.from(data)));
    });
    ws.on('error', () => {});
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString('utf8');
      this.onClose(`ws close ${code} ${this.closeReason}`);
    });
  }

  static connect(url: string): Promise<WsLink> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        resolve(new WsLink(ws));
      });
    });
  }

  writeRaw(bytes: Buffer): void {
    this.ws.send(bytes, { binary: true });
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

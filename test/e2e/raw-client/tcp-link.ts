// The long link over TCP. Part of the protocol-only client: see packets.ts.
import net from 'node:net';
import { LinkClient } from './link-client.ts';
import { FrameReader } from './packets.ts';

export class TcpLink extends LinkClient {
  readonly socket: net.Socket;
  private readonly reader = new FrameReader();

  private constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.onFrames(this.reader.push(c)));
    socket.on('error', () => {});
    socket.on('close', () => this.onClose('tcp close'));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TcpLink> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new TcpLink(s));
      });
    });
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

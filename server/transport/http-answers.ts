// How the HTTP transport writes its answers: the node's answers through
// node:http, and the transport's own refusals written raw to the socket
// (a connection refused before node:http read a request from it, an upgrade
// refused, the over-cap 503), each closing the connection after it.
import http from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Ret } from '../core/ret.ts';
import { errorAnswer, type HttpAnswer } from '../node/http-api.ts';
import { faultDisconnect } from '../node/link-fault.ts';
import type { ShedCode } from './connection-limiter.ts';

export function write(res: ServerResponse, a: HttpAnswer, closeAfter = false): void {
  if (res.headersSent || res.destroyed) return;
  const body = a.bytes ?? a.body;
  const headers: Record<string, string | number | string[]> = {
    ...a.headers,
    'Content-Type': a.contentType,
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
  };
  if (a.setCookies && a.setCookies.length > 0) headers['Set-Cookie'] = a.setCookies;
  if (closeAfter) headers['Connection'] = 'close';
  res.writeHead(a.status, headers);
  res.end(body);
}

export function shuttingDown(): HttpAnswer {
  return errorAnswer(503, Ret.Busy, 'server is shutting down; retry');
}

// Written raw: the connection is refused before node:http reads a request from it.
/** An answer written straight to the socket, past node:http, with the connection closing after it. */
export function rawAnswer(a: HttpAnswer): string {
  return (
    `HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status] ?? ''}\r\nConnection: close\r\n` +
    `Content-Type: ${a.contentType}\r\nContent-Length: ${Buffer.byteLength(a.body)}\r\n\r\n${a.body}`
  );
}

export function overCapAnswer(code: ShedCode, retryAfterSec: number): string {
  const body = JSON.stringify({ BaseResponse: faultDisconnect(code) });
  return (
    `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: ${retryAfterSec}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}


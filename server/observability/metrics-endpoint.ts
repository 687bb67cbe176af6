// GET /metrics (docs/protocol.md section 5.12). Who may read it: with a
// metrics token, whoever sends it as a bearer token; without one, only peers
// on the loopback interface (a scraper on the same host, or an SSH tunnel).
// The metrics hold no secret and no per-user value, but they do tell an
// attacker how close the server is to its caps, so they are not public by
// default.
import { createHash, timingSafeEqual } from 'node:crypto';
import { errorAnswer, type HttpAnswer } from '../node/http-api.ts';
import { Ret } from '../core/ret.ts';
import type { ServerMetrics } from './server-metrics.ts';

export const METRICS_PATH = '/metrics';

/** What the endpoint needs of a request: no body is read. */
export interface MetricsRequest {
  method: string | undefined;
  authorization: string | undefined;
  remoteAddress: string | undefined;
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return a === '::1' || a.startsWith('127.');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class MetricsEndpoint {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly metrics: ServerMetrics,
    /** The bearer token a scraper must send; without one, only loopback peers are answered. */
    token: string | undefined,
  ) {
    this.tokenDigest = token === undefined ? undefined : digest(token);
  }

  async answer(req: MetricsRequest): Promise<HttpAnswer> {
    if (req.method !== 'GET') return errorAnswer(405, Ret.BadRequest, `${METRICS_PATH} takes GET`, { Allow: 'GET' });
    const refused = this.refusal(req);
    if (refused) return refused;
    const { contentType, text } = await this.metrics.scrape();
    return { status: 200, contentType, body: text };
  }

  private refusal(req: MetricsRequest): HttpAnswer | undefined {
    if (this.tokenDigest === undefined) {
      if (isLoopback(req.remoteAddress)) return undefined;
      return errorAnswer(403, Ret.BadRequest, `${METRICS_PATH} is served to loopback peers only; start the server with --metrics-token to scrape it from elsewhere`);
    }
    const m = /^Bearer (.+)$/.exec(req.authorization ?? '');
    // Compared as digests: equal lengths, and no early exit that times the token.
    if (m && timingSafeEqual(digest(m[1]!), this.tokenDigest)) return undefined;
    return errorAnswer(401, Ret.BadRequest, `${METRICS_PATH} needs "Authorization: Bearer <metrics token>"`, { 'WWW-Authenticate': 'Bearer' });
  }
}

import { describe, expect, it } from 'vitest';
import { DEFAULT_CLIENT_CONFIG, clientConfig } from '../../client/core/client-config.ts';

describe('clientConfig', () => {
  it('defaults: the HTTP timeout outlasts the 25 s synccheck hold', () => {
    expect(clientConfig()).toEqual(DEFAULT_CLIENT_CONFIG);
    expect(DEFAULT_CLIENT_CONFIG.httpTimeoutMs).toBe(35_000);
    expect(clientConfig({ maxSendAttempts: 3 }).maxSendAttempts).toBe(3);
  });

  it('rejects nonsense with the name of the field', () => {
    expect(() => clientConfig({ retryBaseMs: 0 })).toThrow('client config retryBaseMs must be a positive number, got 0');
    expect(() => clientConfig({ httpTimeoutMs: Number.NaN })).toThrow(/httpTimeoutMs/);
    expect(() => clientConfig({ maxSendAttempts: 2.5 })).toThrow('client config maxSendAttempts must be an integer, got 2.5');
    expect(() => clientConfig({ retryBaseMs: 10, retryMaxMs: 5 })).toThrow(/retryMaxMs \(5\) must be at least retryBaseMs \(10\)/);
    expect(() => clientConfig({ reconnectBaseMs: 10, reconnectMaxMs: 5 })).toThrow(/reconnectMaxMs/);
  });
});

// Registration and login through the micromsg endpoints under bad input, on a
// server of their own with the default limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { MICRO, httpCall, register } from '../raw-client/http.ts';
import { PASSWORD } from './hostile-server.ts';

describe('account endpoints under bad input', () => {
  const tmp = tempDb('e2e-accounts');
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(tmp.db);
  });
  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  it('answers a taken name 1104, a bad name 1102 and a wrong password 1103', async () => {
    await register(t.base, 'dave', PASSWORD);
    const taken = await httpCall(t.base, 'POST', `${MICRO}register`, { UserName: 'dave', Password: 'x' });
    expect(taken.json.BaseResponse.Ret).toBe(1104);
    const bad = await httpCall(t.base, 'POST', `${MICRO}register`, { UserName: 'no spaces allowed', Password: 'x' });
    expect(bad.json.BaseResponse.Ret).toBe(1102);
    const wrong = await httpCall(t.base, 'POST', `${MICRO}manualauth`, { UserName: 'dave', Password: 'nope', DeviceID: 'd1' });
    expect(wrong.json.BaseResponse).toEqual({ Ret: 1103, ErrMsg: 'wrong user name or password' });
    const nobody = await httpCall(t.base, 'POST', `${MICRO}manualauth`, { UserName: 'nobody', Password: 'nope', DeviceID: 'd1' });
    expect(nobody.json.BaseResponse).toEqual(wrong.json.BaseResponse);
  });
});

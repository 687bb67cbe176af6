// What the media tests set up and say alike: web devices registered, logged
// in and initialised, one per user name, and the query parameters that name
// a device's session in a GET (the media fetches take no BaseRequest).
import { HttpDevice } from '../raw-client/http-device.ts';
import { register } from '../raw-client/http.ts';

/** One web device (`web-<first letter>`) per name, each registered, logged in and initialised, in order. */
export async function webUsers(base: string, names: readonly string[], password: string): Promise<HttpDevice[]> {
  const devices: HttpDevice[] = [];
  for (const name of names) {
    await register(base, name, password);
    const d = new HttpDevice(base, name, password, `web-${name[0]}`);
    await d.login();
    await d.init();
    devices.push(d);
  }
  return devices;
}

/** `uin`, `sid` and `skey` of the device's session, as query parameters. */
export function sessionQuery(d: HttpDevice): string {
  return `uin=${d.uin}&sid=${encodeURIComponent(d.sid)}&skey=${encodeURIComponent(d.skey)}`;
}

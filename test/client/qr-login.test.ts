// The client's side of the QR web login (client/core/qr-login.ts): the
// answers as the server writes them (server/node/web-login.ts), read back;
// and what each answer makes the login do next.
import { describe, expect, it } from 'vitest';
import { QrLogin, parseJsLogin, parseLoginPoll, parseNewLoginPage, ticketPath, type QrNews } from '../../client/core/qr-login.ts';
import { WEB_LOGIN_PATHS } from '../../server/node/http-api.ts';

const UUID = 'AbCdEfGhIjKlMnOpQrStUv';
const REDIRECT = `http://login.example:8080/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=T1&uuid=${UUID}&lang=zh_CN&scan=1700000000`;
const PAGE = [
  '<error>',
  '<ret>0</ret>',
  '<message></message>',
  '<skey>@crypt_0badf00d_0123456789abcdef0123456789abcdef</skey>',
  '<wxsid>sid-1</wxsid>',
  '<wxuin>1234</wxuin>',
  '<pass_ticket>pt</pass_ticket>',
  '<isgrayscale>1</isgrayscale>',
  '</error>',
].join('\n');

describe('reading the web login answers', () => {
  it('takes the uuid of jslogin, and nothing from a refusal or a malformed answer', () => {
    expect(parseJsLogin(`window.QRLogin.code = 200; window.QRLogin.uuid = "${UUID}";`)).toBe(UUID);
    expect(parseJsLogin('window.QRLogin.code = 503; window.QRLogin.error = "busy";')).toBeUndefined();
    expect(parseJsLogin('window.QRLogin.code = 200; window.QRLogin.uuid = "a b";')).toBeUndefined();
  });

  it('reads the poll codes as bare numbers, a 200 only with its redirect', () => {
    expect(parseLoginPoll('window.code=408;')).toEqual({ code: 408 });
    expect(parseLoginPoll("window.code=201;window.userAvatar='data:img/jpg;base64,';")).toEqual({ code: 201 });
    expect(parseLoginPoll(`window.code=200;\nwindow.redirect_uri="${REDIRECT}";`)).toEqual({ code: 200, redirect: REDIRECT });
    expect(parseLoginPoll('window.code=200;')).toBeUndefined();
    expect(parseLoginPoll('<html>')).toBeUndefined();
  });

  it('asks for the ticket at its own server, whatever host the redirect names', () => {
    expect(ticketPath(REDIRECT)).toBe(`${WEB_LOGIN_PATHS.webwxnewloginpage}?ticket=T1&uuid=${UUID}&lang=zh_CN&scan=1700000000`);
  });

  it('reads the session out of the XML page, and a refusal as its ret', () => {
    expect(parseNewLoginPage(PAGE)).toEqual({ ret: 0, message: '', session: { uin: 1234, sid: 'sid-1', skey: '@crypt_0badf00d_0123456789abcdef0123456789abcdef' } });
    expect(parseNewLoginPage('<error><ret>1203</ret><message>ticket used</message></error>')).toEqual({ ret: 1203, message: 'ticket used' });
    expect(parseNewLoginPage(PAGE.replace('<wxuin>1234</wxuin>', '<wxuin>x</wxuin>'))).toBeUndefined();
    expect(parseNewLoginPage('not xml')).toBeUndefined();
  });
});

describe('the QR login steps', () => {
  function login(): { qr: QrLogin; news: QrNews[] } {
    const news: QrNews[] = [];
    return { qr: new QrLogin((n) => news.push(n)), news };
  }

  it('goes jslogin → poll (tip 1, then tip 0 once scanned) → ticket → session, telling the user the code and the scan once', () => {
    const { qr, news } = login();
    expect(qr.step).toBe('qr');
    expect(qr.path('qr', 5)).toMatch(/^\/jslogin\?appid=wx[0-9a-f]+&fun=new&/);
    expect(qr.reply('qr', 200, `window.QRLogin.code = 200; window.QRLogin.uuid = "${UUID}";`)).toEqual({ next: 'scan', retry: false });
    expect(news).toEqual([{ kind: 'qrCode', uuid: UUID }]);
    expect(qr.path('scan', 6)).toMatch(new RegExp(`^${WEB_LOGIN_PATHS.login}\\?loginicon=true&uuid=${UUID}&tip=1&`));
    expect(qr.reply('scan', 200, 'window.code=408;')).toEqual({ next: 'scan', retry: false });
    expect(qr.reply('scan', 200, "window.code=201;window.userAvatar='';")).toEqual({ next: 'scan', retry: false });
    expect(qr.reply('scan', 200, "window.code=201;window.userAvatar='';")).toEqual({ next: 'scan', retry: false });
    expect(news).toEqual([{ kind: 'qrCode', uuid: UUID }, { kind: 'qrScanned' }]);
    expect(qr.path('scan', 7)).toMatch(/&tip=0&/);
    expect(qr.reply('scan', 200, `window.code=200;\nwindow.redirect_uri="${REDIRECT}";`)).toEqual({ next: 'ticket', retry: false });
    expect(qr.step).toBe('ticket');
    expect(qr.path('ticket', 8)).toBe(`${ticketPath(REDIRECT)}&fun=new&version=v2`);
    expect(qr.reply('ticket', 301, PAGE)).toEqual({ session: { uin: 1234, sid: 'sid-1', skey: expect.stringMatching(/^@crypt_/) } });
    expect(qr.step).toBe('qr');
  });

  it('shows a new code when the uuid expires, and scans again when the ticket was used', () => {
    const { qr, news } = login();
    qr.reply('qr', 200, `window.QRLogin.code = 200; window.QRLogin.uuid = "${UUID}";`);
    expect(qr.reply('scan', 200, 'window.code=400;')).toEqual({ next: 'qr', retry: false });
    expect(qr.step).toBe('qr');
    qr.reply('qr', 200, `window.QRLogin.code = 200; window.QRLogin.uuid = "${UUID}2";`);
    expect(news.filter((n) => n.kind === 'qrCode')).toHaveLength(2);
    qr.reply('scan', 200, `window.code=200;\nwindow.redirect_uri="${REDIRECT}";`);
    expect(qr.reply('ticket', 200, '<error><ret>1203</ret><message>used</message></error>')).toEqual({ next: 'qr', retry: false });
  });

  it('retries what got no readable answer, and stops on a refusal it cannot get past', () => {
    const { qr } = login();
    expect(qr.reply('qr', 503, 'window.QRLogin.code = 503;')).toEqual({ next: 'qr', retry: true });
    qr.reply('qr', 200, `window.QRLogin.code = 200; window.QRLogin.uuid = "${UUID}";`);
    expect(qr.reply('scan', 0, '')).toEqual({ next: 'scan', retry: true });
    qr.reply('scan', 200, `window.code=200;\nwindow.redirect_uri="${REDIRECT}";`);
    expect(qr.reply('ticket', 502, '')).toEqual({ next: 'ticket', retry: true });
    expect(qr.reply('ticket', 200, '<error><ret>1108</ret><message>too many devices</message></error>')).toEqual({ refused: 1108, errMsg: 'too many devices' });
  });
});

// Single sign-on from the CRM, the panel's side: open Parley's /sso/start
// in a popup (CRM sign-in pages refuse to be framed), wait for the popup's
// window.opener.postMessage({type: 'parley.sso', token, expires_at, user})
// and accept it only from Parley's own origin and from that popup. A
// blocked popup is reported so the panel can say how to allow pop-ups and
// offer a retry button (the retry is a click: a user gesture).

/** The message type the /sso/ pages post. */
export const SSO_MESSAGE = 'parley.sso';
/** The message type of an /sso/ page that ends the sign-in without a session. */
export const SSO_FAILED = 'parley.sso.failed';

/** PopupBlockedError: the browser refused to open the sign-in window. */
export class PopupBlockedError extends Error {
  constructor() {
    super('The browser blocked the sign-in window. Allow pop-ups for this site (the icon at the end of the address bar), then press "Try again".');
    this.name = 'PopupBlockedError';
  }
}

/**
 * ssoStartURL returns Parley's /sso/start URL for the tenant and the CRM
 * origin the panel is framed in (sandbox for a sandbox org).
 */
export function ssoStartURL(parleyOrigin, { tenant, origin, sandbox }) {
  const u = new URL('/sso/start', parleyOrigin);
  u.searchParams.set('tenant', tenant);
  u.searchParams.set('origin', origin);
  if (sandbox) u.searchParams.set('sandbox', 'true');
  return u.toString();
}

/**
 * acceptSSOMessage returns the session a message event carries when it is
 * the sign-in result: from parleyOrigin exactly, from popup (when given),
 * of type parley.sso with a token. Anything else gives null.
 */
export function acceptSSOMessage(ev, popup, parleyOrigin) {
  if (!ev || ev.origin !== parleyOrigin) return null;
  if (popup && ev.source !== popup) return null;
  const d = ev.data;
  if (!d || typeof d !== 'object' || d.type !== SSO_MESSAGE || typeof d.token !== 'string' || d.token === '') return null;
  return { token: d.token, expires_at: d.expires_at, user: d.user };
}

/**
 * acceptSSOFailure returns the reason a message event carries when it is
 * the popup's (from parleyOrigin exactly, from popup) sign-in failure, of
 * type parley.sso.failed. Anything else gives null.
 */
export function acceptSSOFailure(ev, popup, parleyOrigin) {
  if (!ev || ev.origin !== parleyOrigin || !popup || ev.source !== popup) return null;
  const d = ev.data;
  if (!d || typeof d !== 'object' || d.type !== SSO_FAILED || typeof d.message !== 'string' || d.message === '') return null;
  return d.message;
}

/**
 * openSSO opens the sign-in popup from win (call it from a click handler)
 * and resolves with the session it posts. It rejects with
 * PopupBlockedError when the popup cannot open, with an Error carrying
 * Parley's reason when the sign-in fails there (the popup stays open to be
 * read), and with an Error when the user closes it before signing in.
 */
export function openSSO(win, startURL, parleyOrigin) {
  return new Promise((resolve, reject) => {
    const popup = win.open(startURL, 'parley-sso', 'popup,width=520,height=680');
    if (!popup) {
      reject(new PopupBlockedError());
      return;
    }
    let timer = null;
    let settled = false;
    const done = () => {
      settled = true;
      win.removeEventListener('message', onMessage);
      clearInterval(timer);
    };
    const onMessage = ev => {
      if (settled) return;
      const failure = acceptSSOFailure(ev, popup, parleyOrigin);
      if (failure) {
        done();
        reject(new Error(failure));
        return;
      }
      const session = acceptSSOMessage(ev, popup, parleyOrigin);
      if (!session) return;
      done();
      resolve(session);
    };
    win.addEventListener('message', onMessage);
    timer = setInterval(() => {
      if (!popup.closed) return;
      clearInterval(timer);
      // The popup posts, then closes itself: give its message a moment to
      // arrive before calling the sign-in abandoned.
      setTimeout(() => {
        if (settled) return;
        done();
        reject(new Error('The sign-in window was closed before the sign-in finished: press "Sign in with the CRM" to try again.'));
      }, 1000);
    }, 500);
  });
}

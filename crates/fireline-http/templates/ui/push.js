// "Get pages on this device": registers the service worker, asks for permission to
// notify, subscribes to Web Push with the server's key and hands the subscription to
// fireline. Loaded by the "On call" page only.
'use strict';

function keyBytes(base64url) {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function deviceLabel() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrom/.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS'
    : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? browser + ' on ' + os : browser;
}

async function subscribe(button, status) {
  const say = (text) => { status.textContent = text; };
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
    say('This browser cannot receive pages. On an iPhone, add fireline to the Home Screen first (Share → Add to Home Screen) and open it from there.');
    return;
  }
  button.disabled = true;
  try {
    const registration = await navigator.serviceWorker.register('/ui/sw.js', { scope: '/ui/' });
    await navigator.serviceWorker.ready;
    if ((await Notification.requestPermission()) !== 'granted') {
      say('Notifications are blocked for this site: allow them in the browser settings, then try again.');
      return;
    }
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(button.dataset.key),
    });
    await send(button, subscription.toJSON(), deviceLabel());
    say('This device now gets your pages. Send yourself a test page to be sure.');
    window.location.reload();
  } catch (e) {
    say('Could not subscribe this device: ' + e.message);
  } finally {
    button.disabled = false;
  }
}

// Hands a subscription to fireline; throws with fireline's own message if refused.
async function send(button, subscription, label) {
  const answer = await fetch('/ui/push/subscribe', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Fireline-CSRF': button.dataset.csrf },
    body: JSON.stringify({ subscription, label }),
  });
  if (!answer.ok) {
    let message = 'HTTP ' + answer.status;
    try { message = (await answer.json()).error.message || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return answer.json();
}

const button = document.getElementById('push-subscribe');
if (button) {
  const status = document.getElementById('push-status');
  button.addEventListener('click', () => subscribe(button, status));
}
window.firelinePush = { send };

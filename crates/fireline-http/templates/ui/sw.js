// fireline's service worker: shows pages pushed to this device (Web Push) and acts on
// their buttons. Acknowledge works from the lock screen: it POSTs the page's own
// acknowledge link, which needs no sign-in.
'use strict';

// Shows one pushed message (the JSON fireline's notification_payload makes).
function show(data) {
  const actions = [];
  if (data.ack_url) {
    const isTest = data.ack_url.includes('/ack/t.');
    actions.push({ action: 'ack', title: isTest ? 'Confirm' : 'Acknowledge' });
  }
  if (data.url) actions.push({ action: 'open', title: 'Open' });
  return self.registration.showNotification(data.title || 'fireline', {
    body: data.body || '',
    tag: data.incident || data.key || 'fireline',
    renotify: true,
    requireInteraction: Boolean(data.urgent),
    vibrate: data.urgent ? [400, 150, 400, 150, 400] : undefined,
    icon: '/ui/icon-192.png',
    data,
    actions,
  });
}

// What a tap does: Acknowledge (or Confirm, on a test page) POSTs the link and says
// how it went; Open, or a tap on the notification itself, opens the incident.
async function act(data, action) {
  if (action === 'ack' && data.ack_url) {
    let said;
    try {
      const answer = await fetch(data.ack_url, { method: 'POST', credentials: 'omit' });
      if (answer.ok) said = data.ack_url.includes('/ack/t.') ? 'Test page confirmed' : 'Acknowledged';
      else if (answer.status === 409) said = 'Already acknowledged, or resolved';
      else said = 'Not acknowledged (HTTP ' + answer.status + '): open fireline';
    } catch (e) {
      said = 'Not acknowledged: no connection to fireline';
    }
    await self.registration.showNotification(said, {
      body: data.title || '',
      tag: data.incident || data.key || 'fireline',
      icon: '/ui/icon-192.png',
      data: { url: data.url },
    });
    return said;
  }
  const url = data.url || '/ui';
  const open = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of open) {
    if (client.url === url && 'focus' in client) return client.focus();
  }
  return self.clients.openWindow(url);
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { title: 'fireline', body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(show(data));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(act(event.notification.data || {}, event.action));
});

// For the browser tests: the same functions the events call.
self.fireline = { show, act };

import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { watchBadge } from '../src/background/badge.js';
import { handlers } from '../src/background/handlers.js';
import { onAlarm, resumeWork, scheduleRefresh } from '../src/background/scheduler.js';
import { routeMessage } from '../src/messaging/router.js';
import { setTokenExpiryListener } from '../src/oauth/tokens.js';

export default defineBackground(() => {
  const context = { extensionId: browser.runtime.id, extensionBaseUrl: browser.runtime.getURL('/') };
  // Listeners first and synchronously: a worker woken by an event must find them registered.
  browser.runtime.onMessage.addListener((message, sender) => routeMessage(message, sender, handlers, context));
  browser.alarms.onAlarm.addListener(onAlarm);
  setTokenExpiryListener(scheduleRefresh);
  void resumeWork();
  watchBadge();
});

import { browser } from 'wxt/browser';
import { hostPermissionPattern, validateBackendUrl } from '../backend/url.js';
import { ExtensionError, toExtensionError } from '../errors.js';
import { sendRequest } from '../messaging/send.js';
import { backendStore } from '../state/items.js';

/**
 * The options page: the backend address, checked here (so the person sees why at once) and
 * again by the background; host access requested for exactly that host at the person's click;
 * and the disconnect button.
 */
export function mountOptions(root: HTMLElement): void {
  const form = root.querySelector<HTMLFormElement>('#backend-form');
  const input = root.querySelector<HTMLInputElement>('#backend-url');
  const status = root.querySelector<HTMLElement>('#options-status');
  const disconnectButton = root.querySelector<HTMLButtonElement>('#disconnect');
  const saveButton = root.querySelector<HTMLButtonElement>('#save');
  if (!form || !input || !status || !disconnectButton || !saveButton) throw new Error('options.html is missing an element');

  /** `pending` shows the text without a result, so a reader (or a test) waits for the outcome. */
  const report = (result: 'ok' | 'error' | 'pending', text: string) => {
    if (result === 'pending') delete status.dataset.result;
    else status.dataset.result = result;
    status.textContent = text;
    input.setAttribute('aria-invalid', String(result === 'error'));
  };

  // Whether host access is already granted, checked as the person types: Firefox only allows
  // permissions.request() straight from the click, before any other await.
  const granted = new Map<string, boolean>();
  const checkGranted = async () => {
    const checked = validateBackendUrl(input.value);
    if (!checked.ok) return;
    const pattern = hostPermissionPattern(checked.origin);
    granted.set(pattern, await browser.permissions.contains({ origins: [pattern] }));
  };
  input.addEventListener('input', () => void checkGranted());

  const requestAccess = async (pattern: string): Promise<boolean> => {
    // Skip the request when access is already there: it never resolves in headless Chromium,
    // and the test build holds local hosts from install.
    const known = granted.get(pattern);
    if (known === true) return true;
    if (known === undefined && (await browser.permissions.contains({ origins: [pattern] }))) return true;
    return browser.permissions.request({ origins: [pattern] });
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const checked = validateBackendUrl(input.value);
    if (!checked.ok) {
      report('error', checked.reason);
      input.focus();
      return;
    }
    report('pending', 'Checking the backend…');
    saveButton.disabled = true;
    try {
      if (!(await requestAccess(hostPermissionPattern(checked.origin)))) throw new ExtensionError('BACKEND_PERMISSION_MISSING');
      const { backend } = await sendRequest({ type: 'backend.set', url: checked.origin });
      input.value = backend;
      report('ok', `Saved. The extension now uses ${backend}. Open the Gatehouse popup to pair this browser.`);
    } catch (error) {
      report('error', toExtensionError(error).message);
    } finally {
      saveButton.disabled = false;
    }
  });

  disconnectButton.addEventListener('click', async () => {
    disconnectButton.disabled = true;
    try {
      await sendRequest({ type: 'backend.disconnect' });
      input.value = '';
      report('ok', 'Disconnected. The extension forgot the backend, its key and its tokens on this browser.');
    } catch (error) {
      report('error', toExtensionError(error).message);
    } finally {
      disconnectButton.disabled = false;
    }
  });

  void backendStore.get().then((backend) => {
    if (backend && input.value === '') input.value = backend.origin;
    void checkGranted();
  });
}

/**
 * Who may talk to the background: only this extension's own pages (popup, options), whether
 * they are shown as a popup or in a tab. Content scripts and web pages (which can reach us
 * through `externally_connectable` or a compromised content script) are refused.
 */
export interface SenderLike {
  id?: string | undefined;
  url?: string | undefined;
  origin?: string | undefined;
}

export function isTrustedSender(sender: SenderLike, extensionId: string, extensionBaseUrl: string): boolean {
  if (sender.id !== extensionId) return false;
  // A content script has our id too, but runs in a web page: its url is the page's.
  if (typeof sender.url !== 'string' || !sender.url.startsWith(extensionBaseUrl)) return false;
  if (sender.origin !== undefined && !extensionBaseUrl.startsWith(`${sender.origin}/`)) return false;
  return true;
}

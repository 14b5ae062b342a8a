import {
  type ExtensionRequest,
  type ExtensionRequestType,
  type ExtensionResponse,
  type ExtensionResult,
  parseExtensionResponse,
} from '@gatehouse/shared';
import { browser } from 'wxt/browser';
import { ExtensionError, toExtensionError } from '../errors.js';

/** The one typed way for a page to ask the background something. Throws an ExtensionError on failure. */
export async function sendRequest<T extends ExtensionRequestType>(
  request: Extract<ExtensionRequest, { type: T }>,
): Promise<ExtensionResult<T>> {
  let raw: unknown;
  try {
    raw = await browser.runtime.sendMessage(request);
  } catch (error) {
    throw toExtensionError(error);
  }
  const response: ExtensionResponse<T> = parseExtensionResponse(request.type as T, raw);
  if (!response.ok) throw new ExtensionError(response.code, response.message);
  return response.result;
}

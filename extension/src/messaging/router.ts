import { type ExtensionRequest, type ExtensionResponse, extensionRequestSchema } from '@gatehouse/shared';
import { toExtensionError } from '../errors.js';
import { isTrustedSender, type SenderLike } from './sender.js';

/** The background's handlers, one per request type, each returning that type's result. */
export type Handlers = {
  [T in ExtensionRequest['type']]: (request: Extract<ExtensionRequest, { type: T }>) => Promise<unknown>;
};

export interface RouterContext {
  extensionId: string;
  extensionBaseUrl: string;
}

/**
 * Handles one incoming message. Returns `undefined` (no answer at all) for untrusted senders,
 * a failure for malformed messages, and otherwise the handler's result or its error as a
 * failure with a sentence for the person.
 */
export async function routeMessage(
  message: unknown,
  sender: SenderLike,
  handlers: Handlers,
  context: RouterContext,
): Promise<ExtensionResponse | undefined> {
  if (!isTrustedSender(sender, context.extensionId, context.extensionBaseUrl)) return undefined;
  const parsed = extensionRequestSchema.safeParse(message);
  if (!parsed.success) {
    return { ok: false, code: 'BAD_REQUEST', message: 'The extension sent a request it does not understand. Reload the extension.' };
  }
  const request = parsed.data;
  try {
    const handler = handlers[request.type] as (request: ExtensionRequest) => Promise<unknown>;
    const result = await handler(request);
    return { ok: true, result } as ExtensionResponse;
  } catch (error) {
    const failure = toExtensionError(error);
    if (failure.code === 'UNEXPECTED') console.error('gatehouse: request failed', request.type, error);
    return { ok: false, code: failure.code, message: failure.message };
  }
}

// Types for runtime.mjs, for the TypeScript tests that import it.
export const SUPPORTED_NODE: string;
export const HADOLINT_VERSION: string;
export function supportedNode(log?: (line: string) => void): string | null;
export function reexecUnderSupportedNode(script: string, args?: string[]): Promise<void>;
export function hadolintBinary(log?: (line: string) => void): string;

// Types for dev-stack-env.mjs, for the TypeScript test that imports it.
export function withDevStackEnv(repo: string, env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; taken: string[]; file: string };

export declare const NODE_VERSIONS: Record<'22' | '24' | '26', string>;
export declare function cacheRoot(env?: NodeJS.ProcessEnv): string;
export declare function installedNodeDir(major: string | number, env?: NodeJS.ProcessEnv): string | undefined;
export declare function ensureNodeDir(major: string | number, env?: NodeJS.ProcessEnv): string;
export declare function nodeAtLeast(min: number, env?: NodeJS.ProcessEnv): string;

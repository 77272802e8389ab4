// Types of what the TypeScript end-to-end tests import from vscode-server.mjs.
export declare const chromiumPath: string;
export declare const chromiumArgs: string[];

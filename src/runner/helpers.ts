/**
 * The names of the helpers instrumented code calls (see instrument.ts); the worker defines them.
 * A module of its own so the worker bundle does not pull in the parser.
 */
export const HELPERS = { site: "__gl_s", bind: "__gl_b", loop: "__gl_l", expression: "__gl_e", register: "__gl_fn", write: "__gl_w", frameEnter: "__gl_fe", frameExit: "__gl_fx", made: "__gl_v" } as const;

/** The built-in policies in the registry's order (the expectation, written out). */
export const BUILTIN_POLICIES = [
  'eager',
  'lazy-v4',
  'lazy-notafix',
  'lazy-fixed',
  'lazy-vcpu',
  'adaptive',
] as const;

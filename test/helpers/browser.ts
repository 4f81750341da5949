/**
 * Whether the browser test runs: with Chromium it runs; without it, it skips on a
 * developer's machine and fails under CI (`CI=true`, as .ci/run and CI services set it),
 * where a missing browser means the report was never checked.
 */
export function browserTestMode(
  haveBrowser: boolean,
  env: Readonly<Record<string, string | undefined>>,
): 'run' | 'skip' | 'fail' {
  if (haveBrowser) return 'run';
  return env.CI === 'true' || env.CI === '1' ? 'fail' : 'skip';
}

/** The part of the DOM the page callbacks use (the project compiles without lib.dom). */
export interface DomElement {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): { readonly length: number };
  readonly textContent: string | null;
}

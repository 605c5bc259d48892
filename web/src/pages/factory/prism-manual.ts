/** Prism highlights on demand only: without this it would rewrite any `language-*` element. */
(globalThis as { Prism?: { manual: boolean } }).Prism = { manual: true };
export {};

/** Users' provider API keys: which providers there are, and how a stored key is shown. */

/** The fixed list the auth service accepts (`agora_auth.keys.providers.Provider`). */
export const PROVIDERS = ["openai", "anthropic", "google", "mistral", "cohere", "groq"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const PROVIDER_WORDS: Record<ProviderName, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  google: "Google",
  mistral: "Mistral",
  cohere: "Cohere",
  groq: "Groq",
};

export interface StoredKey {
  provider: string;
  last4: string;
  updated_at: string;
}

/** Dots and the last four characters only: `••••••••wxyz`. Never more than four shown. */
export function maskKey(last4: string): string {
  return "••••••••" + last4.slice(-4);
}

/** What the auth service accepts as a key (16-512 of `A-Za-z0-9_-.~+/=:`), said in words. */
export function keyProblem(secret: string): string | null {
  if (secret.length < 16) return "A key is at least 16 characters.";
  if (secret.length > 512) return "A key is at most 512 characters.";
  if (!/^[A-Za-z0-9_\-.~+/=:]+$/.test(secret)) {
    return "A key holds only letters, digits and _ - . ~ + / = : (no spaces).";
  }
  return null;
}

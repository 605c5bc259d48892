/**
 * One `Idempotency-Key` per registration attempt: retrying the same card (after a network
 * failure, a 503) sends the same key, so the registry answers the agent it already created
 * instead of a second one; a changed card is a new attempt with a new key (the registry refuses
 * a key reused for another card).
 */
export interface Attempt {
  body: string;
  key: string;
}

export function attemptFor(
  previous: Attempt | null,
  card: unknown,
  newKey: () => string = () => crypto.randomUUID(),
): Attempt {
  const body = JSON.stringify(card);
  return previous && previous.body === body ? previous : { body, key: newKey() };
}

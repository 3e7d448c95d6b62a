/**
 * Keeps a publisher's sends in order while their serializer prepares (e.g. fetches a schema id from
 * a registry): while an earlier send waits, later ones wait behind it, even when they need nothing
 * themselves. Owned by one {@link KafkaPublisherChannel}.
 *
 * @internal
 */
export class PreparationChain {
  /** The latest send waiting for its preparation (settles, never rejects). */
  #tail: Promise<void> | undefined;

  /**
   * What a send must wait for: its own preparation `own` after every earlier one; `undefined` when
   * nothing is pending, the usual case. Rejects with `own`'s error.
   */
  after(own: Promise<void> | undefined): Promise<void> | undefined {
    const before = this.#tail;
    if (own === undefined && before === undefined) return undefined;
    // `own` is awaited only after `before`: handle its rejection now so it is never reported unhandled.
    if (own !== undefined) void own.catch(() => undefined);
    const mine = (async () => {
      await before;
      await own;
    })();
    const tail = mine.catch(() => undefined);
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return mine;
  }
}

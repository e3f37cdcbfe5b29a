import type { Store } from '../store/store.ts';

/** The local-process provider's address counter (`meta.next_address`): each machine gets the next 127.x host number, never reused. */
export class AddressRepository {
  constructor(private readonly s: Store) {}

  /** The next host number, from 2 (1 is the controller's). */
  next(): number {
    const r = this.s.db.prepare("INSERT INTO meta (key, value) VALUES ('next_address', '2') ON CONFLICT(key) DO UPDATE SET value = CAST(meta.value AS INTEGER) + 1 RETURNING value").get() as { value: string };
    return Number(r.value);
  }
}

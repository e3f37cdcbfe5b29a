/** The largest request body, and the largest charm upload (a base64 archive in JSON). */
export const MAX_BODY = 8 * 1024 ** 2;
export const MAX_CHARM_BODY = 128 * 1024 ** 2;

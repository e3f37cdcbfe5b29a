import { describe, expect, expectTypeOf, test } from 'vitest';
import { Charm, StatusError, StatusTextError, active, blocked, maintenance, waiting, type CharmSpec, type Status } from './index.ts';
import { event, run, state } from './testing.ts';

describe('status text', () => {
  test('plain text and templates of present values make the same status', () => {
    const host = '10.0.0.1';
    const port = 3306;
    expect(active()).toEqual({ name: 'active', message: '' });
    expect(active('ready')).toEqual({ name: 'active', message: 'ready' });
    expect(active`ready on ${host}:${port}`).toEqual({ name: 'active', message: 'ready on 10.0.0.1:3306' });
    expect(blocked`${'port'}=${0} is not a port`).toEqual({ name: 'blocked', message: 'port=0 is not a port' });
    expect(waiting`waiting for ${'mariadb'}`.name).toBe('waiting');
    expect(maintenance`installing`.message).toBe('installing');
  });

  test('a value that may be missing is a type error in a template', () => {
    const settings: Record<string, string> = {};
    const host: string | undefined = settings.bind_address;
    // @ts-expect-error a possibly missing value cannot be interpolated into a status message
    expect(() => active`ready on ${host}:${settings.port}`).toThrow(StatusTextError);
    // @ts-expect-error null neither
    expect(() => blocked`needs ${null}`).toThrow(StatusTextError);
    // @ts-expect-error blocked, waiting and maintenance need a message (only active may have none)
    const unsaid = (): Status => blocked();
    expect(unsaid).toBeTypeOf('function');
    expectTypeOf(active`ready on ${'a'}:${1}`).toEqualTypeOf<Status>();
  });

  test('missing values are refused when the charm runs, naming the template and the value', () => {
    const values = [undefined, null, Number.NaN, {}] as unknown as string[];
    for (const v of values) {
      expect(() => active`ready on ${'h'}:${v!}`).toThrow(/status message `ready on \$\{…\}:\$\{…\}`: value 2 is (undefined|null|NaN|object)/);
    }
  });

  test('plain text showing a missing value is refused', () => {
    const settings: Record<string, string> = {};
    expect(() => active(`ready on ${settings.bind_address}:${settings.port}`)).toThrow(/"ready on undefined:undefined" shows a missing value as "undefined"/);
    expect(() => blocked(`port=${Number('x')} is not a port`)).toThrow(StatusTextError);
    expect(() => waiting(`waiting for ${String({})}`)).toThrow(StatusTextError);
    // Words that merely contain the text are fine.
    expect(active('undefinedness is not a word').message).toBe('undefinedness is not a word');
  });

  test('a handler that sets a status with a missing value fails the hook instead of showing it', async () => {
    const spec = { name: 'x', subordinate: false, holistic: false, provides: {}, requires: {}, peers: {}, config: {}, actions: {} } as const satisfies CharmSpec;
    const charm = new Charm(spec);
    charm.on.start(async (ctx) => {
      const where = (await ctx.leaderData()).where;
      await ctx.setStatus(active(`ready on ${where}`));
    });
    charm.on.configChanged(() => {
      throw new StatusError(blocked`nothing to ${'do'}`);
    });
    await expect(run(charm, event.start(), state(spec))).rejects.toThrow(StatusTextError);
    expect((await run(charm, event.configChanged(), state(spec))).unitStatus).toEqual({ name: 'blocked', message: 'nothing to do' });
  });
});

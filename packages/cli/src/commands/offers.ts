/**
 * Offers across models (issue 20), as Juju's crossmodel commands: `offer`, `find-offers`,
 * `show-offer`, `consume`, `remove-offer`, `remove-saas`; `integrate` with an offer URL
 * consumes it first (see app.ts).
 */
import type { Command } from 'commander';
import type { OfferDoc } from '@sigil/api';
import { SigilError, parseOfferSpec } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { renderList } from '../render/output.ts';
import { endpointOrder } from '../endpoints.ts';

type ModelOpt = { model?: string };

/** Juju's find-offers/show-offer document: offer URL → details (crossmodel ApplicationOfferResult). */
export function offersDocument(offers: OfferDoc[], store: string): Record<string, unknown> {
  return Object.fromEntries(offers.map((o) => [o.url, {
    application: o.app,
    store,
    charm: o.charm,
    access: o.access,
    endpoints: Object.fromEntries(o.endpoints.map((e) => [e.name, { interface: e.interface, role: e.role }])),
    ...(o.connections.length > 0 ? { connections: o.connections.map((c) => ({ 'source-model': c.model, username: 'admin', 'relation-id': c.relationId, endpoint: o.endpoints[0]?.name ?? '', status: { current: c.status } })) } : {}),
  }]));
}

/** Juju's find-offers table: Store, URL, Access, Interfaces (`interface:endpoint`). */
export function renderFindOffers(offers: OfferDoc[], store: string): string {
  return renderList(['Store', 'URL', 'Access', 'Interfaces'], offers.map((o) => [store, o.url, o.access, o.endpoints.map((e) => `${e.interface}:${e.name}`).join(', ')]), { empty: 'No offers found.' });
}

/** Consumes `url` into the client's model and returns the alias it got. */
export async function consumeOffer(ctx: Ctx, model: string | undefined, url: string, alias?: string): Promise<string> {
  const c = ctx.client(model);
  const source = sourceOf(url);
  if (source !== undefined && source !== c.controller) {
    // Another controller's offer: that controller mints a credential for this one (asked with
    // the user's login there, which must hold consume access), and this one keeps it sealed.
    const offering = ctx.client(`${source}:`);
    const ca = offering.entry['ca-cert'];
    if (!ca) throw new SigilError('bad-request', `controller "${source}" has no pinned CA certificate in this SIGIL_HOME`, 'register with that controller again (`sigil register`), which pins its CA');
    const minted = await offering.call('POST /api/offers/consumer-token', { body: { url: bare(url), consumer: `${c.controller}:${c.model}` } });
    const r = await c.call('POST /api/models/:model/consume-remote', {
      body: {
        controller: offering.controller,
        ...(alias === undefined ? {} : { alias }),
        apiUrls: endpointOrder(offering.entry),
        caCert: ca,
        token: minted.token,
        offer: { model: minted.model, name: minted.name, app: minted.app, endpoints: minted.endpoints, meta: minted.meta },
      },
    });
    return r.alias;
  }
  const r = await c.call('POST /api/models/:model/consume', { body: alias === undefined ? { url: bare(url) } : { url: bare(url), alias } });
  return r.alias;
}

/** The `controller:` an offer URL starts with, if any (Juju's source). */
function sourceOf(url: string): string | undefined {
  return /^([^:/]+):/.exec(url)?.[1];
}

/** The URL without its controller. */
function bare(url: string): string {
  return url.replace(/^[^:/]+:/, '');
}

/**
 * The controller offer URLs live on: `-c`, else the `controller:` the URLs name (they must
 * agree), else the current one, as Juju's offer commands choose it.
 */
function offerController(flag: string | undefined, urls: readonly string[]): string | undefined {
  const named = [...new Set(urls.map(sourceOf).filter((x): x is string => x !== undefined))];
  if (named.length > 1) throw new SigilError('bad-request', `the offer URLs name different controllers (${named.join(', ')})`, 'give offers of one controller at a time');
  if (flag !== undefined && named.length === 1 && named[0] !== flag) throw new SigilError('bad-request', `-c ${flag} and the offer URL's controller "${named[0]}" disagree`, 'drop one of them');
  return flag ?? named[0];
}

const onController = (ctx: Ctx, controller: string | undefined) => ctx.client(controller === undefined ? undefined : `${controller}:`);

export function registerOffers(program: Command, ctx: Ctx): void {
  const withModel = (c: Command) => c.option('-m, --model <model>', 'model to operate in');

  withModel(program.command('offer'))
    .description('offer application endpoints for use in other models')
    .argument('<endpoints>', 'APP:ENDPOINT[,ENDPOINT…]')
    .argument('[offer-name]', 'the name of the offer (default: the application name)')
    .action(async (spec: string, name: string | undefined, o: ModelOpt) => {
      parseOfferSpec(spec, name);
      const c = ctx.client(o.model);
      const r = await c.call('POST /api/models/:model/offers', { body: name === undefined ? { spec } : { spec, name } });
      ctx.info(`Application "${r.app}" endpoints [${r.endpoints.join(' ')}] available at "${r.url}"`);
    });

  program.command('find-offers')
    .description('find offered application endpoints')
    .argument('[url]', 'an offer URL, or [user/]model to list a model\'s offers')
    .option('-m, --model <model>', 'only offers of this model')
    .option('--interface <name>', 'only offers with an endpoint of this interface')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .option('-c, --controller <name>', 'controller (default: the URL\'s, else the current one)')
    .action(async (url: string | undefined, o: ModelOpt & { interface?: string; format: string; controller?: string }) => {
      const c = onController(ctx, offerController(o.controller, url ? [url] : []));
      const query = { ...(url ? { url: bare(url) } : {}), ...(o.model ? { model: o.model } : {}), ...(o.interface ? { interface: o.interface } : {}) };
      const { offers } = await c.call('GET /api/offers', { query });
      ctx.print(offersDocument(offers, c.controller), o.format, () => renderFindOffers(offers, c.controller));
    });

  program.command('show-offer')
    .description('show extended information about an offered application')
    .argument('<offer-url>')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .option('-c, --controller <name>', 'controller (default: the URL\'s, else the current one)')
    .action(async (url: string, o: { format: string; controller?: string }) => {
      const c = onController(ctx, offerController(o.controller, [url]));
      const offer = await c.call('POST /api/offers/show', { body: { url: bare(url) } });
      ctx.print(offersDocument([offer], c.controller), o.format, () =>
        renderList(['Store', 'URL', 'Access', 'Description', 'Endpoint', 'Interface', 'Role'], offer.endpoints.map((e, i) => i === 0 ? [c.controller, offer.url, offer.access, offer.charm, e.name, e.interface, e.role] : ['', '', '', '', e.name, e.interface, e.role])));
    });

  withModel(program.command('consume'))
    .description('add a remote offer to the model')
    .argument('<offer-url>')
    .argument('[local-application-alias]')
    .action(async (url: string, alias: string | undefined, o: ModelOpt) => {
      const name = await consumeOffer(ctx, o.model, url, alias);
      ctx.info(`Added ${url} as ${name}`);
    });

  program.command('remove-offer')
    .description('remove one or more offers specified by their URL')
    .argument('<offer-url...>')
    .option('-c, --controller <name>', 'controller')
    .option('--force', 'remove the offer as well as any relations to the offer')
    .option('-y, --yes', 'do not prompt for confirmation')
    .action(async (offers: string[], o: { controller?: string; force?: boolean; yes?: boolean }) => {
      const c = onController(ctx, offerController(o.controller, offers));
      // As Juju: only --force (which removes relations too) asks first.
      if (o.force) await ctx.confirm(`remove offers ${offers.join(', ')} and all relations to them`, { yes: o.yes === true });
      await c.call('POST /api/offers/remove', { body: { offers: offers.map(bare), force: o.force === true, model: c.model } });
    });

  withModel(program.command('remove-saas'))
    .description('remove consumed applications (SAAS) from the model, with their relations')
    .argument('<saas-name...>')
    .action(async (names: string[], o: ModelOpt) => {
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/saas/remove', { body: { names } });
      for (const n of names) ctx.info(`removing SAAS application ${n}`);
    });
}

/** `grant USER consume OFFER-URL…`: Juju's offer access levels, by an admin of the offering model. */
export async function grantOffer(ctx: Ctx, verb: 'grant' | 'revoke', user: string, access: string, offers: string[], controller?: string): Promise<void> {
  if (!['read', 'consume', 'admin'].includes(access)) throw new SigilError('bad-request', `unknown offer access "${access}"`, 'offers take read, consume or admin');
  const c = onController(ctx, offerController(controller, offers));
  await c.call(`POST /api/offers/${verb}`, { body: { user, access, offers: offers.map(bare) } });
  ctx.info(`${verb === 'grant' ? 'granted' : 'revoked'} ${access} access to ${offers.join(', ')} ${verb === 'grant' ? 'to' : 'from'} ${user}`);
}

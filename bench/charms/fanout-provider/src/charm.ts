import { Charm, active } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';

// One reconcile converges every relation: which clients asked, who is allowed. Classic
// dispatch runs it once per relation event; holistic dispatch (metadata `sigil: holistic`)
// once per batch of pending events.
const charm = new Charm(spec);
charm.reconcile(async (ctx) => {
  let allowed = 0;
  for (const rel of await ctx.relations('feed')) {
    const data = await rel.unitsData();
    const asked = Object.keys(data).filter((u) => data[u]!.want !== undefined);
    allowed += asked.length;
    await rel.local.update({ host: await ctx.address(), 'allowed-units': asked.join(' ') });
  }
  await ctx.setStatus(active(`${allowed} clients allowed`));
});
export default charm;

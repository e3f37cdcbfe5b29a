import { describe, expect, test } from 'vitest';
import { sigilError } from '../charm/test-util.ts';
import { parseMapMachines } from './map-machines.ts';
import { EXISTING_MACHINE, planBundle } from './plan.ts';
import { charmsFor, emptyModel, load, modelCharms } from './test-kit.ts';

const C = '/srv/bundles/charms';
const bundle = `applications:
  mysql:
    charm: ./charms/mysql
    num_units: 2
    to: ["0", "1"]
machines:
  "0": {constraints: mem=4G}
  "1": {}
`;

describe('--map-machines', () => {
  test('existing maps bundle machines onto the model machines with the same ids; pairs override', () => {
    expect([...parseMapMachines('existing', ['0', '1'], ['0', '5'])]).toEqual([['0', '0']]);
    expect([...parseMapMachines('existing,1=5', ['0', '1'], ['0', '5'])]).toEqual([['0', '0'], ['1', '5']]);
    expect([...parseMapMachines('0=5', ['0', '1'], ['0', '5'])]).toEqual([['0', '5']]);
  });

  test('mapped machines are used, not added; the others are still added', () => {
    const b = load(bundle);
    const model = { ...emptyModel(), machines: ['0', '3'] };
    const changes = planBundle(b, model, charmsFor(b), modelCharms(model), parseMapMachines('existing', ['0', '1'], model.machines));
    expect(changes.filter((c) => c.kind === 'add-machine')).toEqual([{ kind: 'add-machine', id: '1', constraints: '' }]);
    expect(changes.find((c) => c.kind === 'deploy')).toMatchObject({ app: 'mysql', charmPath: `${C}/mysql`, numUnits: 2, to: [`${EXISTING_MACHINE}0`, '1'] });
  });

  test('bad mappings are refused with a hint', () => {
    expect(sigilError(() => parseMapMachines('sometimes', ['0'], ['0']))).toMatchObject({ message: 'expected "existing" or <bundle machine>=<model machine> in --map-machines, got "sometimes"', hint: expect.stringContaining('existing') });
    expect(sigilError(() => parseMapMachines('7=0', ['0'], ['0']))).toMatchObject({ message: '--map-machines: the bundle declares no machine "7"' });
    expect(sigilError(() => parseMapMachines('0=9', ['0'], ['0']))).toMatchObject({ message: '--map-machines: machine 9 not found in the model', hint: 'model machines: 0' });
  });
});

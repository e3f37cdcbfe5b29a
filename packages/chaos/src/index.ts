export { ProxyCollection, seededRandom, parseProxyInput, type ProxyInput } from './collection.ts';
export { Proxy, splitHostPort, type ProxyJson } from './proxy.ts';
export { serveApi, createApiHandler, TOXIPROXY_API_VERSION, type ApiServer } from './api.ts';
export { ApiError } from './errors.ts';
export { TOXIC_TYPES, parseToxic, type ToxicSpec, type ToxicType, type Stream } from './toxics.ts';
export { realClock, FakeClock, type Clock } from './clock.ts';
export { partition, heal, listPartitions, dropTable, partitionCommands, tableScript, type PartitionSpec, type ActivePartitions } from './partition.ts';

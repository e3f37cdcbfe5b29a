export { LxcProvider, type LxcProviderOptions, type MachineRecord } from './lxc-provider.ts';
export { checkHost, ensureHostPackages, inspectHost, INSTALL_COMMAND, HOST_PACKAGES, type HostState } from './host.ts';
export { ensureImage, imageRootfs, IMAGE_VERSION, IMAGE_NAME, IMAGE_PACKAGES, type ImageOptions, type ImageResult } from './image.ts';
export { ensureBridge, deleteBridge, parseSubnet, pickAddress, type BridgeConfig, type Subnet } from './network.ts';
export { AptCache, type AptCacheOptions } from './apt-cache.ts';
export { parseConstraints, cgroupSettings, memoryResizeOrder, type Constraints } from './config.ts';

// Where overlay networks get their VNI: the cluster's allocator (global scope, in etcd), so every
// host puts a network on the same VXLAN segment.
export interface VniAllocator {
  /**
   * The network's VNI: `requested` when given and free (refused otherwise), else a free one.
   * Asking again for a network that has one returns it (a restart, a second host).
   */
  allocateVni(networkId: string, requested?: number): Promise<number>;
  /** Frees the network's VNI; a network without one is not an error. */
  releaseVni(networkId: string): Promise<void>;
}

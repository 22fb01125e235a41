// Where overlay networks get their VNI: the cluster's allocator (src/ipam/vni.ts, in etcd), so
// every host puts a network on the same VXLAN segment; shaped so that class fits it as it is.
export interface VniAllocator {
  /**
   * The network's VNI: `requested` when given and free (refused otherwise), else a free one.
   * Asking again for a network that has one returns it (a restart, a second host).
   */
  allocate(networkId: string, requested?: number): Promise<number>;
  /** Frees the network's VNI; one it does not hold is not an error. */
  release(vni: number, networkId: string): Promise<void>;
}

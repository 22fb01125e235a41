// rtnetlink numbers, from linux/netlink.h, rtnetlink.h, if_link.h, if_addr.h, neighbour.h.

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3 } as const;

export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  /** On NLMSG_ERROR: the original request was not echoed in full. */
  CAPPED: 0x100,
  /** On NLMSG_ERROR: extended-ack attributes follow. */
  ACK_TLVS: 0x200,
} as const;

export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2 } as const;

export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
} as const;

export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10 } as const;

export const IFF_UP = 0x1;

export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  PROTINFO: 12,
  TXQLEN: 13,
  OPERSTATE: 16,
  LINKINFO: 18,
  IFALIAS: 20,
  AF_SPEC: 26,
  GROUP: 27,
  NET_NS_FD: 28,
  EXT_MASK: 29,
  NUM_TX_QUEUES: 31,
  NUM_RX_QUEUES: 32,
  LINK_NETNSID: 37,
} as const;

export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
/** IPv6 per-link settings, nested as AF_INET6 in IFLA_AF_SPEC. */
export const IFLA_INET6_ADDR_GEN_MODE = 8;
/** enum in6_addr_gen_mode. */
export const ADDR_GEN_MODE = { eui64: 0, none: 1, 'stable-privacy': 2, random: 3 } as const;
export const VETH_INFO_PEER = 1;
/** Bridge port attributes, nested in IFLA_PROTINFO of an AF_BRIDGE message. */
export const IFLA_BRPORT = { MODE: 4, LEARNING: 8, UNICAST_FLOOD: 9 } as const;
export const IFLA_BR = { FORWARD_DELAY: 1, AGEING_TIME: 4, STP_STATE: 5, VLAN_FILTERING: 7 } as const;
export const IFLA_VXLAN = {
  ID: 1,
  GROUP: 2,
  LINK: 3,
  LOCAL: 4,
  TTL: 5,
  LEARNING: 7,
  PROXY: 11,
  L2MISS: 13,
  L3MISS: 14,
  PORT: 15,
  GROUP6: 16,
  LOCAL6: 17,
  UDP_CSUM: 18,
} as const;
export const IFLA_MACVLAN_MODE = 1;
export const IFLA_VLAN_ID = 1;
export const MACVLAN_MODE = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;

/** RTEXT_FILTER_SKIP_STATS: dumps without per-VF statistics are smaller and faster. */
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8, PROTO: 11 } as const;
export const IFA_F_NODAD = 0x02;

export const RTA = { DST: 1, SRC: 2, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, TABLE: 15 } as const;
export const RT_TABLE = { UNSPEC: 0, MAIN: 254, LOCAL: 255 } as const;
export const RT_SCOPE = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export const RTPROT = { unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4 } as const;
export const RTN = { UNSPEC: 0, UNICAST: 1, LOCAL: 2, BROADCAST: 3, ANYCAST: 4, MULTICAST: 5 } as const;

export const NDA = { DST: 1, LLADDR: 2, VLAN: 5, PORT: 6, VNI: 7, IFINDEX: 8, MASTER: 9 } as const;
export const NUD = {
  incomplete: 0x01,
  reachable: 0x02,
  stale: 0x04,
  delay: 0x08,
  probe: 0x10,
  failed: 0x20,
  noarp: 0x40,
  permanent: 0x80,
} as const;
export const NTF = { USE: 0x01, SELF: 0x02, MASTER: 0x04, PROXY: 0x08, EXT_LEARNED: 0x10, ROUTER: 0x80 } as const;

/** IF_OPER_* (RFC 2863 operational states). */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

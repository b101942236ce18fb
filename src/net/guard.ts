/**
 * Outbound HTTP to an address a tenant chose (webhooks) must not reach the server's own network:
 * loopback, private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast,
 * documentation and other reserved ranges, in IPv4 and IPv6 (IPv4-mapped, NAT64 and 6to4 addresses
 * are judged by the IPv4 address they carry). The check is made on the address the name resolves
 * to at send time, and the connection goes to that checked address (the lookup given to
 * http.request returns only it), so a DNS answer that changes between check and connect (DNS
 * rebinding) cannot move the request. The operator may allow networks
 * (RELANCE_WEBHOOK_ALLOW_NETWORKS=10.1.0.0/16,fd00:1::/64), e.g. a receiver on the same LAN.
 *
 * Failures are told in classes (refused target, no connection or no answer, HTTP status), never
 * with the socket's own words: "ECONNREFUSED 10.0.0.5:22" against a timeout would tell open ports
 * from closed ones.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('net-guard', {
  refused_target: {
    fr: "l’adresse {host} n’est pas autorisée : elle désigne un réseau local, privé ou réservé (RELANCE_WEBHOOK_ALLOW_NETWORKS permet à l’exploitant d’en autoriser un)",
    en: "the address {host} is not allowed: it is a loopback, private, link-local or reserved network (RELANCE_WEBHOOK_ALLOW_NETWORKS lets the operator allow one)",
  },
  bad_network: { fr: "RELANCE_WEBHOOK_ALLOW_NETWORKS : « {value} » n’est ni une adresse IP ni un réseau (10.1.0.0/16)", en: "RELANCE_WEBHOOK_ALLOW_NETWORKS: \"{value}\" is neither an IP address nor a network (10.1.0.0/16)" },
});

/** Why an address is refused (the class only), null when it may be reached. */
export type Refusal = 'loopback' | 'private' | 'link-local' | 'cgnat' | 'multicast' | 'reserved' | 'unspecified';

const V4: [string, number, Refusal][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: [string, number, Refusal][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'private'],
  ['100::', 64, 'reserved'],
  ['2001::', 32, 'reserved'], // Teredo
  ['2001:db8::', 32, 'reserved'],
  ['fc00::', 7, 'private'], // unique local, AWS's fd00:ec2::254 metadata among them
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'multicast'],
];

const lists = new Map<Refusal, BlockList>();
for (const [net, prefix, why] of [...V4.map((x) => [...x, 'ipv4'] as const), ...V6.map((x) => [...x, 'ipv6'] as const)]) {
  let b = lists.get(why);
  if (!b) lists.set(why, (b = new BlockList()));
  b.addSubnet(net, prefix, net.includes(':') ? 'ipv6' : 'ipv4');
}

/** The eight 16-bit groups of an IPv6 address. */
function hextets(a: string): number[] {
  let s = a.toLowerCase().split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    s = `${s.slice(0, -v4[1]!.length)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => Number.parseInt(x || '0', 16));
}

const v4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), if any. */
function embeddedV4(a: string): string | null {
  const h = hextets(a);
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) return v4Of(h[6]!, h[7]!); // ::ffff:a.b.c.d
  if (h.slice(0, 6).every((x) => x === 0) && (h[6] !== 0 || h[7]! > 1)) return v4Of(h[6]!, h[7]!); // ::a.b.c.d (deprecated)
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return v4Of(h[6]!, h[7]!); // NAT64
  if (h[0] === 0x2002) return v4Of(h[1]!, h[2]!); // 6to4
  return null;
}

/** Why `address` (an IP literal) may not be reached, or null. */
export function refusalOf(address: string): Refusal | null {
  const family = isIP(address);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const inner = embeddedV4(address);
    if (inner) return refusalOf(inner);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [why, list] of lists) if (list.check(address, type)) return why;
  return null;
}

export interface NetworkPolicy {
  /** Networks the operator allows although they are refused by default. */
  allow: BlockList | null;
}

/** The default: every reserved range refused. */
export const STRICT_POLICY: NetworkPolicy = { allow: null };

/** "10.1.0.0/16, 192.168.1.20, fd00:1::/64" → a policy allowing those networks. */
export function networkPolicy(spec: string | undefined): NetworkPolicy {
  if (!spec?.trim()) return STRICT_POLICY;
  const allow = new BlockList();
  for (const part of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [net, prefix] = part.split('/');
    const family = isIP(net ?? '');
    const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw new RelanceError(ERROR_CODES.CONFIG, E('bad_network', { value: part }), { where: { field: 'RELANCE_WEBHOOK_ALLOW_NETWORKS' } });
    }
    allow.addSubnet(net!, bits, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { allow };
}

function allowed(address: string, policy: NetworkPolicy): boolean {
  if (refusalOf(address) === null) return true;
  if (!policy.allow) return false;
  const inner = isIP(address) === 6 ? embeddedV4(address) : null;
  return inner ? policy.allow.check(inner, 'ipv4') : policy.allow.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

const hostOf = (u: URL) => u.hostname.replace(/^\[|\]$/g, '');

function lookupAll(host: string, timeoutMs: number): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error('lookup timeout'), { code: 'ETIMEOUT' })), timeoutMs);
    dnsLookup(host, { all: true }, (err, addresses) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(addresses);
    });
  });
}

/**
 * When a URL is saved: an IP literal or a name resolving (now) to a refused address is refused with
 * 'validation' on `field`. A name that does not resolve yet is accepted: it is checked again at
 * every send.
 */
export async function checkUrlTarget(url: URL, policy: NetworkPolicy, field = 'url'): Promise<void> {
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookupAll(host, 3000)).map((a) => a.address);
    } catch {
      return;
    }
  }
  if (addresses.some((a) => !allowed(a, policy))) throw validation(E('refused_target', { host }), { field });
}

/** A send that did not reach a receiver, in a class that says nothing about the target's sockets. */
export class OutboundRefused extends Error {
  constructor(readonly kind: 'refused_target' | 'unreachable') {
    super(kind === 'refused_target' ? 'not sent: the address is a loopback, private, link-local or reserved network' : 'could not deliver: no connection to the receiver or no answer in time');
  }
}

/**
 * POSTs `body` to `url` through the guard: the name is resolved once, every address it gives must
 * be allowed, and the socket connects to the first of them (TLS still checks the certificate
 * against the name). Redirects are not followed. Resolves with the status code; rejects with
 * OutboundRefused only.
 */
export function guardedPost(url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number; policy: NetworkPolicy }): Promise<number> {
  const u = new URL(url);
  const host = hostOf(u);
  if (isIP(host) && !allowed(host, init.policy)) return Promise.reject(new OutboundRefused('refused_target'));
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    let refused = false;
    const lookup = (hostname: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
      lookupAll(hostname, init.timeoutMs).then(
        (addresses) => {
          if (addresses.length === 0 || addresses.some((a) => !allowed(a.address, init.policy))) {
            refused = true;
            cb(Object.assign(new Error('refused target'), { code: 'EREFUSEDTARGET' }));
            return;
          }
          const first = addresses[0]!;
          if (options.all) cb(null, [first]);
          else cb(null, first.address, first.family);
        },
        (err: Error) => cb(err),
      );
    };
    const req = request(
      u,
      {
        method: 'POST',
        headers: { ...init.headers, 'content-length': Buffer.byteLength(init.body) },
        lookup: lookup as never,
        timeout: init.timeoutMs,
        // One request, one connection: nothing pooled keeps a checked address for another host.
        agent: false,
      },
      (res: IncomingMessage) => {
        res.resume();
        res.on('error', () => {});
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    const deadline = setTimeout(() => req.destroy(Object.assign(new Error('deadline'), { code: 'ETIMEDOUT' })), init.timeoutMs);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', () => {
      clearTimeout(deadline);
      // Refused, reset, unknown name, TLS, timeout: one class (a refused port must not look unlike a silent one).
      reject(new OutboundRefused(refused ? 'refused_target' : 'unreachable'));
    });
    req.on('close', () => clearTimeout(deadline));
    req.end(init.body);
  });
}

// etcd leases by id, on whichever member's client an attempt runs (leases
// are cluster-wide): granted, refreshed once on demand (no keep-alive stream
// or timer that would keep a finished command's process open), revoked.

import { castGrpcError, type Etcd3 } from 'etcd3';

/** Refreshes a lease once; false when etcd no longer has it (expired or revoked). */
export async function keepLeaseAlive(client: Etcd3, id: string): Promise<boolean> {
  const stream = await client.leaseClient.leaseKeepAlive();
  let answered = false;
  try {
    const ttl = await new Promise<string>((resolve, reject) => {
      stream.on('data', (reply) => resolve(reply.TTL));
      stream.on('error', (err) => reject(castGrpcError(err)));
      stream.write({ ID: id });
    });
    answered = true;
    return Number(ttl) > 0;
  } finally {
    if (answered) stream.end();
    else stream.cancel();
  }
}

export async function grantLease(client: Etcd3, ttlSeconds: number): Promise<string> {
  return (await client.leaseClient.leaseGrant({ TTL: ttlSeconds })).ID;
}

/** Revokes a lease in the background; revoking deletes its keys, so only ever one that holds no key of ours. */
export function dropLease(client: Etcd3, id: string): void {
  client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
}

import { z } from "zod";

// The node's own view of its chain, from its RPC `/v2/info`: how far behind we are, and which block
// it holds as its tip (see node-tip-follower.ts).
const infoSchema = z.looseObject({
  stacks_tip_height: z.number().int(),
  burn_block_height: z.number().int(),
  stacks_tip: z.string().optional(),
  stacks_tip_consensus_hash: z.string().optional(),
});

export type NodeInfo = z.infer<typeof infoSchema>;

export type NodeStatus =
  | { reachable: true; stacksTipHeight: number; burnBlockHeight: number; blocksBehind: number | null }
  | { reachable: false; error: string };

/** GET /v2/info; throws with a short message when the node does not answer or answers something else. */
export async function fetchNodeInfo(rpcUrl: string, timeoutMs = 1000): Promise<NodeInfo> {
  const res = await fetch(`${rpcUrl.replace(/\/$/, "")}/v2/info`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET /v2/info answered ${res.status}`);
  return infoSchema.parse(await res.json());
}

export async function nodeStatus(rpcUrl: string, indexedHeight: number | null, timeoutMs = 1000): Promise<NodeStatus> {
  try {
    const info = await fetchNodeInfo(rpcUrl, timeoutMs);
    return {
      reachable: true,
      stacksTipHeight: info.stacks_tip_height,
      burnBlockHeight: info.burn_block_height,
      blocksBehind: indexedHeight === null ? null : Math.max(0, info.stacks_tip_height - indexedHeight),
    };
  } catch (err) {
    return { reachable: false, error: (err as Error).message };
  }
}

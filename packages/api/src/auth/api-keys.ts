import type { Sql } from "@second-layer/shared/db/connect";

// API keys look like `sk_live_<32 base62 characters>` (~190 random bits). Only their SHA-256 is kept,
// with the first characters as a prefix so a person can tell keys apart; a key is shown once.

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY_CHARS = 32;

export function generateApiKey(): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  const out: string[] = [];
  while (out.length < KEY_CHARS) {
    for (const byte of crypto.getRandomValues(new Uint8Array(64))) {
      if (byte < 248 && out.length < KEY_CHARS) out.push(ALPHABET[byte % 62] as string);
    }
  }
  return `sk_live_${out.join("")}`;
}

export function hashApiKey(key: string): string {
  return new Bun.CryptoHasher("sha256").update(key).digest("hex");
}

function prefixOf(key: string): string {
  return key.slice(0, 12);
}

export interface KeyView {
  id: string;
  accountId: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface KeyRow {
  id: string;
  account_id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function keyView(r: KeyRow): KeyView {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    prefix: r.prefix,
    createdAt: r.created_at.toISOString(),
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    revokedAt: r.revoked_at?.toISOString() ?? null,
  };
}

export interface AccountView {
  id: string;
  name: string;
  isAdmin: boolean;
  createdAt: string;
}

export async function createAccount(sql: Sql, name: string, isAdmin: boolean): Promise<AccountView> {
  const [row] = await sql<{ id: string; name: string; is_admin: boolean; created_at: Date }[]>`
    insert into accounts (name, is_admin) values (${name}, ${isAdmin}) returning id, name, is_admin, created_at`;
  if (!row) throw new Error("account insert returned no row");
  return { id: row.id, name: row.name, isAdmin: row.is_admin, createdAt: row.created_at.toISOString() };
}

export async function accountExists(sql: Sql, id: string): Promise<boolean> {
  const [row] = await sql`select 1 from accounts where id = ${id}`;
  return row !== undefined;
}

/** A new key for an account; the key itself is returned here and never again. */
export async function createApiKey(sql: Sql, accountId: string, name: string, key = generateApiKey()) {
  const [row] = await sql<KeyRow[]>`
    insert into api_keys (account_id, name, prefix, key_hash)
    values (${accountId}, ${name}, ${prefixOf(key)}, ${hashApiKey(key)})
    returning id, account_id, name, prefix, created_at, last_used_at, revoked_at`;
  if (!row) throw new Error("key insert returned no row");
  return { key, view: keyView(row) };
}

export async function listApiKeys(sql: Sql, accountId: string): Promise<KeyView[]> {
  const rows = await sql<KeyRow[]>`
    select id, account_id, name, prefix, created_at, last_used_at, revoked_at from api_keys
    where account_id = ${accountId} order by created_at, id`;
  return rows.map(keyView);
}

/** Revokes a key; `accountId` null lets an admin revoke any. False when there is no such (live) key. */
export async function revokeApiKey(sql: Sql, accountId: string | null, id: string): Promise<boolean> {
  const res = await sql`
    update api_keys set revoked_at = now()
    where id = ${id} and revoked_at is null and (${accountId}::uuid is null or account_id = ${accountId}::uuid)`;
  return res.count > 0;
}

export interface Caller {
  keyId: string;
  accountId: string;
  isAdmin: boolean;
}

export async function findCaller(sql: Sql, key: string): Promise<Caller | null> {
  const [row] = await sql<{ id: string; account_id: string; is_admin: boolean }[]>`
    select k.id, k.account_id, a.is_admin from api_keys k join accounts a on a.id = k.account_id
    where k.key_hash = ${hashApiKey(key)} and k.revoked_at is null`;
  return row ? { keyId: row.id, accountId: row.account_id, isAdmin: row.is_admin } : null;
}

/** Whether a key (by id) still works: long-lived streams ask now and then. */
export async function keyIsActive(sql: Sql, keyId: string): Promise<boolean> {
  const [row] = await sql`select 1 from api_keys where id = ${keyId} and revoked_at is null`;
  return row !== undefined;
}

/** API_BOOTSTRAP_KEY: after this, an admin account holds that key (created on first start, kept after). */
export async function ensureBootstrapKey(sql: Sql, key: string): Promise<void> {
  const [existing] = await sql`select 1 from api_keys where key_hash = ${hashApiKey(key)}`;
  if (existing) {
    await sql`
      update accounts set is_admin = true
      where id = (select account_id from api_keys where key_hash = ${hashApiKey(key)})`;
    await sql`update api_keys set revoked_at = null where key_hash = ${hashApiKey(key)}`;
    return;
  }
  const account = await createAccount(sql, "admin", true);
  await createApiKey(sql, account.id, "bootstrap (API_BOOTSTRAP_KEY)", key);
}

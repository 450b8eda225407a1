-- Signed checkpoints of the pruned audit log (`[retention] audit_days`). Pruning deletes
-- the oldest rows of the hash chain and, in the same transaction, records the head it
-- pruned: the last pruned row's seq and hash, how many rows, and when. The Ed25519
-- signature (key in <data-dir>/keys/audit.key) covers those fields, so verification
-- starts from the newest checkpoint instead of the genesis hash. Same portability rules
-- as 0001: BIGINT unix milliseconds, TEXT hex.

CREATE TABLE audit_checkpoints (
    -- 1, 2, 3, ...: each checkpoint follows the one before.
    id          BIGINT PRIMARY KEY,
    -- The pruned range: seq first_seq to last_seq of the audit log, inclusive.
    first_seq   BIGINT NOT NULL,
    last_seq    BIGINT NOT NULL,
    -- The hash of row last_seq: the row after it must name it as prev_hash.
    last_hash   TEXT NOT NULL,
    pruned_rows BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    -- Hex of the signing key's public half and of the signature.
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL
);

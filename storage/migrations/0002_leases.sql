-- Delivery leases (storage.pg_leases.PgLeases.claim): the replica that holds a conversation's row, until
-- its lease ends, is the only one that delivers that conversation's notices, so they leave in order and
-- once. A claim takes a free row (no holder alive: its lease ended) with SELECT ... FOR UPDATE SKIP
-- LOCKED, so replicas claiming at the same moment never wait on each other; a row another replica is
-- claiming right now is skipped, as one that is held. Duties (the readiness re-check, the clocks) are
-- not rows: each is a session advisory lock, which PostgreSQL releases when the holder's connection
-- ends, so a replica that dies hands its duties over at once.
CREATE TABLE delivery_leases (
    conversation_id text PRIMARY KEY,
    holder text NOT NULL,
    until timestamptz NOT NULL
);

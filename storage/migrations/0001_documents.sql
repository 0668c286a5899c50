-- The document tables of storage.postgres.PgStore, one per table the repositories write.
--
-- Each row is one document: its key, the document as JSON (NULL once deleted: a tombstone, so every
-- replica learns of the delete), the sequence number of the commit that last wrote it (from one global
-- sequence, store_seq), and the sequence number of the commit that created it (the store's insertion
-- order, which a replaced document keeps). The json type, not jsonb: documents come back exactly as
-- written, and nothing queries inside them.

CREATE SEQUENCE store_seq AS bigint;

CREATE TABLE store_tables (name text PRIMARY KEY);

CREATE FUNCTION store_create_table(name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TABLE %I (key text PRIMARY KEY, doc json, seq bigint NOT NULL, created bigint NOT NULL)', name
    );
    EXECUTE format('CREATE INDEX %I ON %I (seq)', name || '_seq', name);
    INSERT INTO store_tables VALUES (name);
END
$$;

SELECT store_create_table(name) FROM unnest(ARRAY[
    'packages', 'officers', 'ticket_events', 'incidents', 'ticket_states', 'derived', 'officer_figures',
    'conversations', 'welcomed', 'subscriptions', 'outbox', 'audit', 'readiness', 'clocks', 'bot_state'
]) AS name;

-- One write of one replica, as one transaction: the i-th op writes docs[i] (NULL: a delete) under keys[i]
-- in tables[i]. expected[i] is the seq the replica last saw for the key, or NULL when it saw none: then
-- the row is INSERTed, and the primary key refuses a second one (unique_violation, 23505). A row whose seq
-- is no longer the expected one refuses the write with SQLSTATE JB409; either way nothing of the write is
-- kept. The commit lock serializes commits across replicas, so sequence numbers become visible in the
-- order they were handed out: a reader that has seen seq N has seen every commit below N. before is the
-- last seq handed out when this commit took the lock; seqs are the ops' new seqs, in order. Listeners on
-- store_changes hear the last one. (The documents come as a json[] and are never taken apart here:
-- json's operators refuse a string holding \u0000, which the json type itself keeps.)
CREATE FUNCTION store_commit(
    tables text[], keys text[], expected bigint[], docs json[], OUT before bigint, OUT seqs bigint[]
) LANGUAGE plpgsql AS $$
DECLARE
    next bigint;
    changed integer;
BEGIN
    PERFORM pg_advisory_xact_lock(4849336401000001);
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO before FROM store_seq;
    seqs := '{}';
    FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
        next := nextval('store_seq');
        IF expected[i] IS NULL THEN
            EXECUTE format('INSERT INTO %I (key, doc, seq, created) VALUES ($1, $2, $3, $3)', tables[i])
                USING keys[i], docs[i], next;
        ELSE
            EXECUTE format(
                'UPDATE %I SET doc = $2, seq = $3, created = CASE WHEN doc IS NULL THEN $3 ELSE created END'
                ' WHERE key = $1 AND seq = $4', tables[i]
            ) USING keys[i], docs[i], next, expected[i];
            GET DIAGNOSTICS changed = ROW_COUNT;
            IF changed = 0 THEN
                RAISE EXCEPTION 'a document of % changed since this replica read it', tables[i]
                    USING ERRCODE = 'JB409';
            END IF;
        END IF;
        seqs := seqs || next;
    END LOOP;
    PERFORM pg_notify('store_changes', next::text);
END
$$;

-- GET /healthz writes here to learn whether the database takes writes now.
CREATE TABLE store_probe (id integer PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO store_probe VALUES (1, now());

-- A deleted document's row stays (doc NULL: the tombstone other replicas' catch-up reads to drop it),
-- but no replica needs to remember its version: archiving deletes most of the documents ever written,
-- and a version kept in memory for each would grow with the years. So a write that expects a key to
-- be absent now also succeeds over a tombstone (the key is absent), and still fails, as before, when
-- another replica holds a live document under it.
CREATE OR REPLACE FUNCTION store_commit(
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
            EXECUTE format(
                'INSERT INTO %I AS t (key, doc, seq, created) VALUES ($1, $2, $3, $3)'
                ' ON CONFLICT (key) DO UPDATE SET doc = EXCLUDED.doc, seq = EXCLUDED.seq, created = EXCLUDED.created'
                ' WHERE t.doc IS NULL', tables[i]
            ) USING keys[i], docs[i], next;
        ELSE
            EXECUTE format(
                'UPDATE %I SET doc = $2, seq = $3, created = CASE WHEN doc IS NULL THEN $3 ELSE created END'
                ' WHERE key = $1 AND seq = $4', tables[i]
            ) USING keys[i], docs[i], next, expected[i];
        END IF;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN
            RAISE EXCEPTION 'a document of % changed since this replica read it', tables[i]
                USING ERRCODE = 'JB409';
        END IF;
        seqs := seqs || next;
    END LOOP;
    PERFORM pg_notify('store_changes', next::text);
END
$$;

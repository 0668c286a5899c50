-- The archive of storage.postgres.PgStore (PgStore.archive): bundles of documents that left the working
-- set for good (a closed ticket of years ago, with its events) but stay readable on demand.
--
-- One row per bundle, by key: a key lives in one year only, so archiving it again, even under another
-- year, replaces its row. docs is the bundle's documents, table -> key -> document, as json (kept exactly
-- as written, as in the document tables). seq is the archive order, from its own sequence: a bundle
-- archived again moves to the end. archived_at is when the row was last written. Nothing here is loaded
-- into memory or notified: a replica reads the archive from the database when asked.

CREATE SEQUENCE store_archive_seq AS bigint;

CREATE TABLE store_archive (
    key text PRIMARY KEY,
    year integer NOT NULL,
    docs json NOT NULL,
    seq bigint NOT NULL DEFAULT nextval('store_archive_seq'),
    archived_at timestamptz NOT NULL DEFAULT now()
);

ALTER SEQUENCE store_archive_seq OWNED BY store_archive.seq;

-- archived(year) reads one year in archive order, a page at a time; archive_years() counts by year.
CREATE INDEX store_archive_year ON store_archive (year, seq);

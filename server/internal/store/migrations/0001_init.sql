-- server-audit-api schema, version 1.
--
-- Accounts own tokens and servers; a server's audits carry the results the agent sent; a
-- report is generated from them by the generate_report job. Deleting an account cascades to
-- everything it owns.

CREATE TABLE accounts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

-- A token's secret is never stored: secret_sha256 is the SHA-256 of the whole token string.
-- bound_ip is the only address the token may ingest from; NULL until the first ingest.
CREATE TABLE tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    secret_sha256 bytea       NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
    bound_ip      inet,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX tokens_account_idx ON tokens (account_id);

-- A server is identified by its account and the address it ingests from. The OS facts are
-- those of its latest audit.
CREATE TABLE servers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ip             inet        NOT NULL,
    os             text        NOT NULL,
    arch           text        NOT NULL DEFAULT '',
    distro         text        NOT NULL DEFAULT '',
    distro_version text        NOT NULL DEFAULT '',
    kernel         text        NOT NULL DEFAULT '',
    live           boolean     NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, ip)
);

-- The primary key is the agent's UUIDv7 audit id, which is also the Idempotency-Key.
-- body_sha256 is the SHA-256 of the decompressed request body: a retry with the same key
-- and the same body is answered from this row, a different body is a conflict.
-- account_id copies servers.account_id (the owner check of report reads needs no join);
-- it has no foreign key of its own because the server's cascades already remove the audit,
-- and a second key check would lock the account row on every upload of every server.
-- token_id records which token uploaded the audit; informational, not a foreign key.
CREATE TABLE audits (
    id             uuid PRIMARY KEY,
    server_id      bigint      NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    account_id     bigint      NOT NULL,
    token_id       bigint,
    received_at    timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz NOT NULL,
    duration_ms    bigint      NOT NULL CHECK (duration_ms >= 0),
    schema_version integer     NOT NULL,
    agent_version  text        NOT NULL,
    score          integer     NOT NULL CHECK (score BETWEEN 0 AND 100),
    grade          text        NOT NULL,
    dropped_facts  integer     NOT NULL CHECK (dropped_facts >= 0),
    os             text        NOT NULL,
    arch           text        NOT NULL DEFAULT '',
    distro         text        NOT NULL DEFAULT '',
    distro_version text        NOT NULL DEFAULT '',
    kernel         text        NOT NULL DEFAULT '',
    live           boolean     NOT NULL,
    body_sha256    bytea       NOT NULL CHECK (length(body_sha256) = 32)
);
CREATE INDEX audits_server_received_idx ON audits (server_id, received_at DESC, id DESC);

-- One row per check result, written with one binary COPY by the ingest transaction that
-- inserts the audit. Results are the bulk of every upload (about 120 rows each), so the
-- table carries as little per-row work as possible:
--   * no foreign key to audits (a per-row key check would cost as much as the copy itself);
--     the trigger below removes results with their audit;
--   * no CHECK constraints: status, severity, reason and facts are validated against the
--     catalog before the copy (report.Validate);
--   * no primary key: (audit_id, check_id) is unique because an audit's results are written
--     once, by the transaction that inserts the audit (whose id is unique), and
--     report.Validate rejects a payload naming a check twice. The one index serves the only
--     lookup, "the results of an audit"; its keys repeat about 120 times, which btree
--     deduplication stores once per leaf page. Measured: about 10 % more uploads per second
--     than a (audit_id, check_id) primary key on a 2-core machine (docs/benchmarks.md).
CREATE TABLE results (
    audit_id uuid NOT NULL,
    check_id text COLLATE "C" NOT NULL,
    status   text NOT NULL,
    severity text NOT NULL,
    reason   text,
    facts    jsonb
);
CREATE INDEX results_audit_idx ON results (audit_id);

CREATE FUNCTION audits_delete_results() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM results WHERE audit_id = OLD.id;
    RETURN OLD;
END;
$$;
CREATE TRIGGER audits_delete_results AFTER DELETE ON audits
    FOR EACH ROW EXECUTE FUNCTION audits_delete_results();

-- The generated report of an audit. No row yet means the job has not finished a first
-- attempt: the report is pending.
CREATE TABLE reports (
    audit_id     uuid PRIMARY KEY REFERENCES audits (id) ON DELETE CASCADE,
    status       text        NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    markdown     text,
    html         text,
    summary      jsonb,
    generated_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    error        text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

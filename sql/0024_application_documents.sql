-- An application's documents (issue 15): the scans and photos a front office attaches
-- (passport, SNILS, a medical report, income, the signed statement). The bytes are kept
-- here, in bytea, next to the application they belong to: one backup, one row-level
-- security, one transaction with the audit row. carefactd sniffs the type from the bytes
-- (PDF, JPEG, PNG only) and never serves a document inline; the checks below hold
-- whatever a client or a bug sends.

-- The caps of one document and of one application (carefactd's DOC_BYTES_MAX and
-- DOC_COUNT_MAX say the same; these are what the data keeps).
CREATE FUNCTION application_document_bytes_max() RETURNS integer
LANGUAGE sql IMMUTABLE AS 'SELECT 10485760'; -- 10 MiB
CREATE FUNCTION application_documents_max() RETURNS integer
LANGUAGE sql IMMUTABLE AS 'SELECT 20';

CREATE TABLE application_documents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid NOT NULL REFERENCES applications,
    kind text NOT NULL
        CHECK (kind IN ('passport', 'snils', 'medical', 'income', 'statement', 'other')),
    -- as the uploader named it (shown, and offered as the download's name): no control
    -- character, no path
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200
                                   AND file_name !~ '[\x01-\x1f\x7f/\\]'),
    -- as sniffed from the bytes, never as declared
    media_type text NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size integer NOT NULL CHECK (size BETWEEN 1 AND application_document_bytes_max()),
    sha256 bytea NOT NULL CHECK (length(sha256) = 32),
    content bytea NOT NULL,
    uploaded_by text NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT application_documents_size CHECK (octet_length(content) = size),
    CONSTRAINT application_documents_digest CHECK (sha256 = sha256(content)),
    -- the same file twice on one application is one document
    CONSTRAINT application_documents_once UNIQUE (application_id, sha256)
);
-- PDF, JPEG and PNG are compressed already: stored out of line without a second try.
ALTER TABLE application_documents ALTER COLUMN content SET STORAGE EXTERNAL;

-- Visible through the application (as its journal): another office's application, and
-- so its documents, is not there; an insert for an application the caller cannot see
-- fails the policy.
ALTER TABLE application_documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_application ON application_documents
    USING (EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id));
GRANT SELECT, INSERT, DELETE ON application_documents TO carefact_app;

-- The count cap, whoever inserts: the application's row is locked first, so two uploads
-- at once cannot both take the last place.
CREATE FUNCTION application_documents_cap() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM applications WHERE id = NEW.application_id FOR UPDATE;
    IF (SELECT count(*) FROM application_documents WHERE application_id = NEW.application_id)
       >= application_documents_max() THEN
        RAISE EXCEPTION 'an application holds at most % documents', application_documents_max()
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER application_documents_cap BEFORE INSERT ON application_documents
    FOR EACH ROW EXECUTE FUNCTION application_documents_cap();

-- Documents may be attached until the application is decided or withdrawn, and removed
-- only while the front office still forms it (draft, or returned for rework): once
-- submitted, what was handed in stays on record.
CREATE FUNCTION application_documents_open(p_state text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_state NOT IN ('approved', 'refused', 'withdrawn')
$$;
CREATE FUNCTION application_documents_removable(p_state text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_state IN ('draft', 'returned')
$$;

-- Attach a document: the outcome ('added', 'existing': the same bytes were attached
-- before and that document is the answer, 'not_found', 'closed', 'full') and the
-- document's id. The application's row is locked, so the duplicate and count checks
-- and the insert are one decision.
CREATE FUNCTION application_document_add(p_app uuid, p_kind text, p_name text, p_type text,
                                         p_content bytea, p_actor text,
                                         OUT outcome text, OUT document_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_digest bytea := sha256(p_content);
BEGIN
    SELECT state INTO v_state FROM applications WHERE id = p_app FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT id INTO document_id FROM application_documents
    WHERE application_id = p_app AND sha256 = v_digest;
    IF FOUND THEN
        outcome := 'existing';
        RETURN;
    END IF;
    IF NOT application_documents_open(v_state) THEN
        outcome := 'closed';
        RETURN;
    END IF;
    IF (SELECT count(*) FROM application_documents WHERE application_id = p_app)
       >= application_documents_max() THEN
        outcome := 'full';
        RETURN;
    END IF;
    INSERT INTO application_documents (application_id, kind, file_name, media_type, size,
                                       sha256, content, uploaded_by)
    VALUES (p_app, p_kind, p_name, p_type, octet_length(p_content), v_digest, p_content,
            p_actor)
    RETURNING id INTO document_id;
    outcome := 'added';
END
$$;

-- Remove a document: 'removed', 'not_found' (no such document of an application the
-- caller sees) or 'locked' (the application is past draft or returned).
CREATE FUNCTION application_document_remove(p_app uuid, p_doc uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
BEGIN
    SELECT state INTO v_state FROM applications WHERE id = p_app FOR UPDATE;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM application_documents
                                WHERE id = p_doc AND application_id = p_app) THEN
        RETURN 'not_found';
    END IF;
    IF NOT application_documents_removable(v_state) THEN
        RETURN 'locked';
    END IF;
    DELETE FROM application_documents WHERE id = p_doc AND application_id = p_app;
    RETURN 'removed';
END
$$;

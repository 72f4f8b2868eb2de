-- An application's documents and its printable form (documents.c). The rules — caps,
-- the duplicate, when a document may be added or removed, who sees it — are in
-- sql/0024_application_documents.sql.

-- fragment: document_json
-- One document d (without its bytes) as a JSON object.
json_build_object('id', d.id, 'application_id', d.application_id, 'kind', d.kind,
                  'file_name', d.file_name, 'media_type', d.media_type, 'size', d.size,
                  'sha256', encode(d.sha256, 'hex'), 'uploaded_by', d.uploaded_by,
                  'uploaded_at', d.uploaded_at)

-- name: document_add
-- $1 application, $2 kind, $3 file name, $4 media type as sniffed, $5 the bytes (binary),
-- $6 who: application_document_add's outcome and the document's id ('' if none).
SELECT r.outcome, coalesce(r.document_id::text, '')
FROM application_document_add($1::uuid, $2, $3, $4, $5::bytea, $6) r

-- name: document_get_json
-- $1 document: its JSON, or no row.
SELECT {{document_json}}::text FROM application_documents d WHERE d.id = $1::uuid

-- name: document_list
-- $1 application: whether the caller sees it, and its documents, oldest first.
SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1::uuid),
       json_build_object('items', coalesce(json_agg({{document_json}}
                                                    ORDER BY d.uploaded_at, d.id), '[]'))::text
FROM application_documents d WHERE d.application_id = $1::uuid

-- name: document_content
-- $1 application, $2 document (results in binary): the name, the media type and the bytes,
-- or no row.
SELECT d.file_name, d.media_type, d.content
FROM application_documents d WHERE d.id = $2::uuid AND d.application_id = $1::uuid

-- name: document_remove
-- $1 application, $2 document: application_document_remove's outcome.
SELECT application_document_remove($1::uuid, $2::uuid)

-- name: application_form
-- $1 application: what the printable form shows, as text columns in this order —
-- number, state, applicant's name, birth date (DD.MM.YYYY), phone, address,
-- representative, relation, category, purpose, details, consent date (DD.MM.YYYY, the
-- region's local date), office's name, office's address, channel; or no row.
SELECT a.number, a.state, a.applicant_name, to_char(a.applicant_birth, 'DD.MM.YYYY'),
       a.applicant_phone, a.applicant_address, a.representative_name,
       a.representative_relation, a.category, a.purpose, a.details,
       to_char(a.consent_at AT TIME ZONE r.timezone, 'DD.MM.YYYY'), o.name,
       coalesce(o.address, ''), a.channel
FROM applications a JOIN offices o ON o.id = a.office_id JOIN regions r ON r.id = a.region_id
WHERE a.id = $1::uuid

-- name: application_form_documents
-- $1 application: its documents for the form (kind, name, size), oldest first.
SELECT d.kind, d.file_name, d.size::text
FROM application_documents d WHERE d.application_id = $1::uuid ORDER BY d.uploaded_at, d.id

-- The webhook sender's queries (sender.c). Embedded at build time (tools/sql_embed.c).
-- The rules (which delivery is due, the back-off, when a subscription is disabled) are
-- SQL functions of sql/0016_changes_webhooks.sql.

-- name: scope
-- Every provider's and every office's: the sender reads every change and records the
-- answers that come back in replies (sql/0023).
SELECT set_config('carefact.provider', '*', false), set_config('carefact.office', '*', false)

-- name: claim
-- $1 how many, $2 the lease in ms: due deliveries, leased to this sender.
SELECT delivery_id, subscription_id, url, secret, body FROM webhook_claim($1::int, $2::bigint)

-- name: record
-- $1 delivery, $2 delivered, $3 HTTP status or NULL, $4 error or NULL, $5 ms taken,
-- $6 back-off base ms, $7 back-off cap ms, $8 failures before disabling.
SELECT webhook_record($1::uuid, $2::boolean, $3::int, $4, $5::int, $6::bigint, $7::bigint,
                      $8::int)

-- name: release
-- $1 delivery: not attempted in this round (its subscription just failed): free at once.
UPDATE webhook_deliveries SET leased_until = NULL WHERE id = $1::uuid AND status = 'pending'

-- name: answer_reply
-- $1 delivery, $2 outcome, $3 reference, $4 note: the answer a receiver put in its reply.
SELECT application_answer_reply($1::uuid, $2, $3, $4)

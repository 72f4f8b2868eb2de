-- The outbox sender's queries (outbox.c). The table and who writes it: sql/0021.

-- name: outbox_claim
-- $1 how many: the due messages, oldest first, locked for this transaction (others skip
-- them).
SELECT id, phone, body FROM outbox
WHERE state = 'pending' AND next_attempt_at <= now()
ORDER BY next_attempt_at, id LIMIT $1::int
FOR UPDATE SKIP LOCKED

-- name: outbox_sent
-- $1 message: taken by the gateway.
UPDATE outbox SET state = 'sent', sent_at = now(), attempts = attempts + 1, last_error = ''
WHERE id = $1::bigint

-- name: outbox_retry
-- $1 message, $2 why it was not taken: try again later (30 s, doubling, at most 1 h);
-- failed after 10 attempts.
UPDATE outbox SET attempts = attempts + 1, last_error = left($2, 500),
    next_attempt_at = now() + least(interval '1 hour', interval '30 seconds' * 2 ^ attempts),
    state = CASE WHEN attempts + 1 >= 10 THEN 'failed' ELSE 'pending' END
WHERE id = $1::bigint

-- name: outbox_remind
-- The reminders due now (appointment_remind): how many were written.
SELECT appointment_remind(now())
